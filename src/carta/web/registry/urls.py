"""The registry's pages (mounted at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from carta.web.registry.views import (
    assessments,
    dashboard,
    forecast_risk,
    patient_page,
    patients,
    records,
)

app_name = "registry"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", RedirectView.as_view(pattern_name="registry:patient_list"), name="home"),
    path("patients/", patients.patient_list, name="patient_list"),
    path("patients/new/", patients.patient_create, name="patient_create"),
    path("patients/<int:pk>/", patient_page.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", patients.patient_edit, name="patient_edit"),
    path(
        "patients/<int:pk>/assessments/new/",
        assessments.assessment_create,
        name="assessment_create",
    ),
    path(
        "patients/<int:pk>/assessments/preview/",
        assessments.assessment_preview,
        name="assessment_preview",
    ),
    path(
        "patients/<int:pk>/assessments/<int:assessment_pk>/edit/",
        assessments.assessment_edit,
        name="assessment_edit",
    ),
    path("patients/<int:pk>/<slug:kind>/new/", records.record_create, name="record_create"),
    path(
        "patients/<int:pk>/<slug:kind>/<int:record_pk>/edit/",
        records.record_edit,
        name="record_edit",
    ),
    path(
        "patients/<int:pk>/<slug:kind>/<int:record_pk>/history/",
        records.record_history,
        name="record_history",
    ),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("forecast/", forecast_risk.forecast_risk, name="forecast_risk"),
]
