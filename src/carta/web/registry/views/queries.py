"""The list and dashboard queries: the selectors' scoped querysets, annotated in SQL so a page
costs a fixed number of queries however many patients it shows (ADR 0233).

Only stored values are read and counted here (the computed grades were stored by the services
with their criteria version); nothing is graded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from carta.web.registry import selectors
from carta.web.registry.models import DailyAssessment, Death, Diagnosis, Infusion, Patient

SEVERE_GRADE = 3

STATUS_REGISTERED = "registered"
STATUS_INFUSED = "infused"
STATUS_DIED = "died"
STATUS_CHOICES = [
    (STATUS_REGISTERED, _("registered, not yet infused")),
    (STATUS_INFUSED, _("infused, alive")),
    (STATUS_DIED, _("died")),
]
STATUS_LABELS = dict(STATUS_CHOICES)


def _max_grade(field: str) -> Subquery:
    days = DailyAssessment.objects.filter(patient=OuterRef("pk")).order_by()
    return Subquery(days.values("patient").annotate(top=Max(field)).values("top")[:1])


def annotated_patients(user: Any, **filters: Any) -> QuerySet[Patient]:
    """The patients ``user`` may view, with their latest disease, first infusion's product and
    date, status flags and highest stored CRS and ICANS grades, filtered by ``filters``
    (``q``, ``center``, ``disease``, ``product``, ``status``, ``synthetic``)."""
    synthetic = {"yes": True, "no": False}.get(filters.get("synthetic") or "")
    patients = selectors.list_patients(
        user, search=filters.get("q") or "", center=filters.get("center"), synthetic=synthetic
    )
    diagnoses = Diagnosis.objects.filter(patient=OuterRef("pk")).order_by("-pk")
    infusions = Infusion.objects.filter(patient=OuterRef("pk")).order_by("number")
    patients = patients.annotate(
        disease=Subquery(diagnoses.values("disease")[:1]),
        first_product_id=Subquery(infusions.values("product_id")[:1]),
        first_infused_on=Subquery(infusions.values("infused_on")[:1]),
        is_infused=Exists(Infusion.objects.filter(patient=OuterRef("pk"))),
        has_died=Exists(Death.objects.filter(patient=OuterRef("pk"))),
        max_crs=_max_grade("crs_grade"),
        max_icans=_max_grade("icans_grade"),
    )
    return _filtered(patients, filters)


def _filtered(patients: QuerySet[Patient], filters: dict[str, Any]) -> QuerySet[Patient]:
    if filters.get("disease"):
        wanted = Diagnosis.objects.filter(patient=OuterRef("pk"), disease=filters["disease"])
        patients = patients.filter(Exists(wanted))
    if filters.get("product"):
        wanted_infusions = Infusion.objects.filter(
            patient=OuterRef("pk"), product__code=filters["product"]
        )
        patients = patients.filter(Exists(wanted_infusions))
    status = filters.get("status")
    if status == STATUS_DIED:
        patients = patients.filter(has_died=True)
    elif status == STATUS_INFUSED:
        patients = patients.filter(is_infused=True, has_died=False)
    elif status == STATUS_REGISTERED:
        patients = patients.filter(is_infused=False, has_died=False)
    return patients


def status_of(patient: Any) -> str:
    """The status word of an annotated patient."""
    if patient.has_died:
        return STATUS_DIED
    return STATUS_INFUSED if patient.is_infused else STATUS_REGISTERED


# --- the center dashboard ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """Patients with a maximum grade at or above a threshold, among those assessed."""

    count: int
    total: int

    @property
    def percent(self) -> float | None:
        """The share in percent (``None`` without assessed patients)."""
        return None if not self.total else 100.0 * self.count / self.total


@dataclass(frozen=True, slots=True)
class ToxicityRow:
    """Toxicity rates of one product (or of all)."""

    label: str
    assessed: int
    crs_any: Rate
    crs_severe: Rate
    icans_any: Rate
    icans_severe: Rate


def status_counts(patients: QuerySet[Patient]) -> dict[str, int]:
    """Patients per status word."""
    counts: Counter[str] = Counter()
    for is_infused, has_died in patients.values_list("is_infused", "has_died"):
        if has_died:
            counts[STATUS_DIED] += 1
        else:
            counts[STATUS_INFUSED if is_infused else STATUS_REGISTERED] += 1
    return {word: counts[word] for word, _label in STATUS_CHOICES}


def toxicity_rows(patients: QuerySet[Patient], product_names: dict[int, str]) -> list[ToxicityRow]:
    """CRS and ICANS rates (any grade, grade 3 or more) over infused patients with at least one
    stored grade, overall and by the product of the first infusion."""
    rows = patients.filter(is_infused=True).values_list("first_product_id", "max_crs", "max_icans")
    groups: dict[Any, list[tuple[int | None, int | None]]] = {}
    for product_id, crs, icans in rows:
        if crs is None and icans is None:
            continue
        groups.setdefault(product_id, []).append((crs, icans))
        groups.setdefault(None, []).append((crs, icans))
    result = []
    for product_id, grades in sorted(groups.items(), key=lambda item: -len(item[1])):
        label = str(_("All products")) if product_id is None else product_names.get(product_id, "")
        result.append(_toxicity_row(label, grades))
    return result


def _toxicity_row(label: str, grades: list[tuple[int | None, int | None]]) -> ToxicityRow:
    crs = [crs for crs, _icans in grades if crs is not None]
    icans = [icans for _crs, icans in grades if icans is not None]
    return ToxicityRow(
        label=label,
        assessed=len(grades),
        crs_any=Rate(sum(grade >= 1 for grade in crs), len(crs)),
        crs_severe=Rate(sum(grade >= SEVERE_GRADE for grade in crs), len(crs)),
        icans_any=Rate(sum(grade >= 1 for grade in icans), len(icans)),
        icans_severe=Rate(sum(grade >= SEVERE_GRADE for grade in icans), len(icans)),
    )


def infusions_per_month(infusions: QuerySet[Infusion], months: int) -> list[tuple[date, int]]:
    """Infusions per calendar month, for the ``months`` months up to the latest infusion
    (months without an infusion included, as 0)."""
    per_month = (
        infusions.order_by()
        .annotate(month=TruncMonth("infused_on"))
        .values("month")
        .annotate(count=Count("pk"))
        .values_list("month", "count")
    )
    counts = {month: count for month, count in per_month if month is not None}
    if not counts:
        return []
    latest = max(counts)
    first_index = latest.year * 12 + latest.month - 1 - (months - 1)
    sequence = [
        date(index // 12, index % 12 + 1, 1) for index in range(first_index, first_index + months)
    ]
    return [(month, counts.get(month, 0)) for month in sequence]
