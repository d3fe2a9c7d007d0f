"""URL routes of the API (mounted at ``/api/`` by :mod:`carta.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from carta.web.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [path("", api.urls)]
