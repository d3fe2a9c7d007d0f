"""Writing audit events, called by every service inside its transaction (ADR 0204)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from carta.web.audit.models import AuditEvent


def json_value(value: Any) -> Any:
    """``value`` as it reads back from a JSON column (dates as ISO text, Decimals as text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The JSON values of ``names`` on ``instance``; a foreign key is stored as its key."""
    values: dict[str, Any] = {}
    for name in names:
        field = instance._meta.get_field(name)
        values[name] = json_value(getattr(instance, field.attname))
    return values


def audited_fields(model: type[models.Model]) -> list[str]:
    """The fields an audit event records: every concrete field but the key and timestamps."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if not field.primary_key
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
    ]


def difference(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before and after values of only the keys whose values differ."""
    changed = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in changed}, {key: after[key] for key in changed}


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    center_id: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reason: str = "",
) -> AuditEvent:
    """Insert one audit event for ``target``; must run inside the service's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events are written inside the service's transaction")
    return AuditEvent.objects.create(
        actor=actor,
        center_id=center_id,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=json_value(dict(before)),
        after=json_value(dict(after)),
        reason=reason or "",
    )
