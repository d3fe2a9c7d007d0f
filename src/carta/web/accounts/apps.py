"""App configuration for :mod:`carta.web.accounts`."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Centers, memberships and roles."""

    name = "carta.web.accounts"
    label = "accounts"
    verbose_name = _("Accounts and centers")
