"""Read-only audit trail in the Django admin, scoped to the user's centers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from carta.web.audit import selectors
from carta.web.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Events can be read and filtered, never added, changed or deleted."""

    list_display = ("occurred_at", "actor", "center", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("target_id", "reason")
    list_select_related = ("actor", "center")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        """Only the events the user may see (their centers; identifying ones if allowed)."""
        return selectors.visible_events(request.user).select_related("actor", "center")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
