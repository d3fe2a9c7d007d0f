"""The Analytics page's analyses: :mod:`carta.analytics` functions on a filtered cohort.

Each section is one function from (cohort, :class:`Options`) to a :class:`Section`: the result
objects the page shows and ``frames``, the data behind each plot and table by download key.
The CSV view calls the same function and sends ``frames[key]``, so a download is exactly the
frame behind what the page shows. An analysis the data cannot support raises
:class:`~carta.analytics.cohort.CohortError`; the section then carries its message instead
of a result (a group too small for an estimate is a message, never a server error).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import polars as pl

from carta.analytics.cohort import (
    GROUP,
    OBJECTIVE_RESPONSES,
    SEVERE_GRADE,
    CohortError,
    describe,
    group_column,
)
from carta.analytics.compare import ProtocolComparison, compare_protocols, default_arms
from carta.analytics.competing import CumulativeIncidence, cumulative_incidence, gray_test
from carta.analytics.competing import incidence_by_grade as grade_table
from carta.analytics.regression import (
    CoxModel,
    LogisticModel,
    VeinToVein,
    cox_regression,
    logistic_regression,
    vein_to_vein_association,
)
from carta.analytics.response import ResponseRates, response_rates
from carta.analytics.survival import SurvivalCurves, kaplan_meier, log_rank_from_curves

# The columns an analyst may group or compare by (the stratifications).
GROUP_COLUMNS = (
    "product_code",
    "target_antigen",
    "disease",
    "center_id",
    "dose_band",
    "ld_regimen",
)
LANDMARK_DAYS = (182.625, 365.25, 730.5)  # 6, 12 and 24 months
LANDMARK_MONTHS = (6, 12, 24)
# Baseline covariates of the default Cox model and of the propensity model; the grouping
# column joins the Cox model. A covariate with one value in the selection is left out.
BASELINE_COVARIATES = ("age_at_infusion_years", "sex", "prior_lines")
# The 0/1 outcomes of the logistic models, by section: objective response (every patient
# counts, not evaluable = no response, as in the response section) and grade >= 3 CRS or ICANS
# over days 0-30 (patients without any determined grade left out).
LOGISTIC_OUTCOMES = {
    "orr_model": "objective_response",
    "crs_model": "severe_crs",
    "icans_model": "severe_icans",
}
VEIN_TO_VEIN_PER_DAYS = 7.0

Model = TypeVar("Model")
SYNDROMES = ("crs", "icans")
# Patient-level columns offered as the cohort download: pseudonymised (registry ID and center
# code), never the database key or an identifying field.
COHORT_COLUMNS = (
    "registry_id",
    "center_id",
    "synthetic",
    "sex",
    "age_at_infusion_years",
    "disease",
    "disease_subtype",
    "prior_lines",
    "prior_transplant",
    "product_code",
    "target_antigen",
    "infusion_date",
    "total_cells",
    "cells_per_kg",
    "dose_band",
    "ld_regimen",
    "vein_to_vein_days",
    "best_response",
    "first_response_day",
    "os_days",
    "os_event",
    "pfs_days",
    "pfs_event",
    "crs_max_grade",
    "crs_onset_day",
    "crs_severe_time",
    "crs_severe_status",
    "icans_max_grade",
    "icans_onset_day",
    "icans_severe_time",
    "icans_severe_status",
)


@dataclass(frozen=True, slots=True)
class Filters:
    """Which patients: product, disease, center (code) and infusion dates; ``None`` = any."""

    product: str | None = None
    disease: str | None = None
    center: str | None = None
    infused_from: date | None = None
    infused_to: date | None = None


@dataclass(frozen=True, slots=True)
class Options:
    """How to analyse: the grouping column (``None``: all patients together), the filters and
    the protocol comparison (column and its two arms, reference first; ``None``: the two
    largest groups)."""

    group: str | None = "target_antigen"
    filters: Filters = field(default_factory=Filters)
    compare_by: str = "ld_regimen"
    arms: tuple[str, str] | None = None


@dataclass
class Section:
    """One section's results (``None`` when it failed), the frames behind it by download key,
    the message of a failure and notes (covariates left out, patients not analysed)."""

    result: Any = None
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def apply_filters(cohort: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The patients of ``cohort`` that pass ``filters``."""
    if cohort.is_empty():
        return cohort
    conditions = []
    for column, value in (
        ("product_code", filters.product),
        ("disease", filters.disease),
        ("center_id", filters.center),
    ):
        if value:
            conditions.append(pl.col(column) == value)
    if filters.infused_from is not None:
        conditions.append(pl.col("infusion_date") >= filters.infused_from)
    if filters.infused_to is not None:
        conditions.append(pl.col("infusion_date") <= filters.infused_to)
    return cohort.filter(*conditions) if conditions else cohort


def _guarded(run: Callable[[Section], None]) -> Section:
    section = Section()
    try:
        run(section)
    except CohortError as error:
        section.error = str(error)
        section.result = None
    return section


def _without_missing_group(
    cohort: pl.DataFrame, group: str | None, section: Section
) -> pl.DataFrame:
    """Leave out patients without a value of the grouping column (a dose band needs a dose),
    saying how many."""
    if group is None or group not in cohort.columns:
        return cohort
    missing = cohort[group].null_count()
    if missing:
        section.notes.append(f"missing:{group}:{missing}")
    return cohort.filter(pl.col(group).is_not_null())


# --- response ---------------------------------------------------------------------------------


def response_section(cohort: pl.DataFrame, options: Options) -> Section:
    """ORR and CR rate per group with Clopper-Pearson intervals (every patient counts)."""

    def run(section: Section) -> None:
        data = _without_missing_group(cohort, options.group, section)
        rates: ResponseRates = response_rates(data, "best_response", options.group)
        section.result = rates
        section.frames["response"] = rates.table
        section.frames["response-counts"] = rates.counts

    return _guarded(run)


# --- survival ---------------------------------------------------------------------------------


def survival_section(cohort: pl.DataFrame, options: Options, endpoint: str) -> Section:
    """Kaplan-Meier of ``os`` or ``pfs`` per group: curves, medians, landmarks at 6/12/24
    months, RMST and the log-rank test."""

    def run(section: Section) -> None:
        data = _without_missing_group(cohort, options.group, section)
        curves: SurvivalCurves = kaplan_meier(
            data, f"{endpoint}_days", f"{endpoint}_event", options.group
        )
        section.result = curves
        section.frames[endpoint] = curves.table
        section.frames[f"{endpoint}-summary"] = survival_summary(curves)
        if len(curves.levels) > 1:
            try:
                section.extra["log_rank"] = log_rank_from_curves(curves)
            except CohortError as error:
                section.notes.append(str(error))
        try:
            section.frames[f"{endpoint}-rmst"] = curves.rmst()
        except CohortError as error:
            section.notes.append(str(error))

    return _guarded(run)


def survival_summary(curves: SurvivalCurves) -> pl.DataFrame:
    """One row per group: n, events, median with CI and the survival at 6, 12 and 24 months
    with CI (the table under the plot)."""
    landmarks = curves.at(list(LANDMARK_DAYS))
    wide = curves.summary
    for months, days in zip(LANDMARK_MONTHS, LANDMARK_DAYS, strict=True):
        at = landmarks.filter(pl.col("time") == days).select(
            GROUP,
            pl.col("survival").alias(f"survival_{months}m"),
            pl.col("lower").alias(f"survival_{months}m_lower"),
            pl.col("upper").alias(f"survival_{months}m_upper"),
            pl.col("n_risk").alias(f"n_risk_{months}m"),
        )
        wide = wide.join(at, on=GROUP, how="left")
    return wide


# --- toxicity -------------------------------------------------------------------------------------


def incidence_section(cohort: pl.DataFrame, options: Options, syndrome: str) -> Section:
    """Cumulative incidence of grade >= 3 ``syndrome`` with death as a competing risk, and
    Gray's test across groups. Patients without any determined grade are left out (counted)."""

    def run(section: Section) -> None:
        data = _without_missing_group(cohort, options.group, section)
        status = f"{syndrome}_severe_status"
        ungraded = data[status].null_count() if status in data.columns else 0
        if ungraded:
            section.notes.append(f"ungraded:{ungraded}")
            data = data.filter(pl.col(status).is_not_null())
        incidence: CumulativeIncidence = cumulative_incidence(
            data, f"{syndrome}_severe_time", status, options.group
        )
        section.result = incidence
        section.frames[f"{syndrome}-incidence"] = incidence.table
        if len(incidence.levels) > 1:
            try:
                section.extra["gray"] = gray_test(
                    data, f"{syndrome}_severe_time", status, options.group or ""
                )
            except CohortError as error:
                section.notes.append(str(error))

    return _guarded(run)


def toxicity_section(cohort: pl.DataFrame, options: Options) -> Section:
    """Patients by maximum CRS and ICANS grade per group, with any-grade and grade >= 3 rates."""

    def run(section: Section) -> None:
        data = _without_missing_group(cohort, options.group, section)
        tables = [
            grade_table(data, f"{syndrome}_max_grade", options.group).select(
                pl.lit(syndrome.upper()).alias("syndrome"), pl.all()
            )
            for syndrome in SYNDROMES
        ]
        table = pl.concat(tables)
        section.result = table
        section.frames["toxicity"] = table
        section.frames["toxicity-timing"] = toxicity_timing(data, options.group)

    return _guarded(run)


def toxicity_timing(data: pl.DataFrame, group: str | None) -> pl.DataFrame:
    """Onset day and days at grade >= 1 of CRS and ICANS per group, among the patients with
    the syndrome (n, missing, mean, median, quartiles, range)."""
    parts = []
    for syndrome in SYNDROMES:
        affected = data.filter(pl.col(f"{syndrome}_max_grade") >= 1)
        if affected.is_empty():
            continue
        for measure in ("onset_day", "days"):
            parts.append(
                describe(affected, f"{syndrome}_{measure}", group).select(
                    pl.lit(syndrome.upper()).alias("syndrome"),
                    pl.lit(measure).alias("measure"),
                    pl.all(),
                )
            )
    return pl.concat(parts) if parts else pl.DataFrame()


# --- Cox regression -------------------------------------------------------------------------------


def varying(cohort: pl.DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """``columns`` split into those with at least two values among the patients and the rest
    (a constant covariate cannot be estimated)."""
    kept, left_out = [], []
    for column in columns:
        if column in cohort.columns and cohort[column].drop_nulls().n_unique() >= 2:
            kept.append(column)
        else:
            left_out.append(column)
    return kept, left_out


def cox_section(cohort: pl.DataFrame, options: Options) -> Section:
    """Cox model of overall survival on the baseline covariates and the grouping column."""

    def run(section: Section) -> None:
        candidates = [*BASELINE_COVARIATES]
        if options.group is not None:
            candidates.append(options.group)
        covariates, left_out = varying(cohort, candidates)
        section.extra["left_out"] = left_out
        if not covariates:
            raise CohortError("no covariate has two or more values among these patients")
        try:
            model: CoxModel = cox_regression(cohort, "os_days", "os_event", covariates)
        except CohortError as error:
            if options.group not in covariates or len(covariates) == 1:
                raise
            # A group without deaths has no hazard ratio: the baseline model still has one.
            covariates.remove(options.group)
            section.notes.append(f"group_left_out:{options.group}:{error}")
            model = cox_regression(cohort, "os_days", "os_event", covariates)
        section.result = model
        section.extra["covariates"] = covariates
        section.frames["cox"] = model.coefficients

    return _guarded(run)


def model_covariates(cohort: pl.DataFrame, options: Options) -> tuple[list[str], list[str]]:
    """The page's default covariates (the baseline ones and the grouping column) that vary
    among these patients, and those left out (one value only)."""
    candidates = [*BASELINE_COVARIATES]
    if options.group is not None:
        candidates.append(options.group)
    return varying(cohort, candidates)


def _fit_without_group_if_needed(
    fit: Callable[[list[str]], Model], covariates: list[str], options: Options, section: Section
) -> Model:
    """``fit(covariates)``; when the grouping column cannot be estimated (a level without
    events, separation), refitted without it and the section says why (as the Cox model).
    ``covariates`` is left as the model's."""
    try:
        return fit(covariates)
    except CohortError as error:
        if options.group not in covariates or len(covariates) == 1:
            raise
        covariates.remove(options.group)
        section.notes.append(f"group_left_out:{options.group}:{error}")
        return fit(covariates)


# --- logistic regression ----------------------------------------------------------------------


def logistic_outcome(cohort: pl.DataFrame, outcome: str, section: Section) -> pl.DataFrame:
    """``cohort`` with the 0/1 column ``outcome`` (see :data:`LOGISTIC_OUTCOMES`); for severe
    toxicity, the patients without any determined grade are left out (counted)."""
    if outcome == "objective_response":
        responded = pl.col("best_response").cast(pl.String).is_in(OBJECTIVE_RESPONSES)
        return cohort.with_columns(responded.fill_null(False).cast(pl.Int8).alias(outcome))
    syndrome = outcome.removeprefix("severe_")
    grade = f"{syndrome}_max_grade"
    if grade not in cohort.columns:
        raise CohortError(f"column {grade!r} is missing; there is no toxicity grade to model")
    ungraded = cohort[grade].null_count()
    if ungraded:
        section.notes.append(f"ungraded:{ungraded}")
    graded = cohort.filter(pl.col(grade).is_not_null())
    return graded.with_columns((pl.col(grade) >= SEVERE_GRADE).cast(pl.Int8).alias(outcome))


def logistic_section(cohort: pl.DataFrame, options: Options, name: str) -> Section:
    """Logistic regression of one outcome of :data:`LOGISTIC_OUTCOMES` on the page's default
    covariates (as the Cox model): odds ratios with Wald CIs and p."""

    def run(section: Section) -> None:
        outcome = LOGISTIC_OUTCOMES[name]
        data = logistic_outcome(cohort, outcome, section)
        covariates, left_out = model_covariates(data, options)
        section.extra["left_out"] = left_out
        if not covariates:
            raise CohortError("no covariate has two or more values among these patients")

        def fit(terms: list[str]) -> LogisticModel:
            return logistic_regression(data, outcome, terms)

        model = _fit_without_group_if_needed(fit, covariates, options, section)
        section.result = model
        section.extra["covariates"] = covariates
        section.frames[logistic_key(name)] = model.coefficients

    return _guarded(run)


def logistic_key(name: str) -> str:
    """The download key of a logistic section (``orr_model`` -> ``logistic-response``)."""
    return "logistic-" + {"orr_model": "response"}.get(name, name.removesuffix("_model"))


# --- vein-to-vein time --------------------------------------------------------------------------


def vein_to_vein_section(cohort: pl.DataFrame, options: Options) -> Section:
    """Vein-to-vein time (apheresis to infusion) per group and the hazard ratio of death per
    7 days longer, adjusted for the page's default covariates that vary."""

    def run(section: Section) -> None:
        data = _without_missing_group(cohort, options.group, section)
        covariates, left_out = model_covariates(data, options)
        section.extra["left_out"] = left_out

        def fit(adjusted: list[str]) -> VeinToVein:
            return vein_to_vein_association(
                data,
                "os_days",
                "os_event",
                group=options.group,
                adjusted_for=adjusted,
                per_days=VEIN_TO_VEIN_PER_DAYS,
            )

        association = _fit_without_group_if_needed(fit, covariates, options, section)
        section.result = association
        section.extra["covariates"] = covariates
        section.extra["values"] = _values_by_group(data, "vein_to_vein_days", options.group)
        section.frames["v2v-distribution"] = association.distribution
        section.frames["v2v-hr"] = association.model.coefficients

    return _guarded(run)


def _values_by_group(data: pl.DataFrame, column: str, group: str | None) -> dict[str, list[float]]:
    """The non-missing values of ``column`` per group, in the groups' order (for the plot)."""
    values = data[column].cast(pl.Float64)
    if group is None:
        return {"all": values.drop_nulls().to_list()}
    labels, levels = group_column(data, group)
    frame = pl.DataFrame([values.alias("value"), labels])
    return {
        level: frame.filter(pl.col(GROUP) == level)["value"].drop_nulls().to_list()
        for level in levels
    }


# --- protocol comparison ----------------------------------------------------------------------


def arm_levels(cohort: pl.DataFrame, column: str) -> list[str]:
    """The values of ``column`` among the patients (to choose the arms from)."""
    if column not in cohort.columns:
        return []
    return sorted(str(value) for value in cohort[column].drop_nulls().cast(pl.String).unique())


def compare_section(cohort: pl.DataFrame, options: Options) -> Section:
    """IPW comparison of overall survival between two values of ``options.compare_by``."""

    def run(section: Section) -> None:
        column = options.compare_by
        arms = options.arms or default_arms(cohort, column)
        section.extra["arms"] = arms
        if arms is None:
            raise CohortError(
                f"column {column!r} has fewer than two values among these patients; there is "
                "nothing to compare"
            )
        levels = arm_levels(cohort, column)
        absent = [arm for arm in arms if arm not in levels]
        if absent:
            raise CohortError(
                f"{', '.join(repr(arm) for arm in absent)} is not a value of {column!r} among "
                f"these patients; the values are {', '.join(levels[:20])}"
            )
        data = cohort.filter(pl.col(column).cast(pl.String).is_in(list(arms)))
        covariates, left_out = varying(data, BASELINE_COVARIATES)
        section.extra["left_out"] = left_out
        if not covariates:
            raise CohortError("no baseline covariate has two or more values in these arms")
        comparison: ProtocolComparison = compare_protocols(
            data, column, "os_days", "os_event", covariates, arms=list(arms)
        )
        section.result = comparison
        section.extra["covariates"] = covariates
        section.frames["compare-curves"] = comparison.curves.table
        section.frames["compare-balance"] = comparison.balance
        section.frames["compare-hr"] = pl.concat(
            [
                comparison.cox.coefficients.select(pl.lit("weighted").alias("model"), pl.all()),
                comparison.unadjusted_cox.coefficients.select(
                    pl.lit("unadjusted").alias("model"), pl.all()
                ),
            ]
        )

    return _guarded(run)


# --- the whole page -------------------------------------------------------------------------------

SECTIONS: dict[str, Callable[[pl.DataFrame, Options], Section]] = {
    "response": response_section,
    "os": lambda cohort, options: survival_section(cohort, options, "os"),
    "pfs": lambda cohort, options: survival_section(cohort, options, "pfs"),
    "crs": lambda cohort, options: incidence_section(cohort, options, "crs"),
    "icans": lambda cohort, options: incidence_section(cohort, options, "icans"),
    "toxicity": toxicity_section,
    "cox": cox_section,
    "compare": compare_section,
    "orr_model": lambda cohort, options: logistic_section(cohort, options, "orr_model"),
    "crs_model": lambda cohort, options: logistic_section(cohort, options, "crs_model"),
    "icans_model": lambda cohort, options: logistic_section(cohort, options, "icans_model"),
    "v2v": vein_to_vein_section,
}

# Download key -> the section that computes it.
DOWNLOADS: dict[str, str] = {
    "response": "response",
    "response-counts": "response",
    "os": "os",
    "os-summary": "os",
    "os-rmst": "os",
    "pfs": "pfs",
    "pfs-summary": "pfs",
    "pfs-rmst": "pfs",
    "crs-incidence": "crs",
    "icans-incidence": "icans",
    "toxicity": "toxicity",
    "toxicity-timing": "toxicity",
    "cox": "cox",
    "compare-curves": "compare",
    "compare-balance": "compare",
    "compare-hr": "compare",
    "logistic-response": "orr_model",
    "logistic-crs": "crs_model",
    "logistic-icans": "icans_model",
    "v2v-distribution": "v2v",
    "v2v-hr": "v2v",
}


def cohort_download(cohort: pl.DataFrame) -> pl.DataFrame:
    """The patient-level rows behind every analysis, pseudonymised."""
    return cohort.select([name for name in COHORT_COLUMNS if name in cohort.columns])


def download_frame(cohort: pl.DataFrame, options: Options, key: str) -> pl.DataFrame:
    """The frame behind download ``key`` (``KeyError`` for an unknown key; ``CohortError``
    when the analysis cannot be done)."""
    if cohort.is_empty():
        raise CohortError("there are no infused patients to analyse")
    if key == "cohort":
        return cohort_download(cohort)
    section = SECTIONS[DOWNLOADS[key]](cohort, options)
    if section.error is not None:
        raise CohortError(section.error)
    if key not in section.frames:
        raise CohortError(f"{key}: not available for these patients")
    return section.frames[key]
