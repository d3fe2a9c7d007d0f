"""``build_report``: the outcome report of a cohort, section by section.

Every number comes from the analyses of :mod:`carta.analytics` (``describe``,
``response_rates``, ``kaplan_meier``, ``cumulative_incidence``, ``gray_test``,
``incidence_by_grade``, ``cox_regression``) and the batch rules; this module only chooses the
columns, formats the numbers and words them in the report's language. A section whose inputs
are absent, or whose analysis refuses the data (:class:`CohortError`: a group without events
for a test, a covariate level without deaths ...), says why instead of failing the report.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata

import numpy as np
import polars as pl

from carta.analytics.cohort import (
    ALL,
    GROUP,
    CohortError,
    describe,
    group_column,
)
from carta.analytics.competing import cumulative_incidence, gray_test, incidence_by_grade
from carta.analytics.plots import forest_plot, incidence_plot
from carta.analytics.regression import CoxModel, cox_regression
from carta.analytics.report.baseline import baseline_scores
from carta.analytics.report.common import (
    DASH,
    DEFAULT_COVARIATES,
    EMPTY,
    LANDMARK_MONTHS,
    RMST_MONTHS,
    _Context,
    _count_percent,
    _estimate_ci,
    _interval,
    _median_iqr,
    _missing_columns,
    _number,
    _p_phrase,
    _p_value,
    _survival_table,
    _term_label,
    default_covariates,
    km_svg,
)
from carta.analytics.report.document import Block, Figure, Note, Paragraph, Report, Section, Table
from carta.analytics.report.figures import (
    DAYS_PER_MONTH,
    SWIMMER_LIMIT,
    SWIMMER_SEED,
    figure_style,
    swimmer_plot,
    to_svg,
)
from carta.analytics.report.filters import Filters, apply_filters, describe_filters
from carta.analytics.report.models import compare_section, logistic_section, vein_to_vein_section
from carta.analytics.report.source import with_numbers
from carta.analytics.report.text import Text
from carta.analytics.response import RESPONSE_ORDER, duration_of_response, response_rates
from carta.analytics.survival import SurvivalCurves, kaplan_meier, log_rank_from_curves

INCIDENCE_DAYS = (7.0, 14.0, 30.0)
NUMERIC_VARIABLES = ("age_at_infusion_years", "prior_lines", "vein_to_vein_days", "bsa_m2")
CATEGORICAL_VARIABLES = (
    "sex",
    "disease",
    "disease_subtype",
    "product_code",
    "target_antigen",
    "region",
    "center_id",
    "prior_transplant",
    "bridging_therapy",
    "ld_regimen",
    "dose_band",
)
BAND_ORDER = ("low", "middle", "high")  # dose bands, in dose order rather than alphabetical
MAX_LEVELS = 15  # a categorical column with more values is left out of the cohort table
SYNDROMES = ("crs", "icans")
SOFTWARE = ("carta", "polars", "numpy", "scipy", "statsmodels", "matplotlib")
Progress = Callable[[str], None]


def build_report(
    cohort: pl.DataFrame,
    *,
    group: str | None = None,
    lang: str = "en",
    title: str | None = None,
    filters: Filters | None = None,
    covariates: Sequence[str] | None = None,
    compare: str | None = None,
    arms: Sequence[str] | None = None,
    source: str = "",
    synthetic: bool | None = None,
    baseline_first_day: int | None = None,
    baseline_from_registry: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Report:
    """The report of ``cohort`` (one row per patient) after ``filters``, by ``group``.

    ``synthetic`` None looks for a true ``synthetic`` column. ``baseline_first_day`` says
    that the ``baseline_*`` lab columns were taken from patient-days starting that day (see
    :mod:`carta.analytics.report.source`); ``baseline_from_registry`` that they are the
    registry's latest values before lymphodepletion (``carta.web.reports.outcome_report``).
    ``compare`` names the protocol column of the IPW comparison (default ``ld_regimen``) and
    ``arms`` its two values, reference first (default: its two largest groups).
    Bad filters or a bad group column raise
    :class:`CohortError` before any section is computed.
    """
    text = Text(lang)
    chosen = dict(filters or {})
    frame = with_numbers(apply_filters(cohort, chosen) if chosen else cohort)
    if frame.height == 0:
        raise CohortError("the cohort has no patients")
    levels: tuple[str, ...] = (ALL,)
    if group is not None:
        _, levels = group_column(frame, group)
    context = _Context(frame, group, levels, text)
    risk_source = _risk_source(text, baseline_first_day, from_registry=baseline_from_registry)
    report_progress = progress or (lambda _: None)
    steps: list[tuple[str, Callable[[_Context], Section]]] = [
        ("cohort", _cohort_section),
        ("baseline_risk", lambda c: _baseline_section(c, risk_source)),
        ("response", _response_section),
        ("survival", _survival_section),
        ("incidence", _incidence_section),
        ("toxicity", _toxicity_section),
        ("swimmer", _swimmer_section),
        ("forest", lambda c: _forest_section(c, covariates)),
        ("compare", lambda c: compare_section(c, compare, arms, covariates)),
        ("logistic", lambda c: logistic_section(c, covariates)),
        ("vein_to_vein", lambda c: vein_to_vein_section(c, covariates)),
    ]
    sections = []
    with figure_style(text.lang):
        for index, (key, make) in enumerate(steps, start=1):
            report_progress(f"[{index}/{len(steps) + 1}] {key}")
            sections.append(_guarded(context, key, make))
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    facts_values = _facts(context, source, chosen, moment)
    report_progress(f"[{len(steps) + 1}/{len(steps) + 1}] methods")
    sections.append(_methods_section(context, sections, facts_values, risk_source))
    is_synthetic = _is_synthetic(frame) if synthetic is None else synthetic
    return Report(
        title=title or text("report_title"),
        lang=text.lang,
        facts=tuple(facts_values.items()),
        synthetic=is_synthetic,
        sections=tuple(sections),
    )


def _guarded(context: _Context, key: str, make: Callable[[_Context], Section]) -> Section:
    """The section, or one saying why the data do not allow it."""
    try:
        return make(context)
    except CohortError as error:
        message = context.text("na_error", error=str(error))
        return Section(key, context.text(f"sec_{key}"), (Note(message),))


def _is_synthetic(frame: pl.DataFrame) -> bool:
    if "synthetic" not in frame.columns:
        return False
    return bool(frame["synthetic"].cast(pl.String).str.to_lowercase().is_in(["true", "1"]).any())


def _facts(context: _Context, source: str, filters: Filters, moment: str) -> dict[str, str]:
    text = context.text
    return {
        text("data_source"): source or EMPTY,
        text("filters"): describe_filters(filters) or text("no_filters"),
        text("generated"): moment,
        text("patients"): f"{context.cohort.height:,}",
        text("grouped_by"): (
            f"{text.variable(context.group)} ({context.group})"
            if context.group
            else text("not_grouped")
        ),
        text("software"): f"carta {_version('carta')}",
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


# --- cohort ---------------------------------------------------------------------------------------


def _header(context: _Context) -> tuple[str, ...]:
    return (
        context.text("col_characteristic"),
        *(f"{label} (n={part.height:,})" for label, part in context.subsets()),
    )


def _cohort_section(context: _Context) -> Section:
    subsets = context.subsets()
    rows: list[tuple[str, ...]] = [
        (context.text("var_patients"), *(f"{part.height:,}" for _, part in subsets))
    ]
    heads: set[int] = set()
    shown = 0
    for column in NUMERIC_VARIABLES:
        if column in context.cohort.columns and column != context.group:
            rows += _numeric_rows(context, column)
            heads.add(len(rows) - 2)
            shown += 1
    for column in CATEGORICAL_VARIABLES:
        if column in context.cohort.columns and column != context.group:
            block = _categorical_rows(context, column)
            if block:
                heads.add(len(rows))
                rows += block
                shown += 1
    table = Table(
        context.text("sec_cohort"), _header(context), tuple(rows), header_rows=frozenset(heads)
    )
    return Section(
        "cohort",
        context.text("sec_cohort"),
        (Paragraph(context.text("cohort_intro", shown=shown)), table),
    )


def _numeric_rows(context: _Context, column: str) -> list[tuple[str, ...]]:
    per_group = describe(context.cohort, column, context.group).to_dicts()
    if context.group is not None:
        per_group.append(describe(context.cohort, column).to_dicts()[0])
    digits = 0 if column in ("prior_lines", "vein_to_vein_days") else 1
    label = context.text.variable(column)
    median: tuple[str, ...] = (f"{label}, {context.text('median_iqr')}",)
    value_range: tuple[str, ...] = (f"    {context.text('range')}",)
    median += tuple(_median_iqr(row, digits) for row in per_group)
    value_range += tuple(
        f"{_number(row['min'], digits)}{DASH}{_number(row['max'], digits)}" for row in per_group
    )
    return [median, value_range]


def _categorical_rows(context: _Context, column: str) -> list[tuple[str, ...]]:
    values = context.cohort[column]
    if values.dtype == pl.Categorical:
        values = values.cast(pl.String)
    # Sorted before the cast: enumerations keep their declared order, yes/no become words.
    levels = values.drop_nulls().unique().sort().cast(pl.String).to_list()
    if set(levels) == set(BAND_ORDER):
        levels = list(BAND_ORDER)
    if not levels or len(levels) > MAX_LEVELS:
        return []
    subsets = context.subsets()
    rows = [(context.text.variable(column), *("" for _ in subsets))]
    for level in levels:
        cells = []
        for _, part in subsets:
            text = part[column].cast(pl.String)
            cells.append(_count_percent(int((text == level).sum()), int(text.is_not_null().sum())))
        rows.append((f"    {context.text.value(level)}", *cells))
    missing = [int(part[column].null_count()) for _, part in subsets]
    if any(missing):
        rows.append((f"    {context.text('missing')}", *(f"{m:,}" for m in missing)))
    return rows


# --- baseline risk --------------------------------------------------------------------------------


def _risk_source(text: Text, first_day: int | None, *, from_registry: bool) -> str:
    """Where the baseline labs came from, in words."""
    if from_registry:
        return text("risk_source_registry")
    if first_day is not None:
        return text("risk_source_days", first=first_day)
    return text("risk_source_columns")


def _baseline_section(context: _Context, source: str) -> Section:
    text = context.text
    scores = baseline_scores(context.cohort)
    blocks: list[Block] = []
    for score, needed in scores.absent.items():
        blocks.append(Note(text("na_baseline_labs", score=score, columns=", ".join(needed))))
    if scores.scores.width == 0:
        return Section("baseline_risk", text("sec_baseline_risk"), tuple(blocks))
    frame = (
        context.cohort.select(context.group).hstack(scores.scores)
        if context.group
        else scores.scores
    )
    scored = _Context(frame, context.group, context.levels, text)
    rows: list[tuple[str, ...]] = []
    heads: set[int] = set()
    if "hematotox_status" in frame.columns:
        heads.add(len(rows))
        rows += _hematotox_rows(scored)
    for name, key in (("easix", "risk_easix"), ("m_easix", "risk_m_easix")):
        if f"{name}_status" in frame.columns:
            heads.add(len(rows))
            rows += _ratio_rows(scored, name, text(key))
    table = Table(text("sec_baseline_risk"), _header(scored), tuple(rows), frozenset(heads))
    blocks = [Paragraph(text("risk_intro", source=source)), table, *blocks]
    return Section("baseline_risk", text("sec_baseline_risk"), tuple(blocks), {"scores": frame})


def _status_rows(context: _Context, status: str) -> list[tuple[str, ...]]:
    text = context.text
    lacking = [int((part[status] == "cannot_compute").sum()) for _, part in context.subsets()]
    invalid = [int((part[status] == "invalid_input").sum()) for _, part in context.subsets()]
    rows = [(f"    {text('risk_lacking')}", *(f"{n:,}" for n in lacking))]
    if any(invalid):
        rows.append((f"    {text('risk_invalid')}", *(f"{n:,}" for n in invalid)))
    return rows


def _hematotox_rows(context: _Context) -> list[tuple[str, ...]]:
    text = context.text
    computed, low, high, median = [], [], [], []
    for _, part in context.subsets():
        ok = part.filter(pl.col("hematotox_status") == "ok")
        computed.append(f"{ok.height:,}")
        low.append(_count_percent(int((ok["hematotox_risk"] == "low").sum()), ok.height))
        high.append(_count_percent(int((ok["hematotox_risk"] == "high").sum()), ok.height))
        median.append(_quartiles(ok["hematotox_score"], 0))
    return [
        (text("risk_hematotox"), *("" for _ in computed)),
        (f"    {text('risk_computed')}", *computed),
        (f"    {text('risk_hematotox_low')}", *low),
        (f"    {text('risk_hematotox_high')}", *high),
        (f"    {text('risk_score_median')}", *median),
        *_status_rows(context, "hematotox_status"),
    ]


def _quartiles(values: pl.Series, digits: int) -> str:
    present = values.drop_nulls().cast(pl.Float64)
    if present.len() == 0:
        return EMPTY
    row = {
        "median": present.median(),
        "q1": present.quantile(0.25, "linear"),
        "q3": present.quantile(0.75, "linear"),
    }
    return _median_iqr(row, digits)


def _ratio_rows(context: _Context, name: str, label: str) -> list[tuple[str, ...]]:
    text = context.text
    computed, median, korell = [], [], []
    for _, part in context.subsets():
        ok = part.filter(pl.col(f"{name}_status") == "ok")
        computed.append(f"{ok.height:,}")
        median.append(_quartiles(ok[name], 2))
        if name == "easix":
            korell.append(_count_percent(int(ok["korell"].sum()), ok.height))
    rows = [
        (label, *("" for _ in computed)),
        (f"    {text('risk_computed')}", *computed),
        (f"    {text('median_iqr')}", *median),
    ]
    if korell:
        rows.append((f"    {text('risk_korell')}", *korell))
    return rows + _status_rows(context, f"{name}_status")


# --- response -------------------------------------------------------------------------------------


def _response_section(context: _Context) -> Section:
    absent = _missing_columns(context, "response", ["best_response"])
    if absent is not None:
        return absent
    text = context.text
    rates = response_rates(context.cohort, "best_response", context.group)
    rows = [
        (
            context.group_label(row[GROUP]),
            f"{row['n']:,}",
            f"{row['evaluable']:,}",
            _count_percent(row["orr_n"], row["denominator"]),
            _interval(row["orr_lower"], row["orr_upper"], 100),
            _count_percent(row["cr_n"], row["denominator"]),
            _interval(row["cr_lower"], row["cr_upper"], 100),
        )
        for row in rates.table.iter_rows(named=True)
    ]
    columns = (
        text("col_group"),
        text("col_n"),
        text("col_evaluable"),
        text("col_orr"),
        text("col_ci"),
        text("col_cr"),
        text("col_ci"),
    )
    blocks: list[Block] = [
        Paragraph(text("response_intro")),
        Table(text("orr_caption"), columns, tuple(rows)),
        _best_response_table(context, rates.counts),
    ]
    data = {"rates": rates.table, "counts": rates.counts}
    blocks += _duration_blocks(context, data)
    return Section("response", text("sec_response"), tuple(blocks), data)


def _best_response_table(context: _Context, counts: pl.DataFrame) -> Table:
    words = [
        word
        for word in (*RESPONSE_ORDER, "not_evaluable")
        if counts.filter(pl.col("response") == word)["n"].sum() > 0
    ]
    rows = []
    for level in dict.fromkeys(counts[GROUP].to_list()):
        here = counts.filter(pl.col(GROUP) == level)
        total = int(here["n"].sum())
        cells = [
            _count_percent(int(here.filter(pl.col("response") == word)["n"].sum()), total)
            for word in words
        ]
        rows.append((context.group_label(level), *cells))
    columns = (context.text("col_group"), *(context.text.value(word) for word in words))
    return Table(context.text("best_response_caption"), columns, tuple(rows))


def _duration_blocks(context: _Context, data: dict[str, pl.DataFrame]) -> list[Block]:
    needed = ("first_response_day", "pfs_days", "pfs_event")
    absent = [name for name in needed if name not in context.cohort.columns]
    text = context.text
    if absent:
        names = ", ".join(repr(name) for name in absent)
        return [Note(text("dor_caption") + ": " + text("na_columns", columns=names))]
    frame = context.cohort.with_columns(
        (pl.col("first_response_day") / DAYS_PER_MONTH).alias("_response_months"),
        (pl.col("pfs_days").cast(pl.Float64) / DAYS_PER_MONTH).alias("_pfs_months"),
    )
    try:
        curves = duration_of_response(
            frame,
            response_day="_response_months",
            time="_pfs_months",
            event="pfs_event",
            group=context.group,
        )
    except CohortError as error:
        return [Note(text("dor_caption") + ": " + text("na_error", error=str(error)))]
    data["duration_of_response"] = curves.summary
    return [_survival_table(context, curves, text("dor_caption"), rmst=False)]


# --- survival -------------------------------------------------------------------------------------


def _survival_section(context: _Context) -> Section:
    text = context.text
    blocks: list[Block] = []
    data: dict[str, pl.DataFrame] = {}
    for endpoint, time, event in (("os", "os_days", "os_event"), ("pfs", "pfs_days", "pfs_event")):
        absent = [name for name in (time, event) if name not in context.cohort.columns]
        if absent:
            names = ", ".join(repr(name) for name in absent)
            blocks.append(Note(f"{text(endpoint)}: {text('na_columns', columns=names)}"))
            continue
        try:
            blocks += _endpoint_blocks(context, endpoint, time, event, data)
        except CohortError as error:
            blocks.append(Note(f"{text(endpoint)}: {text('na_error', error=str(error))}"))
    return Section("survival", text("sec_survival"), tuple(blocks), data)


def _months(context: _Context, time: str) -> pl.DataFrame:
    from carta.analytics.cohort import time_column

    days = time_column(context.cohort, time)
    return context.cohort.with_columns((days / DAYS_PER_MONTH).alias("_months"))


def _endpoint_blocks(
    context: _Context, endpoint: str, time: str, event: str, data: dict[str, pl.DataFrame]
) -> list[Block]:
    text = context.text
    curves = kaplan_meier(_months(context, time), "_months", event, context.group)
    data[endpoint] = curves.summary
    data[f"{endpoint}_landmarks"] = curves.at(LANDMARK_MONTHS)
    caption = text("survival_caption", endpoint=text(endpoint))
    blocks: list[Block] = [Figure(text(endpoint), km_svg(context, curves, text(endpoint)))]
    blocks.append(_survival_table(context, curves, caption, rmst=True, data=data, key=endpoint))
    blocks += _no_event_notes(context, curves)
    if context.group is not None and len(context.levels) > 1:
        try:
            test = log_rank_from_curves(curves, context.group)
            data[f"{endpoint}_log_rank"] = pl.DataFrame(
                {"chi2": [test.chi2], "df": [test.df], "p": [test.p]}
            )
            blocks.append(
                Paragraph(
                    text(
                        "log_rank_result", chi2=f"{test.chi2:.2f}", df=test.df, p=_p_phrase(test.p)
                    )
                )
            )
        except CohortError as error:
            blocks.append(Note(text("na_error", error=str(error))))
    return blocks


def _no_event_notes(context: _Context, curves: SurvivalCurves) -> list[Block]:
    empty = curves.summary.filter(pl.col("events") == 0)[GROUP].to_list()
    if not empty:
        return []
    groups = ", ".join(context.group_label(level) for level in empty)
    return [Note(context.text("no_events_note", groups=groups))]


# --- cumulative incidence -------------------------------------------------------------------------


def _toxicity_absent(context: _Context, key: str, columns: Sequence[str]) -> Section | None:
    absent = [name for name in columns if name not in context.cohort.columns]
    if not absent:
        return None
    note = Note(context.text("na_toxicity", columns=", ".join(absent)))
    return Section(key, context.text(f"sec_{key}"), (note,))


def _incidence_section(context: _Context) -> Section:
    needed = [f"{s}_severe_{part}" for s in SYNDROMES for part in ("time", "status")]
    absent = _toxicity_absent(context, "incidence", needed)
    if absent is not None:
        return absent
    blocks: list[Block] = []
    data: dict[str, pl.DataFrame] = {}
    for syndrome in SYNDROMES:
        try:
            blocks += _incidence_blocks(context, syndrome, data)
        except CohortError as error:
            label = context.text(f"{syndrome}3")
            blocks.append(Note(f"{label}: {context.text('na_error', error=str(error))}"))
    return Section("incidence", context.text("sec_incidence"), tuple(blocks), data)


def _incidence_blocks(
    context: _Context, syndrome: str, data: dict[str, pl.DataFrame]
) -> list[Block]:
    text = context.text
    time, status = f"{syndrome}_severe_time", f"{syndrome}_severe_status"
    graded = context.cohort.filter(pl.col(status).is_not_null())
    excluded = context.cohort.height - graded.height
    incidence = cumulative_incidence(graded, time, status, context.group)
    data[syndrome] = incidence.summary
    label = text(f"{syndrome}3")
    figure = incidence_plot(
        incidence, title=label, xlabel=text("days_since"), ylabel=text("cumulative_incidence")
    )
    landmarks = incidence.at(INCIDENCE_DAYS)
    data[f"{syndrome}_landmarks"] = landmarks
    columns = (
        text("col_group"),
        text("col_n"),
        text("col_events"),
        *(text("col_at_days", days=days) for days in INCIDENCE_DAYS),
    )
    rows = []
    for row in incidence.summary.iter_rows(named=True):
        here = landmarks.filter(pl.col(GROUP) == row[GROUP])
        rows.append(
            (
                context.group_label(row[GROUP]),
                f"{row['n']:,}",
                f"{row['events']:,}",
                *(
                    _estimate_ci(mark["incidence"], mark["lower"], mark["upper"], 100)
                    for mark in here.iter_rows(named=True)
                ),
            )
        )
    blocks: list[Block] = [
        Figure(label, to_svg(figure)),
        Table(text("incidence_caption", event=label), columns, tuple(rows)),
    ]
    if excluded:
        blocks.append(Note(text("excluded_not_graded", count=f"{excluded:,}")))
    if context.group is not None and len(context.levels) > 1:
        try:
            test = gray_test(graded, time, status, context.group)
            data[f"{syndrome}_gray"] = pl.DataFrame(
                {"chi2": [test.chi2], "df": [test.df], "p": [test.p]}
            )
            chi2, p = f"{test.chi2:.2f}", _p_phrase(test.p)
            blocks.append(Paragraph(text("gray_result", chi2=chi2, df=test.df, p=p)))
        except CohortError as error:
            blocks.append(Note(text("na_error", error=str(error))))
    return blocks


# --- toxicity tables ------------------------------------------------------------------------------


def _toxicity_section(context: _Context) -> Section:
    needed = [f"{s}_max_grade" for s in SYNDROMES]
    absent = _toxicity_absent(context, "toxicity", needed)
    if absent is not None:
        return absent
    text = context.text
    blocks: list[Block] = []
    data: dict[str, pl.DataFrame] = {}
    for syndrome in SYNDROMES:
        by_grade = incidence_by_grade(context.cohort, f"{syndrome}_max_grade", context.group)
        data[syndrome] = by_grade
        blocks.append(_grade_table(context, syndrome, by_grade))
        timing = _timing_table(context, syndrome)
        if timing is not None:
            blocks.append(timing)
    return Section("toxicity", text("sec_toxicity"), tuple(blocks), data)


def _grade_table(context: _Context, syndrome: str, by_grade: pl.DataFrame) -> Table:
    text = context.text
    grades = range(6)
    columns = (
        text("col_group"),
        text("col_graded"),
        *(text("col_grade", grade=grade) for grade in grades),
        text("col_any_grade"),
        text("col_grade3"),
        text("col_not_graded"),
    )
    rows = [
        (
            context.group_label(row[GROUP]),
            f"{row['n']:,}",
            *(_count_percent(row[f"grade_{grade}"], row["n"]) for grade in grades),
            _estimate_ci(
                row["any_grade_rate"], row["any_grade_lower"], row["any_grade_upper"], 100
            ),
            _estimate_ci(
                row["grade_3_plus_rate"], row["grade_3_plus_lower"], row["grade_3_plus_upper"], 100
            ),
            f"{row['not_graded']:,}",
        )
        for row in by_grade.iter_rows(named=True)
    ]
    return Table(text("grade_caption", syndrome=text(syndrome)), columns, tuple(rows))


def _timing_table(context: _Context, syndrome: str) -> Table | None:
    onset, days = f"{syndrome}_onset_day", f"{syndrome}_days"
    if onset not in context.cohort.columns or days not in context.cohort.columns:
        return None
    text = context.text
    rows = []
    for label, part in context.subsets():
        with_it = part.filter(pl.col(f"{syndrome}_max_grade") >= 1)
        if with_it.height == 0:
            rows.append((label, "0", EMPTY, EMPTY))
            continue
        onset_row = describe(with_it, onset).row(0, named=True)
        days_row = describe(with_it, days).row(0, named=True)
        rows.append(
            (label, f"{with_it.height:,}", _median_iqr(onset_row, 0), _median_iqr(days_row, 0))
        )
    columns = (
        text("col_group"),
        text("col_with_syndrome"),
        text("col_onset"),
        text("col_duration"),
    )
    return Table(text("onset_caption", syndrome=text(syndrome)), columns, tuple(rows))


# --- swimmer --------------------------------------------------------------------------------------


def _swimmer_section(context: _Context) -> Section:
    absent = _missing_columns(context, "swimmer", ["os_days", "os_event"])
    if absent is not None:
        return absent
    text = context.text
    cohort = _months(context, "os_days")
    n = cohort.height
    sample = cohort.sample(SWIMMER_LIMIT, seed=SWIMMER_SEED) if n > SWIMMER_LIMIT else cohort
    from carta.analytics.cohort import event_column

    died = event_column(sample, "os_event").cast(pl.Boolean)
    columns = [died.alias("_died")]
    for source, target in (
        ("first_response_day", "_response"),
        ("progression_day", "_progression"),
    ):
        values = (
            sample[source].cast(pl.Float64) / DAYS_PER_MONTH
            if source in sample.columns
            else pl.Series([None] * sample.height, dtype=pl.Float64)
        )
        columns.append(values.alias(target))
    patients = sample.with_columns(columns).sort("_months", descending=True)
    figure = swimmer_plot(patients, text, context.group)
    caption = (
        text("swimmer_sample", shown=SWIMMER_LIMIT, n=f"{n:,}", seed=SWIMMER_SEED)
        if n > SWIMMER_LIMIT
        else text("swimmer_all", n=f"{n:,}")
    )
    keep = ["patient_id"] if "patient_id" in patients.columns else []
    data = {"patients": patients.select(*keep, "_months", "_died", "_response", "_progression")}
    return Section(
        "swimmer",
        text("sec_swimmer"),
        (Paragraph(caption), Figure(text("sec_swimmer"), to_svg(figure))),
        data,
    )


# --- Cox model and forest plot ----------------------------------------------------------------------


def _forest_section(context: _Context, covariates: Sequence[str] | None) -> Section:
    absent = _missing_columns(context, "forest", ["os_days", "os_event"])
    if absent is not None:
        return absent
    text = context.text
    chosen = list(covariates) if covariates else default_covariates(context.cohort, context.group)
    if not chosen:
        note = Note(text("forest_none", covariates=", ".join(DEFAULT_COVARIATES)))
        return Section("forest", text("sec_forest"), (note,))
    with np.errstate(invalid="ignore"):  # collinear terms: reported below, not warned
        model = cox_regression(context.cohort, "os_days", "os_event", chosen)
    undefined = model.coefficients.filter(~pl.col("se").is_finite())["term"].to_list()
    if undefined:
        raise CohortError(
            f"the covariates {', '.join(chosen)} are collinear (no standard error for "
            f"{', '.join(undefined)}); choose other covariates with --covariates"
        )
    coefficients = model.coefficients.with_columns(
        pl.col("term").map_elements(lambda term: _term_label(context, term), return_dtype=pl.String)
    )
    figure = forest_plot(coefficients, title=text("sec_forest"), xlabel=text("hazard_ratio"))
    rows = tuple(
        (
            row["term"],
            _estimate_ci(row["hr"], row["hr_lower"], row["hr_upper"], digits=2),
            _p_value(row["p"]),
        )
        for row in coefficients.iter_rows(named=True)
    )
    columns = (text("col_term"), text("col_hr"), text("col_p"))
    blocks: list[Block] = [
        Paragraph(_forest_intro(context, model, chosen)),
        Figure(text("sec_forest"), to_svg(figure)),
        Table(text("sec_forest"), columns, rows),
    ]
    blocks += _ph_paragraph(context, model)
    if not covariates:
        blocks += _left_out_note(context, chosen)
    data = {"coefficients": model.coefficients, "covariates": pl.DataFrame({"name": chosen})}
    return Section("forest", text("sec_forest"), tuple(blocks), data)


def _left_out_note(context: _Context, chosen: Sequence[str]) -> list[Block]:
    """The default covariates the cohort has and that vary but were left out (collinear)."""
    left_out = [
        name
        for name in DEFAULT_COVARIATES
        if name in context.cohort.columns
        and name not in chosen
        and name != context.group
        and context.cohort[name].drop_nulls().n_unique() > 1
    ]
    if not left_out:
        return []
    names = ", ".join(f"{context.text.variable(name)} ({name})" for name in left_out)
    return [Note(context.text("forest_left_out", covariates=names))]


def _forest_intro(context: _Context, model: CoxModel, chosen: Sequence[str]) -> str:
    text = context.text
    dropped = text("forest_dropped", dropped=f"{model.dropped:,}") if model.dropped else ""
    intro = text(
        "forest_intro",
        covariates=", ".join(f"{text.variable(name)} ({name})" for name in chosen),
        n=f"{model.n:,}",
        events=f"{model.events:,}",
        dropped=dropped,
    )
    if model.reference:
        levels = ", ".join(
            f"{text.variable(column)} = {text.value(level)}"
            for column, level in model.reference.items()
        )
        intro += " " + text("forest_reference", levels=levels)
    return intro


def _ph_paragraph(context: _Context, model: CoxModel) -> list[Block]:
    table = model.proportional_hazards
    if table is None:
        return []
    overall = table.filter(pl.col("term") == "GLOBAL")
    if overall.height == 0:
        return []
    row = overall.row(0, named=True)
    chi2, p = f"{row['chi2']:.2f}", _p_phrase(row["p"])
    return [Paragraph(context.text("forest_ph", chi2=chi2, df=row["df"], p=p))]


# --- methods --------------------------------------------------------------------------------------


def _methods_section(
    context: _Context,
    sections: Sequence[Section],
    facts: Mapping[str, str],
    source: str,
) -> Section:
    text = context.text
    values = list(facts.values())
    forest = next(section for section in sections if section.key == "forest")
    covariates = (
        ", ".join(forest.data["covariates"]["name"].to_list())
        if "covariates" in forest.data
        else EMPTY
    )
    versions = ", ".join(
        [f"Python {platform.python_version()}"]
        + [f"{package} {_version(package)}" for package in SOFTWARE]
    )
    paragraphs = [
        text(
            "methods_cohort",
            n=values[3],
            source=values[0],
            filters=values[1],
            group=values[4],
            date=values[2],
            version=_version("carta"),
        ),
        text("methods_baseline", source=source),
        text("methods_response"),
        text("methods_survival", tau=text("rmst_tau", months=RMST_MONTHS)),
        text("methods_incidence"),
        text("methods_cox", covariates=covariates),
        *_model_methods(context, sections),
        text("methods_swimmer", limit=SWIMMER_LIMIT, seed=SWIMMER_SEED),
        text("methods_software", versions=versions),
    ]
    return Section("methods", text("sec_methods"), tuple(Paragraph(p) for p in paragraphs))


def _model_methods(context: _Context, sections: Sequence[Section]) -> list[str]:
    """The methods of the comparison, logistic and vein-to-vein sections that were computed."""
    text = context.text
    computed = {section.key: section for section in sections if section.available}
    paragraphs = []
    compare = computed.get("compare")
    if compare is not None and "arms" in compare.data:
        arms = compare.data["arms"]
        paragraphs.append(
            text(
                "methods_compare",
                column=arms["column"][0],
                arms=", ".join(text.value(arm) for arm in arms["arm"].to_list()),
                covariates=", ".join(compare.data["covariates"]["name"].to_list()),
            )
        )
    if "logistic" in computed:
        paragraphs.append(text("methods_logistic"))
    if "vein_to_vein" in computed:
        paragraphs.append(text("methods_v2v"))
    return paragraphs
