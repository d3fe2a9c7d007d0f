"""App configuration for :mod:`carta.web.registry`."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """The CAR-T registry."""

    name = "carta.web.registry"
    label = "registry"
    verbose_name = _("Registry")
