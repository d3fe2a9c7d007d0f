"""URL routes: each app owns its urls.py; this module only mounts them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("carta.web.api.urls")),
    path("import/", include("carta.web.imports.urls")),
    path("accounts/", include("carta.web.accounts.urls")),
    path("analytics/", include("carta.web.reports.urls")),
    path("", include("carta.web.registry.urls")),
]
