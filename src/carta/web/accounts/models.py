"""Centers and memberships: who works where, in which role."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from carta.web.accounts.roles import ROLE_CHOICES, Role


class Center(models.Model):
    """A hospital (transplant or cellular-therapy center) of the network.

    ``code`` is the short, stable identifier used in registry IDs and exports; ``name_zh`` is
    the Chinese name shown when the interface is in Chinese.
    """

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    country = models.CharField(_("country (ISO 3166 code)"), max_length=2)
    city = models.CharField(_("city"), max_length=100)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("center")
        verbose_name_plural = _("centers")
        ordering = ("code",)
        constraints = (
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="center_country_iso_alpha2"
            ),
        )

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Membership(models.Model):
    """A user's role at a center; a network administrator's membership has no center.

    One membership per user and center (one role each); at most one network-level membership
    per user.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    center = models.ForeignKey(
        Center,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("center"),
    )
    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = (
            models.UniqueConstraint(
                fields=["user", "center"],
                condition=Q(center__isnull=False),
                name="membership_one_role_per_center",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(center__isnull=True),
                name="membership_one_network_role",
            ),
            models.CheckConstraint(
                condition=(Q(role=Role.NETWORK_ADMIN) & Q(center__isnull=True))
                | (~Q(role=Role.NETWORK_ADMIN) & Q(center__isnull=False)),
                name="membership_network_admin_has_no_center",
            ),
        )

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} {self.center_id or '*'}"


class Preference(models.Model):
    """A user's own settings that follow them to every device: today the interface language
    (ADR 0240). ``language`` is blank until the user chooses one (the browser's then counts).

    Written only through :func:`carta.web.accounts.services.set_language` (audited).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return f"{self.user_id} {self.language or '-'}"
