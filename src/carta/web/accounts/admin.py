"""Centers and memberships in the Django admin: read-only, scoped to the user's centers.

Creating centers and granting roles go through :mod:`carta.web.accounts.services` (audited);
the views for that come with the registry's user interface.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from carta.web.accounts import access
from carta.web.accounts.models import Center, Membership


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    """Rows of the centers the user may view; nothing can be added, changed or deleted."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return access.restrict(super().get_queryset(request), request.user, "view")

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


@admin.register(Center)
class CenterAdmin(ReadOnlyScopedAdmin):
    """The network's centers."""

    list_display = ("code", "name", "name_zh", "city", "country", "is_synthetic")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyScopedAdmin):
    """Who holds which role where."""

    list_display = ("user", "center", "role", "created_at")
    list_filter = ("role", "center")
    list_select_related = ("user", "center")
