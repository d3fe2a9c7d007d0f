"""Reading the audit trail, scoped like every other read."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q, QuerySet

from carta.web.accounts import access
from carta.web.audit.models import AuditEvent

# Events whose before/after hold identifying fields: shown only to users who may identify.
IDENTIFYING_TARGETS = frozenset({"registry.patientidentity"})


def visible_events(user: Any) -> QuerySet[AuditEvent]:
    """The events of centers ``user`` may view, less identifying ones they may not see."""
    events = access.restrict(AuditEvent.objects.all(), user, "view")
    identifying = Q(target_type__in=IDENTIFYING_TARGETS)
    allowed = access.restrict(AuditEvent.objects.filter(identifying), user, "identify")
    return events.exclude(identifying & ~Q(pk__in=allowed.values("pk")))


def history(user: Any, record: models.Model) -> QuerySet[AuditEvent]:
    """The events of one record, oldest first, as ``user`` may see them."""
    return visible_events(user).filter(
        target_type=record._meta.label_lower, target_id=str(record.pk)
    )
