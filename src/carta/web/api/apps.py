"""The REST API app (django-ninja)."""

from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """REST API with an OpenAPI schema at /api/openapi.json."""

    name = "carta.web.api"
    label = "api"
