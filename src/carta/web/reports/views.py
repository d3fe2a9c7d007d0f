"""``/analytics/``: the outcome analyses of the user's centers, and the data behind each plot
and table as CSV (``/analytics/data/<key>.csv`` with the page's filters).

Read-only: nothing is written, so there is nothing to audit; every number comes from the
cohort of :func:`carta.web.reports.cohort.cohort_for_centers` for the centers the user may
view (``carta.web.accounts.access``). Each computed section is cached per centers,
filters, language, data revision (the newest audit event of those centers) and the options
it depends on, so a new record changes the key and the next view recomputes (ADR 0251).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from carta.analytics.cohort import GROUP, CohortError
from carta.analytics.report import PdfUnavailableError, find_chromium, html_to_pdf
from carta.web.accounts import access
from carta.web.accounts.models import Center
from carta.web.registry.views.common import signed_in
from carta.web.reports import analyses, figures, labels
from carta.web.reports.analyses import Options, Section
from carta.web.reports.cohort import cohort_for_centers, data_revision
from carta.web.reports.forms import AnalyticsForm
from carta.web.reports.outcome_report import page_report_html

CACHE_SECONDS = 15 * 60
NO_VALUE = "–"


# --- the cohort and the computed page, cached by data revision -------------------------------


def _center_keys(centers: QuerySet[Center]) -> list[int]:
    return sorted(centers.values_list("pk", flat=True))


def _cache_key(*parts: object) -> str:
    return "carta-analytics:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cohort_of(keys: list[int], revision: int) -> pl.DataFrame:
    """The cohort of the centers ``keys`` at data ``revision`` (cached)."""
    key = _cache_key("cohort", keys, revision)
    cohort = cache.get(key)
    if cohort is None:
        cohort = cohort_for_centers(keys)
        cache.set(key, cohort, CACHE_SECONDS)
    return cohort


# --- formatting ---------------------------------------------------------------------------------


def _number(value: float | None, digits: int = 0) -> str:
    return NO_VALUE if value is None else f"{value:,.{digits}f}"


def _percent_ci(rate: float | None, lower: float | None, upper: float | None) -> str:
    if rate is None:
        return NO_VALUE
    if lower is None or upper is None:
        return f"{100 * rate:.1f}%"
    return f"{100 * rate:.1f}% ({100 * lower:.1f}–{100 * upper:.1f})"


def _days_ci(value: float | None, lower: float | None, upper: float | None) -> str:
    """A median and its CI in days; a limit the confidence curve never reaches is "NR"."""
    if value is None:
        return _("not reached")
    reached = _("NR")
    low = reached if lower is None else f"{lower:g}"
    high = reached if upper is None else f"{upper:g}"
    return f"{value:g} ({low}–{high})"


def _p(value: float | None) -> str:
    if value is None:
        return NO_VALUE
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _note(text: str, group: str | None) -> str:
    """A section note in words (the analyses give codes for the ones the page knows)."""
    kind, _separator, rest = text.partition(":")
    if kind == "missing":
        column, _separator, count = rest.partition(":")
        return _("%(count)s patient(s) without a %(column)s were left out.") % {
            "count": count,
            "column": labels.column_label(column),
        }
    if kind == "group_left_out":
        column, _separator, message = rest.partition(":")
        return _("%(column)s is not in the model: %(message)s") % {
            "column": labels.column_label(column),
            "message": message,
        }
    if kind == "ungraded":
        return _(
            "%(count)s patient(s) without any graded day 0-30 were left out (no grade is not "
            "the same as grade 0)."
        ) % {"count": rest}
    return text


def _section_base(section: Section, options: Options) -> dict[str, Any]:
    return {
        "error": section.error,
        "notes": [_note(note, options.group) for note in section.notes],
        # Covariates a model section had to leave out (one value only in the selection).
        "left_out": [labels.column_label(c) for c in section.extra.get("left_out", [])],
    }


# --- the sections as the template shows them ----------------------------------------------------


def _response_view(section: Section, options: Options) -> dict[str, Any]:
    view = _section_base(section, options)
    if section.result is None:
        return view
    names = labels.group_labels(options.group, section.result.levels)
    view["rows"] = [
        {
            "group": names[row[GROUP]],
            "n": row["n"],
            "evaluable": row["evaluable"],
            "orr": _percent_ci(row["orr_rate"], row["orr_lower"], row["orr_upper"]),
            "orr_n": row["orr_n"],
            "cr": _percent_ci(row["cr_rate"], row["cr_lower"], row["cr_upper"]),
            "cr_n": row["cr_n"],
        }
        for row in section.result.table.iter_rows(named=True)
    ]
    return view


def _survival_view(section: Section, options: Options, endpoint: str, title: str) -> dict[str, Any]:
    view = _section_base(section, options)
    curves = section.result
    if curves is None:
        return view
    names = labels.group_labels(options.group, curves.levels)
    view["svg"] = figures.km_svg(curves, names, endpoint, title)
    rmst = section.frames.get(f"{endpoint}-rmst")
    rmst_by_group = (
        {row[GROUP]: row for row in rmst.iter_rows(named=True)} if rmst is not None else {}
    )
    rows = []
    for row in section.frames[f"{endpoint}-summary"].iter_rows(named=True):
        restricted = rmst_by_group.get(row[GROUP])
        rows.append(
            {
                "group": names[row[GROUP]],
                "n": row["n"],
                "events": row["events"],
                "median": _days_ci(row["median"], row["median_lower"], row["median_upper"]),
                "landmarks": [
                    _percent_ci(
                        row[f"survival_{months}m"],
                        row[f"survival_{months}m_lower"],
                        row[f"survival_{months}m_upper"],
                    )
                    for months in analyses.LANDMARK_MONTHS
                ],
                "at_risk": [
                    _number(row[f"n_risk_{months}m"]) for months in analyses.LANDMARK_MONTHS
                ],
                "rmst": _number(restricted["rmst"]) if restricted else NO_VALUE,
            }
        )
    view["rows"] = rows
    view["rmst_tau"] = _number(rmst["tau"][0]) if rmst is not None and rmst.height else None
    log_rank = section.extra.get("log_rank")
    if log_rank is not None:
        view["test"] = {"chi2": f"{log_rank.chi2:.2f}", "df": log_rank.df, "p": _p(log_rank.p)}
    return view


def _incidence_view(
    section: Section, options: Options, syndrome: str, title: str
) -> dict[str, Any]:
    view = _section_base(section, options)
    incidence = section.result
    if incidence is None:
        return view
    names = labels.group_labels(options.group, incidence.levels)
    view["svg"] = figures.incidence_svg(incidence, names, syndrome, title)
    at = incidence.at([7.0, 14.0, 30.0])
    rows = []
    for row in incidence.summary.iter_rows(named=True):
        here = at.filter(pl.col(GROUP) == row[GROUP])
        rows.append(
            {
                "group": names[row[GROUP]],
                "n": row["n"],
                "events": row["events"],
                "competing": row["competing_events"],
                "landmarks": [
                    _percent_ci(item["incidence"], item["lower"], item["upper"])
                    for item in here.iter_rows(named=True)
                ],
            }
        )
    view["rows"] = rows
    gray = section.extra.get("gray")
    if gray is not None:
        view["test"] = {"chi2": f"{gray.chi2:.2f}", "df": gray.df, "p": _p(gray.p)}
    return view


def _toxicity_view(section: Section, options: Options) -> dict[str, Any]:
    view = _section_base(section, options)
    if section.result is None:
        return view
    table: pl.DataFrame = section.result
    groups = tuple(str(value) for value in table[GROUP].unique(maintain_order=True))
    names = labels.group_labels(options.group, groups)
    view["rows"] = [
        {
            "syndrome": row["syndrome"],
            "group": names[row[GROUP]],
            "n": row["n"],
            "not_graded": row["not_graded"],
            "grades": [row[f"grade_{grade}"] for grade in range(6)],
            "any": _percent_ci(
                row["any_grade_rate"], row["any_grade_lower"], row["any_grade_upper"]
            ),
            "severe": _percent_ci(
                row["grade_3_plus_rate"], row["grade_3_plus_lower"], row["grade_3_plus_upper"]
            ),
        }
        for row in table.iter_rows(named=True)
    ]
    timing = section.frames["toxicity-timing"]
    measures = {"onset_day": _("onset, day"), "days": _("days at grade 1 or higher")}
    view["timing"] = [
        {
            "syndrome": row["syndrome"],
            "group": names.get(row[GROUP], row[GROUP]),
            "measure": measures[row["measure"]],
            "n": row["n"],
            "median": f"{_number(row['median'], 1)} ({_number(row['q1'], 1)}–{_number(row['q3'], 1)})",
            "range": f"{_number(row['min'])}–{_number(row['max'])}",
        }
        for row in timing.iter_rows(named=True)
    ]
    return view


def _coefficient_rows(coefficients: pl.DataFrame, ratio: str = "hr") -> list[dict[str, Any]]:
    """One row per model term (the intercept of a logistic model is not a ratio: left out)."""
    return [
        {
            "term": labels.term_label(row["term"]),
            "hr": f"{row[ratio]:.2f}",
            "ci": f"{row[f'{ratio}_lower']:.2f}–{row[f'{ratio}_upper']:.2f}",
            "p": _p(row["p"]),
        }
        for row in coefficients.iter_rows(named=True)
        if row["term"] != "Intercept"
    ]


def _cox_view(section: Section, options: Options, title: str) -> dict[str, Any]:
    view = _section_base(section, options)
    model = section.result
    if model is None:
        return view
    view["svg"] = figures.forest_svg(model.coefficients, labels.term_label, "cox", title)
    view["rows"] = _coefficient_rows(model.coefficients)
    view["covariates"] = [labels.column_label(c) for c in section.extra["covariates"]]
    view["n"], view["events"], view["dropped"] = model.n, model.events, model.dropped
    return view


def _compare_view(section: Section, options: Options, title: str) -> dict[str, Any]:
    view = _section_base(section, options)
    arms = section.extra.get("arms")
    view["arms"] = [labels.value_label(options.compare_by, arm) for arm in arms] if arms else []
    comparison = section.result
    if comparison is None:
        return view
    names = {arm: labels.value_label(options.compare_by, arm) for arm in comparison.arms}
    view["svg"] = figures.km_svg(comparison.curves, names, "compare", title)
    hr = section.frames["compare-hr"]
    view["hazard_ratios"] = [
        {"model": _("weighted (IPW)") if row["model"] == "weighted" else _("unadjusted"), **cells}
        for row, cells in zip(
            hr.iter_rows(named=True), _coefficient_rows(hr.drop("model")), strict=True
        )
    ]
    view["balance"] = [
        {
            "term": labels.term_label(row["term"]),
            "before": f"{row['smd_before']:.3f}",
            "after": f"{row['smd_after']:.3f}",
            "balanced": row["balanced"],
        }
        for row in comparison.balance.iter_rows(named=True)
    ]
    patients = dict(comparison.weights.group_by("arm").len().iter_rows())
    view["sizes"] = [
        (names[arm], patients.get(arm, 0), f"{size:.1f}")
        for arm, size in comparison.effective_sample_size.items()
    ]
    view["covariates"] = [labels.column_label(c) for c in section.extra["covariates"]]
    return view


def _logistic_view(section: Section, options: Options, name: str, title: str) -> dict[str, Any]:
    view = _section_base(section, options)
    view["key"] = analyses.logistic_key(name)
    view["title"] = title
    model = section.result
    if model is None:
        return view
    view["svg"] = figures.forest_svg(
        model.coefficients, labels.term_label, name, title, ratio="odds_ratio"
    )
    view["rows"] = _coefficient_rows(model.coefficients, "odds_ratio")
    view["covariates"] = [labels.column_label(c) for c in section.extra["covariates"]]
    view["n"], view["outcomes"], view["dropped"] = model.n, model.outcomes, model.dropped
    return view


def _vein_to_vein_view(section: Section, options: Options, title: str) -> dict[str, Any]:
    view = _section_base(section, options)
    association = section.result
    if association is None:
        return view
    values: dict[str, list[float]] = section.extra["values"]
    names = labels.group_labels(options.group, tuple(values))
    view["svg"] = figures.box_svg(values, names, "v2v", title)
    view["rows"] = [
        {
            "group": names.get(row[GROUP], row[GROUP]),
            "n": row["n"],
            "missing": row["missing"],
            "median": f"{_number(row['median'], 1)} ({_number(row['q1'], 1)}–{_number(row['q3'], 1)})",
            "mean": _number(row["mean"], 1),
            "range": f"{_number(row['min'])}–{_number(row['max'])}",
        }
        for row in association.distribution.iter_rows(named=True)
    ]
    model = association.model
    view["hazard_ratios"] = _coefficient_rows(model.coefficients)
    adjusted = ", ".join(labels.column_label(c) for c in section.extra["covariates"])
    view["covariates"] = adjusted or _("no covariate")
    view["n"], view["events"], view["dropped"] = model.n, model.events, model.dropped
    return view


def section_view(name: str, cohort: pl.DataFrame, options: Options) -> dict[str, Any]:
    """One section (``analyses.SECTIONS``), computed and laid out for the template."""
    section = analyses.SECTIONS[name](cohort, options)
    if name == "response":
        return _response_view(section, options)
    if name in ("os", "pfs"):
        title = _("Overall survival") if name == "os" else _("Progression-free survival")
        return _survival_view(section, options, name, title)
    if name in ("crs", "icans"):
        title = (
            _("Cumulative incidence of grade 3 or higher CRS")
            if name == "crs"
            else _("Cumulative incidence of grade 3 or higher ICANS")
        )
        return _incidence_view(section, options, name, title)
    if name == "toxicity":
        return _toxicity_view(section, options)
    if name == "cox":
        return _cox_view(section, options, _("Hazard ratios of death"))
    if name in analyses.LOGISTIC_OUTCOMES:
        titles = {
            "orr_model": _("Objective response (PR or better)"),
            "crs_model": _("Grade 3 or higher CRS"),
            "icans_model": _("Grade 3 or higher ICANS"),
        }
        return _logistic_view(section, options, name, titles[name])
    if name == "v2v":
        return _vein_to_vein_view(section, options, _("Vein-to-vein time"))
    return _compare_view(section, options, _("Weighted overall survival"))


def page_sections(cohort: pl.DataFrame, options: Options) -> dict[str, dict[str, Any]]:
    """Every section, computed and laid out for the template."""
    return {name: section_view(name, cohort, options) for name in analyses.SECTIONS}


def _depends_on(name: str, options: Options) -> tuple[object, ...]:
    """The options a section's result depends on besides the filters: choosing other arms
    recomputes the comparison only, another grouping every section but it."""
    if name == "compare":
        return (options.compare_by, options.arms)
    return (options.group,)


def cached_sections(
    cohort: pl.DataFrame, options: Options, scope: tuple[object, ...]
) -> dict[str, dict[str, Any]]:
    """:func:`page_sections`, each section cached under (``scope``, filters, the options it
    depends on); ``scope`` holds the centers, the data revision and the language."""
    keys = {
        name: _cache_key("section", name, scope, options.filters, _depends_on(name, options))
        for name in analyses.SECTIONS
    }
    found = cache.get_many(list(keys.values()))
    sections = {}
    for name, key in keys.items():
        view = found.get(key)
        if view is None:
            view = section_view(name, cohort, options)
            cache.set(key, view, CACHE_SECONDS)
        sections[name] = view
    return sections


# --- the views ----------------------------------------------------------------------------------


def _form(request: HttpRequest) -> tuple[AnalyticsForm, QuerySet[Center]]:
    centers = access.centers(request.user, "view")
    return AnalyticsForm(request.GET or None, centers=centers), centers


@signed_in
def analytics(request: HttpRequest) -> HttpResponse:
    """The Analytics page for the centers the user may view."""
    form, centers = _form(request)
    keys = _center_keys(centers)
    context: dict[str, Any] = {"form": form, "centers": centers, "query": request.GET.urlencode()}
    if form.is_bound and not form.is_valid():
        return render(request, "reports/analytics.html", context, status=400)
    options = form.options()
    revision = data_revision(keys)
    cohort = analyses.apply_filters(cohort_of(keys, revision), options.filters)
    context["patients"] = cohort.height
    context["synthetic"] = bool(cohort.height) and bool(cohort["synthetic"].any())
    context["options"] = options
    context["group_label"] = labels.column_label(options.group) if options.group else None
    context["compare_label"] = labels.column_label(options.compare_by)
    context["arm_levels"] = analyses.arm_levels(cohort, options.compare_by)
    context["report_pdf"] = find_chromium() is not None
    if cohort.height:
        scope = (keys, revision, get_language())
        context["sections"] = cached_sections(cohort, options, scope)
    return render(request, "reports/analytics.html", context)


@signed_in
def download(request: HttpRequest, key: str) -> HttpResponse:
    """The frame behind one plot or table as CSV, for the page's filters."""
    if key != "cohort" and key not in analyses.DOWNLOADS:
        raise Http404("no such download")
    form, centers = _form(request)
    if form.is_bound and not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    options = form.options()
    keys = _center_keys(centers)
    cohort = analyses.apply_filters(cohort_of(keys, data_revision(keys)), options.filters)
    try:
        frame = analyses.download_frame(cohort, options, key)
    except CohortError as error:
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(frame.write_csv(), content_type="text/csv; charset=utf-8")
    name = f"carta-{key}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def report_language() -> str:
    """The report language of the page's language (``en`` or ``zh-hans``)."""
    return "zh-hans" if (get_language() or "en").lower().startswith("zh") else "en"


@signed_in
def report(request: HttpRequest, kind: str) -> HttpResponse:
    """The outcome report (:mod:`carta.analytics.report`) of exactly the page's filters and
    grouping, in the page's language, as an HTML or PDF attachment."""
    if kind not in ("html", "pdf"):
        raise Http404("no such report format")
    form, centers = _form(request)
    if form.is_bound and not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    options = form.options()
    keys = _center_keys(centers)
    cohort = analyses.apply_filters(cohort_of(keys, data_revision(keys)), options.filters)
    if cohort.is_empty():
        message = _("No infused patients match this selection.")
        return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
    try:
        html = page_report_html(
            cohort,
            centers=list(centers.order_by("code")),
            filters=options.filters,
            group=options.group,
            lang=report_language(),
        )
    except CohortError as error:
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    name = f"carta-report-{timezone.localdate().isoformat()}.{kind}"
    if kind == "html":
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    else:
        try:
            response = HttpResponse(_pdf_bytes(html), content_type="application/pdf")
        except PdfUnavailableError as error:
            return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _pdf_bytes(html: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="carta-report-") as folder:
        target = Path(folder) / "report.pdf"
        html_to_pdf(html, target)
        return target.read_bytes()
