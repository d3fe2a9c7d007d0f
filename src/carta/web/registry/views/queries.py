"""The list and dashboard queries: the patients a user's grants may view, annotated in SQL so a
page costs a fixed number of queries however many patients it shows (ADR 0233, ADR 0292).

Only stored values are read and counted here (the computed grades were stored by the services
with their criteria version); nothing is graded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Exists, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from carta.web.accounts import access
from carta.web.registry import selectors
from carta.web.registry.models import DailyAssessment, Death, Diagnosis, Infusion, Patient
from carta.web.registry.views.compiled_reads import KEY_STAND_IN, RowBuilder

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
    return with_columns(listed_patients(access.grants(user), **filters))


def listed_patients(grants: access.Grants, **filters: Any) -> QuerySet[Patient]:
    """The patients ``grants`` may view, with their center, filtered by ``filters`` (as
    :func:`annotated_patients`) but without the list's columns: what the list counts and pages.

    The rows of ``selectors.visible_patients`` plus the filters, scoped by the request's grants
    (``center_id IN (...)``, ADR 0287) rather than by permission subqueries: PostgreSQL then
    counts a center's patients from the center index instead of testing every patient of the
    network, and Django has no membership subqueries to build.
    """
    synthetic = {"yes": True, "no": False}.get(filters.get("synthetic") or "")
    patients = selectors.visible_patients(
        grants, search=filters.get("q") or "", center=filters.get("center"), synthetic=synthetic
    )
    return _filtered(patients, filters)


def with_columns(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """``patients`` with the list's columns: latest disease, first infusion's product and date,
    status flags and highest stored CRS and ICANS grades."""
    diagnoses = Diagnosis.objects.filter(patient=OuterRef("pk")).order_by("-pk")
    infusions = Infusion.objects.filter(patient=OuterRef("pk")).order_by("number")
    return patients.annotate(
        disease=Subquery(diagnoses.values("disease")[:1]),
        first_product_id=Subquery(infusions.values("product_id")[:1]),
        first_infused_on=Subquery(infusions.values("infused_on")[:1]),
        is_infused=_infused(),
        has_died=_died(),
        max_crs=_max_grade("crs_grade"),
        max_icans=_max_grade("icans_grade"),
    )


def page_with_columns(page: QuerySet[Patient]) -> list[Patient]:
    """One page (a slice of :func:`listed_patients`) with the list's columns, in one query
    (without the centers: the list has them already); the same patients, values and order as
    ``with_columns(Patient.objects.filter(pk__in=page.values("pk")))``.

    The page's keys are chosen by the slice inside the query, so PostgreSQL evaluates the
    columns' subqueries for the page's patients only (a sliced annotated query evaluates them
    for every row it skips as well: 2,500 times on page 100). The columns' SQL is compiled once
    per process and database (:class:`_ColumnsPlan`): compiling seven subqueries cost Django
    more than PostgreSQL needs to run them."""
    alias, connection = page.db, connections[page.db]
    plan = _columns_plans.get((alias, connection.vendor)) or _compile_columns(alias)
    try:
        keys_sql, keys_params = page.values("pk").query.get_compiler(using=alias).as_sql()
    except EmptyResultSet:  # no patient can match (no visible center, an empty page)
        return []
    with connection.cursor() as cursor:
        sql = plan.sql_before + keys_sql + plan.sql_after
        cursor.execute(sql, (*plan.params_before, *keys_params, *plan.params_after))
        rows = cursor.fetchall()
    return plan.rows.build(rows, alias, connection)


KEYS_IN = "IN (%s)"


@dataclass(frozen=True, slots=True)
class _ColumnsPlan:
    """The columns' SQL around the page's keys, and how to make a patient of each row as
    ``QuerySet`` iteration does."""

    sql_before: str
    params_before: tuple[Any, ...]
    sql_after: str
    params_after: tuple[Any, ...]
    rows: RowBuilder


_columns_plans: dict[tuple[str, str], _ColumnsPlan] = {}  # by database alias and vendor


def _compile_columns(alias: str) -> _ColumnsPlan:
    query = with_columns(Patient.objects.filter(pk__in=[KEY_STAND_IN])).query
    compiler = query.get_compiler(using=alias)
    sql, params = compiler.as_sql()  # also sets compiler.select, klass_info, annotation_col_map
    params = tuple(params)
    if params.count(KEY_STAND_IN) != 1 or sql.count(KEYS_IN) != 1:
        raise ValueError(f"the columns' SQL should name the keys once: {sql!r} {params!r}")
    key = params.index(KEY_STAND_IN)
    before, after = sql.split(KEYS_IN)
    plan = _ColumnsPlan(
        sql_before=f"{before}IN (",
        params_before=params[:key],
        sql_after=f"){after}",
        params_after=params[key + 1 :],
        rows=RowBuilder.of(compiler, alias),
    )
    _columns_plans[alias, compiler.connection.vendor] = plan
    return plan


def _infused() -> Exists:
    return Exists(Infusion.objects.filter(patient=OuterRef("pk")))


def _died() -> Exists:
    return Exists(Death.objects.filter(patient=OuterRef("pk")))


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
        patients = patients.filter(_died())
    elif status == STATUS_INFUSED:
        patients = patients.filter(_infused(), ~_died())
    elif status == STATUS_REGISTERED:
        patients = patients.filter(~_infused(), ~_died())
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
