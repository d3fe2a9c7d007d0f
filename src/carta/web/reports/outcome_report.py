"""The outcome report (:mod:`carta.analytics.report`) of registry patients: the Analytics
page's "Download report" and ``carta report --registry``.

Both read the cohort of :func:`carta.web.reports.cohort.cohort_for_centers` - pseudonymised
(registry ID and center code only) and limited to the centers given, which the page takes
from the user's access and the command from ``--center``. Nothing here writes to the
database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from carta.analytics.report import ReportData, build_report, render_html
from carta.analytics.report.source import LD_FIRST_DAY, latest_baseline_labs
from carta.web.accounts.models import Center
from carta.web.registry.adapters import BASELINE_LABS
from carta.web.registry.models import DailyAssessment, Lymphodepletion
from carta.web.reports.analyses import Filters
from carta.web.reports.cohort import cohort_for_centers

REGISTRY_SOURCE = "carta registry"


class UnknownCenterError(ValueError):
    """A center code the registry does not have (the message lists the codes it has)."""


def centers_by_code(codes: Sequence[str]) -> list[Center]:
    """The centers with ``codes`` (every center when empty), ordered by code.

    Codes are compared ignoring case; an unknown one raises :class:`UnknownCenterError` naming
    it and the registry's codes."""
    centers = list(Center.objects.order_by("code"))
    if not codes:
        if not centers:
            raise UnknownCenterError("the registry has no centers (load or enter data first)")
        return centers
    by_code = {center.code.lower(): center for center in centers}
    unknown = [code for code in codes if code.strip().lower() not in by_code]
    if unknown:
        known = ", ".join(center.code for center in centers) or "none"
        raise UnknownCenterError(
            f"no center {', '.join(repr(code) for code in unknown)} in the registry "
            f"(its centers are: {known})"
        )
    chosen = {code.strip().lower(): by_code[code.strip().lower()] for code in codes}
    return sorted(chosen.values(), key=lambda center: center.code)


def registry_source(centers: Sequence[Center], extra: str = "") -> str:
    """The report's "data source": the registry and the center codes (and ``extra``)."""
    codes = ", ".join(center.code for center in centers)
    return f"{REGISTRY_SOURCE} ({codes}){'; ' + extra if extra else ''}"


def is_synthetic(cohort: pl.DataFrame) -> bool:
    """Whether any patient of ``cohort`` is marked synthetic in the registry."""
    return bool(cohort.height) and bool(cohort["synthetic"].fill_null(False).any())


def registry_report_data(centers: Sequence[Center]) -> ReportData:
    """The registry cohort of ``centers`` with its baseline labs, as
    :func:`carta.analytics.report.read_report_data` gives a file's."""
    cohort = with_baseline_labs(cohort_for_centers(centers), centers)
    return ReportData(cohort, is_synthetic(cohort), None, baseline_from_registry=True)


def baseline_labs(centers: Sequence[Center]) -> pl.DataFrame:
    """Per patient of ``centers``, the baseline labs as the patient page chooses them
    (:func:`carta.web.registry.adapters.baseline_scores`, ADR 0237): each lab's latest value
    in the first infusion's daily assessments before day 0 and, when lymphodepletion is
    recorded, on or before its first day. Columns ``patient_id`` and ``baseline_<marker>``
    (the analytics' marker names); two queries for every patient, none per patient."""
    keys = [center.pk for center in centers]
    fields = list(BASELINE_LABS)
    rows = (
        DailyAssessment.objects.filter(patient__center__in=keys, infusion__number=1, day__lte=-1)
        .order_by("patient_id", "day")
        .values_list("patient_id", "day", *fields)
    )
    schema: dict[str, Any] = {"patient_id": pl.Int64, "day": pl.Int64}
    schema.update(dict.fromkeys(fields, pl.Float64))
    days = pl.DataFrame(list(rows), schema=schema, orient="row")
    starts = (
        Lymphodepletion.objects.filter(patient__center__in=keys)
        .order_by("patient_id", "pk")
        .values_list("patient_id", "first_day")
    )
    first_days = pl.DataFrame(
        list(starts), schema={"patient_id": pl.Int64, LD_FIRST_DAY: pl.Int64}, orient="row"
    ).unique("patient_id", keep="first", maintain_order=True)  # the patient page's first one
    return latest_baseline_labs(days.join(first_days, on="patient_id", how="left"), BASELINE_LABS)


def with_baseline_labs(cohort: pl.DataFrame, centers: Sequence[Center]) -> pl.DataFrame:
    """``cohort`` with the ``baseline_<marker>`` columns of :func:`baseline_labs` (null for a
    patient without a value)."""
    if cohort.is_empty():
        return cohort
    return cohort.join(baseline_labs(centers), on="patient_id", how="left")


def page_filters(filters: Filters) -> dict[str, tuple[str, ...]]:
    """The Analytics page's value filters in the report's form (``column -> values``), for the
    report's title block; the infusion dates are not value filters (see :func:`date_range`)."""
    chosen = {
        "product_code": filters.product,
        "disease": filters.disease,
        "center_id": filters.center,
    }
    return {column: (value,) for column, value in chosen.items() if value}


def date_range(filters: Filters) -> str:
    """``infused 2024-01-01 to 2024-06-30`` (empty when the page sets no date)."""
    start, end = filters.infused_from, filters.infused_to
    if start is None and end is None:
        return ""
    first = start.isoformat() if start else "…"
    last = end.isoformat() if end else "…"
    return f"infused {first} to {last}"


def page_report_html(
    cohort: pl.DataFrame,
    *,
    centers: Sequence[Center],
    filters: Filters,
    group: str | None,
    lang: str,
) -> str:
    """The HTML report of the page's cohort, already filtered by ``filters``.

    The value filters are passed on again so the title block states them (applying them a
    second time keeps the same patients); :class:`carta.analytics.cohort.CohortError` when
    the report cannot be built (no patient)."""
    report = build_report(
        with_baseline_labs(cohort, centers),
        group=group,
        lang=lang,
        filters=page_filters(filters),
        source=registry_source(centers, date_range(filters)),
        synthetic=is_synthetic(cohort),
        baseline_from_registry=True,
    )
    return render_html(report)
