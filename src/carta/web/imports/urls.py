"""Bulk import: upload and dry run, then commit (mounted at ``/import/``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from carta.web.imports import views

app_name = "imports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.upload, name="upload"),
    path("commit/", views.commit, name="commit"),
]
