"""The center view of patients at high forecast risk (ADR 0431): patients whose latest
infusion is recent, ordered by their highest toxicity forecast on the latest assessed day.

Scoped like every other page: the patients come from the selectors, for the chosen center or
every center the user may view; the page shows registry IDs only (pseudonymous for analysts).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from carta.web.accounts import access
from carta.web.registry import forecasting, selectors
from carta.web.registry.views.common import signed_in

WINDOW_CHOICES = (7, 14, 30, 60, 90)
SHOWN = 100


def _window(request: HttpRequest) -> int:
    raw = request.GET.get("days", "")
    return (
        int(raw)
        if raw.isdigit() and int(raw) in WINDOW_CHOICES
        else forecasting.DEFAULT_WINDOW_DAYS
    )


@signed_in
def forecast_risk(request: HttpRequest) -> HttpResponse:
    """Patients currently after infusion, highest forecast first."""
    centers = access.centers(request.user, "view")
    chosen = request.GET.get("center", "")
    center = centers.filter(pk=chosen).first() if chosen.isdigit() else None
    window = _window(request)
    patients = selectors.list_patients(request.user, center=center)
    loaded = forecasting.current_model()
    rows = forecasting.patients_at_risk(patients, timezone.localdate(), window)
    context = {
        "centers": centers,
        "center": center,
        "window": window,
        "window_choices": WINDOW_CHOICES,
        "available": loaded.model is not None,
        "model_path": str(loaded.path),
        "problem": loaded.problem,
        "version": loaded.model.version if loaded.model is not None else "",
        "rows": rows[:SHOWN],
        "row_count": len(rows),
    }
    return render(request, "registry/forecast_risk.html", context)
