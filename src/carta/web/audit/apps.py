"""App configuration for :mod:`carta.web.audit`."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The audit trail."""

    name = "carta.web.audit"
    label = "audit"
    verbose_name = _("Audit trail")
