"""App configuration for :mod:`carta.web.accounts`."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Centers, memberships and roles."""

    name = "carta.web.accounts"
    label = "accounts"
    verbose_name = _("Accounts and centers")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from carta.web.accounts.access import forget_request_grants
        from carta.web.accounts.models import Membership

        # Grants kept for the request must not outlive a change to what they were read from.
        for model in (Membership, get_user_model()):
            post_save.connect(forget_request_grants, sender=model, dispatch_uid=f"grants-{model}")
            post_delete.connect(
                forget_request_grants, sender=model, dispatch_uid=f"grants-del-{model}"
            )
