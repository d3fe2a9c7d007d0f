"""Writes to centers, memberships and users' preferences, audited like every other write
(ADR 0201).

Network administrators create centers and grant network roles; a center's administrators
(and network administrators) grant and revoke that center's memberships. Users change their
own preferences (the interface language, ADR 0240).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from carta.web.accounts import access
from carta.web.accounts.models import Center, Membership, Preference
from carta.web.accounts.roles import Role
from carta.web.audit import writer
from carta.web.audit.models import Action


def _validated(instance: Any) -> None:
    """Field errors by field; constraint errors under the field to fix."""
    try:
        instance.full_clean(validate_constraints=False)
        instance.validate_constraints()
    except ValidationError as error:
        raise ValidationError(_file_constraint_errors(error)) from error


def _file_constraint_errors(error: ValidationError) -> dict[str, list[Any]]:
    errors = dict(error.message_dict)
    misplaced = errors.pop("__all__", None)
    if misplaced:
        errors.setdefault("center", []).extend(misplaced)
    return errors


def create_center(
    *,
    actor: Any,
    code: str,
    name: str,
    country: str,
    city: str,
    name_zh: str = "",
    is_synthetic: bool = False,
) -> Center:
    """Add a center to the network (network administrators only)."""
    access.require_center(actor, None, "manage")
    center = Center(
        code=code, name=name, name_zh=name_zh, country=country, city=city, is_synthetic=is_synthetic
    )
    _validated(center)
    with transaction.atomic():
        center.save()
        after = writer.snapshot(center, writer.audited_fields(Center))
        writer.record(
            actor=actor,
            action=Action.CREATE,
            target=center,
            center_id=center.pk,
            before={},
            after=after,
        )
    return center


def grant_membership(
    *, actor: Any, user: Any, center: Center | None, role: str, reason: str = ""
) -> Membership:
    """Give ``user`` ``role`` at ``center`` (``None`` with the network administrator role);
    an existing membership at that center changes role."""
    access.require_center(actor, center, "manage")
    if role == Role.NETWORK_ADMIN:
        access.require_center(actor, None, "manage")
    with transaction.atomic():
        existing = Membership.objects.select_for_update().filter(user=user, center=center).first()
        membership = existing or Membership(user=user, center=center)
        fields = writer.audited_fields(Membership)
        before = writer.snapshot(membership, fields) if existing else {}
        membership.role = role
        _validated(membership)
        membership.save()
        after = writer.snapshot(membership, fields)
        old, new = writer.difference(before, after) if existing else ({}, after)
        if new:
            writer.record(
                actor=actor,
                action=Action.UPDATE if existing else Action.CREATE,
                target=membership,
                center_id=membership.center_id,
                before=old,
                after=new,
                reason=reason,
            )
    return membership


def revoke_membership(*, actor: Any, membership: Membership, reason: str = "") -> None:
    """Remove a membership (the user keeps their account and their audit history)."""
    access.require_center(actor, membership.center, "manage")
    with transaction.atomic():
        before = writer.snapshot(membership, writer.audited_fields(Membership))
        writer.record(
            actor=actor,
            action=Action.DELETE,
            target=membership,
            center_id=membership.center_id,
            before=before,
            after={},
            reason=reason,
        )
        membership.delete()


def saved_language(user: Any) -> str:
    """The language ``user`` chose ("" when none, or for an anonymous visitor)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    language = Preference.objects.filter(user=user).values_list("language", flat=True).first() or ""
    return language if language in dict(settings.LANGUAGES) else ""


def set_language(*, actor: Any, user: Any, language: str) -> Preference:
    """Save ``user``'s interface language (``settings.LANGUAGES``); users change only their
    own. Audited (no center: a preference belongs to the person, not to a center); choosing
    the language already saved writes nothing."""
    if actor is None or not actor.is_authenticated or actor.pk != user.pk:
        raise PermissionDenied(_("You may change only your own preferences."))
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [_("Choose English or Simplified Chinese.")]})
    with transaction.atomic():
        preference, created = Preference.objects.select_for_update().get_or_create(user=user)
        before = {"language": preference.language}
        if not created and preference.language == language:
            return preference
        preference.language = language
        preference.save()
        writer.record(
            actor=actor,
            action=Action.CREATE if created else Action.UPDATE,
            target=preference,
            center_id=None,
            before={} if created else before,
            after={"language": language},
        )
    return preference
