"""The Analytics page and its downloads (mounted at ``/analytics/``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from carta.web.reports import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.analytics, name="analytics"),
    path("data/<slug:key>.csv", views.download, name="download"),
    path("report.<slug:kind>", views.report, name="report"),
]
