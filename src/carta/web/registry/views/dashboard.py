"""The center dashboard: patients by status, infusions per month, toxicity rates and
overdue follow-up visits, for one of the user's centers or all of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from carta.web.accounts import access
from carta.web.registry import adapters, plots, selectors
from carta.web.registry.models import FollowUpVisit, Infusion, Patient
from carta.web.registry.templatetags.carta_ui import product_label
from carta.web.registry.views import queries
from carta.web.registry.views.common import signed_in

MONTHS_SHOWN = 24
OVERDUE_SHOWN = 50


@dataclass(frozen=True, slots=True)
class OverdueVisit:
    """A follow-up visit whose window has closed without the visit being recorded."""

    patient: Patient
    infusion: Infusion
    label: str
    window_end: date
    days_overdue: int


def _overdue_visits(infusions: list[Infusion], done: dict[int, set[str]], today: date) -> Any:
    """Every overdue visit of ``infusions`` (most overdue first) and the number due now."""
    overdue, due = [], 0
    for infusion in infusions:
        death = getattr(infusion.patient, "death", None)
        ended_on = death.died_on if death is not None else None
        states = adapters.follow_up(
            infusion.infused_on, today, done.get(infusion.pk, set()), ended_on
        )
        for state in states:
            if state.status == "due":
                due += 1
            elif state.status == "overdue":
                visit = state.visit
                overdue.append(
                    OverdueVisit(
                        infusion.patient,
                        infusion,
                        visit.key,
                        visit.window_end,
                        (today - visit.window_end).days,
                    )
                )
    overdue.sort(key=lambda item: -item.days_overdue)
    return overdue, due


def _scope(request: HttpRequest) -> tuple[Any, Any]:
    """The centers to choose from and the chosen one (``None``: all of them)."""
    centers = access.centers(request.user, "view")
    chosen = request.GET.get("center", "")
    center = centers.filter(pk=chosen).first() if chosen.isdigit() else None
    return centers, center


@signed_in
def dashboard(request: HttpRequest) -> HttpResponse:
    """The dashboard of the chosen center (or every center the user may view)."""
    centers, center = _scope(request)
    patients = queries.annotated_patients(request.user, center=center)
    infusions = selectors.records(request.user, Infusion)
    if center is not None:
        infusions = infusions.filter(patient__center=center)
    products = {product.pk: product_label(product) for product in selectors.products()}
    first = infusions.filter(number=1)
    first_infusions = list(first.select_related("patient__center", "patient__death"))
    visits = selectors.records(request.user, FollowUpVisit).filter(infusion__in=first.values("pk"))
    done: dict[int, set[str]] = {}
    for infusion_id, visit in visits.values_list("infusion_id", "visit"):
        done.setdefault(infusion_id, set()).add(visit)
    overdue, due = _overdue_visits(first_infusions, done, timezone.localdate())
    monthly = queries.infusions_per_month(infusions, MONTHS_SHOWN)
    counts = queries.status_counts(patients)
    context = {
        "centers": centers,
        "center": center,
        "status_counts": [(label, counts[word]) for word, label in queries.STATUS_CHOICES],
        "patient_total": sum(counts.values()),
        "toxicity": queries.toxicity_rows(patients, products),
        "bars": plots.month_bars(monthly) if monthly else None,
        "monthly_total": sum(count for _month, count in monthly),
        "overdue": overdue[:OVERDUE_SHOWN],
        "overdue_count": len(overdue),
        "due_count": due,
    }
    return render(request, "registry/dashboard.html", context)
