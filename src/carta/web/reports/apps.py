"""The analytics app: read-only pages of outcome analyses over the registry."""

from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The Analytics page and its CSV downloads (no models: it only reads the registry)."""

    name = "carta.web.reports"
    label = "reports"
