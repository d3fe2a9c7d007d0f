"""AuditEvent: one row per write, never updated or deleted (ADR 0204)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class Action:
    """What a write did to its target."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


ACTION_CHOICES = [
    (Action.CREATE, _("created")),
    (Action.UPDATE, _("changed")),
    (Action.DELETE, _("deleted")),
]


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Refuses bulk updates and deletes; the database triggers refuse raw SQL too."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One audited write: actor, center, action, target, before/after of the changed fields,
    and the reason given.

    ``target_type`` is the model label (``registry.patient``) and ``target_id`` its primary
    key, kept as plain values so the history outlives the row it describes. ``before`` and
    ``after`` hold JSON values of only the fields that changed (all fields on create and
    delete).
    """

    occurred_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    center = models.ForeignKey(
        "accounts.Center",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("center"),
    )
    action = models.CharField(_("action"), max_length=10, choices=ACTION_CHOICES)
    target_type = models.CharField(_("record type"), max_length=100)
    target_id = models.CharField(_("record ID"), max_length=64)
    before = models.JSONField(_("before"), default=dict, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), default=dict, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("occurred_at", "pk")
        indexes = (models.Index(fields=["target_type", "target_id"], name="audit_target"),)

    def __str__(self) -> str:
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: saving an event that is already stored is refused."""
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Always refused."""
        raise AppendOnlyError("audit events cannot be deleted")
