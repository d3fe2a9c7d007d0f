"""API tokens: only a hash of each token is stored, with its expiry (ADR 0261)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token issued by ``POST /api/token``.

    ``key_hash`` is the SHA-256 of the token (hex): the token itself is shown once, to the
    client that asked for it, and never stored. A token is refused after ``expires_at`` or
    once its user is inactive.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    key_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"token of user {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"
