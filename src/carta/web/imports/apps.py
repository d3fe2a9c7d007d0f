"""The bulk import app (CSV/Excel exports of patients, infusions and daily assessments)."""

from __future__ import annotations

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Dry-run preview and all-or-nothing commit of registry exports."""

    name = "carta.web.imports"
    label = "imports"
