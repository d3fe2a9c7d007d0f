"""Per patient-day forecast features, each computed only from that patient's rows up to the day.

Every feature of day *d* is a forward-only function of the rows with day <= *d* of the same
patient (forward fill, cumulative maximum, the change between the last two values), so rows
after *d* - reordered, altered or removed - cannot change it (``tests/analytics/forecast``
checks exactly this). The labels (:func:`label_frame`) look at days *d* + 1 ... *d* + 5 and
are kept apart: prediction never computes them.

Missing observations are explicit, the same way in training and prediction (ADR 0406):

* a measurement carries its last value forward within the patient (``<m>__last``), with
  ``<m>__never`` = 1 while no value exists yet and ``<m>__missing_today`` = 1 on a day without
  a new value; its trend (``<m>__slope``, change per day between the last two values) is
  unknown until two values exist (``<m>__trend_missing``);
* a value that does not exist stays null here. The models see it as missing: gradient
  boosting routes missing values natively, the logistic model's pipeline imputes the training
  median *and* reads the indicator, so the imputed number never stands alone;
* the inputs the model uses that had no value up to the day are listed per row in
  ``missing_inputs``; measurements carried from an earlier day in ``carried_forward``.

Method sources: last-observation-carried-forward with missingness indicators as in
Lipton ZC et al., "Modeling missing data in clinical time series with RNNs", MLHC 2016; the
inputs are those of Amidi Y et al., J Immunother Cancer 2022;10:e005459 (temperature, CRP,
ferritin, IL-6, WBC, procalcitonin) plus prior CRS, therapy, age, disease, product and baseline
scores (issue 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from carta.analytics.forecast import columns as c

SEPARATOR = "__"
ORDER = "_order"
# Measurements whose values span orders of magnitude are used on a log scale (log1p).
LOG_SCALE: frozenset[str] = frozenset(
    {c.CRP_MG_DL, c.FERRITIN_NG_ML, c.IL6_PG_ML, c.WBC_PER_UL, c.PROCALCITONIN_NG_ML}
)
STATIC_NUMBERS: tuple[str, ...] = (c.AGE_YEARS, *c.BASELINE_SCORES)
LOG2_STATIC: frozenset[str] = frozenset({c.BASELINE_EASIX, c.BASELINE_M_EASIX})
CATEGORICAL: tuple[str, ...] = (c.DISEASE, c.PRODUCT_CODE)
ICANS_HISTORY = c.RECORDED_ICANS_GRADE
CRS_HISTORY = "crs_so_far"
DAY_FEATURE = f"{c.DAY}{SEPARATOR}value"
MISSING_INPUTS = "missing_inputs"
CARRIED_FORWARD = "carried_forward"
KEY_COLUMNS: tuple[str, ...] = (c.PATIENT_ID, c.PERSON_ID, c.DAY)


@dataclass(frozen=True, slots=True)
class FeatureSet:
    """Features of each input row, in input order, with what the model needs to read them.

    ``frame`` holds ``patient_id``, ``person_id``, ``day``, the feature columns (Float64, null
    = missing), ``missing_inputs`` and ``carried_forward``. ``columns`` are the feature names
    in model order; :func:`input_of` maps each to the input it comes from. ``categories`` are
    the one-hot levels, fixed at training so that prediction builds the same columns.
    """

    frame: pl.DataFrame
    columns: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]

    def matrix(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The feature columns (``columns`` if given, absent ones as nulls) as Float64."""
        wanted = tuple(columns) if columns is not None else self.columns
        return self.frame.select(
            pl.col(name).cast(pl.Float64)
            if name in self.frame.columns
            else pl.lit(None, dtype=pl.Float64).alias(name)
            for name in wanted
        )


def input_of(feature: str) -> str:
    """The input a feature comes from: ``crp_mg_dL__slope`` -> ``crp_mg_dL``."""
    return feature.split(SEPARATOR, 1)[0]


def category_levels(frame: pl.DataFrame) -> dict[str, tuple[str, ...]]:
    """The levels of each categorical input present in ``frame`` (sorted), for one-hot columns."""
    return {
        name: tuple(sorted(frame[name].drop_nulls().cast(pl.String).unique().to_list()))
        for name in CATEGORICAL
        if name in frame.columns
    }


def build_features(
    frame: pl.DataFrame, categories: Mapping[str, Sequence[str]] | None = None
) -> FeatureSet:
    """Features of every row of a canonical frame (see :mod:`.canonical`), in input order.

    ``categories`` fixes the one-hot levels (the model's, at prediction); by default they are
    the levels present in ``frame``. A level not among them counts as missing.
    """
    levels = {
        name: tuple(values)
        for name, values in (categories or category_levels(frame)).items()
        if name in CATEGORICAL
    }
    ordered = frame.with_row_index(ORDER).sort(c.PATIENT_ID, c.DAY, ORDER)
    parts = [
        _measurement_features(ordered, name) for name in c.MEASUREMENTS if name in ordered.columns
    ]
    parts.append(_static_features(ordered, levels))
    parts.append(_history_features(ordered))
    features = pl.concat(parts, how="horizontal")
    columns = tuple(features.columns)
    keys = ordered.select(ORDER, *KEY_COLUMNS)
    result = pl.concat([keys, features], how="horizontal")
    result = result.with_columns(
        _listed_inputs(columns, missing=True).alias(MISSING_INPUTS),
        _listed_inputs(columns, missing=False).alias(CARRIED_FORWARD),
    )
    return FeatureSet(
        frame=result.sort(ORDER).drop(ORDER),
        columns=columns,
        categories=levels,
    )


def _name(source: str, kind: str) -> str:
    return f"{source}{SEPARATOR}{kind}"


def _indicator(condition: pl.Expr) -> pl.Expr:
    return condition.cast(pl.Float64)


def _measurement_features(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """Last value, maximum so far, trend and the three missingness indicators of a measurement."""
    value = pl.col(name).cast(pl.Float64)
    scaled = value.log1p() if name in LOG_SCALE else value
    observed_day = pl.when(value.is_not_null()).then(pl.col(c.DAY).cast(pl.Float64))
    by = c.PATIENT_ID
    stage = frame.select(
        scaled.alias("value"),
        scaled.forward_fill().over(by).alias("last"),
        scaled.forward_fill().shift(1).over(by).alias("previous"),
        observed_day.forward_fill().shift(1).over(by).alias("previous_day"),
        scaled.cum_max().forward_fill().over(by).alias("max"),
        pl.col(c.DAY).cast(pl.Float64).alias("day"),
        by,
    )
    slope_on_observation = pl.when(pl.col("value").is_not_null()).then(
        (pl.col("value") - pl.col("previous")) / (pl.col("day") - pl.col("previous_day"))
    )
    stage = stage.with_columns(slope_on_observation.forward_fill().over(by).alias("slope"))
    return stage.select(
        pl.col("last").alias(_name(name, "last")),
        pl.col("max").alias(_name(name, "max")),
        pl.col("slope").alias(_name(name, "slope")),
        _indicator(pl.col("last").is_null()).alias(_name(name, "never")),
        _indicator(pl.col("value").is_null()).alias(_name(name, "missing_today")),
        _indicator(pl.col("slope").is_null()).alias(_name(name, "trend_missing")),
    )


def _static_features(frame: pl.DataFrame, levels: Mapping[str, tuple[str, ...]]) -> pl.DataFrame:
    """Day since infusion; age and baseline scores; disease and product one-hot - as known so far.

    Per-patient inputs are forward-filled from the first row that gives them, never filled
    backwards: a value first written on day 3 is unknown on days 0-2.
    """
    by = c.PATIENT_ID
    expressions: list[pl.Expr] = [pl.col(c.DAY).cast(pl.Float64).alias(DAY_FEATURE)]
    for name in STATIC_NUMBERS:
        if name not in frame.columns:
            continue
        known = pl.col(name).cast(pl.Float64).forward_fill().over(by)
        shown = known.log(2) if name in LOG2_STATIC else known
        # log2 of 0 is -inf: such a value is as good as unknown to a model.
        shown = pl.when(shown.is_infinite()).then(None).otherwise(shown)
        expressions.append(shown.alias(_name(name, "value")))
        expressions.append(_indicator(shown.is_null()).alias(_name(name, "missing")))
    for name, values in levels.items():
        known = pl.col(name).cast(pl.String).forward_fill().over(by)
        expressions.extend(
            _indicator(known == level).fill_null(0.0).alias(_name(name, level)) for level in values
        )
        expressions.append(
            _indicator(known.is_null() | ~known.is_in(list(values))).alias(_name(name, "missing"))
        )
    return frame.select(expressions)


def _history_features(frame: pl.DataFrame) -> pl.DataFrame:
    """ICANS grade today and so far, CRS grade so far, anti-cytokine therapy so far."""
    by = c.PATIENT_ID
    icans = pl.col(c.RECORDED_ICANS_GRADE).cast(pl.Float64)
    icans_max = icans.cum_max().forward_fill().over(by)
    expressions = [
        icans.alias(_name(ICANS_HISTORY, "today")),
        icans_max.alias(_name(ICANS_HISTORY, "max")),
        _indicator(icans.is_null()).alias(_name(ICANS_HISTORY, "missing_today")),
        _indicator(icans_max.is_null()).alias(_name(ICANS_HISTORY, "never")),
    ]
    crs = crs_so_far()
    expressions.extend(
        [
            crs.alias(_name(CRS_HISTORY, "max")),
            _indicator(crs.is_null()).alias(_name(CRS_HISTORY, "missing")),
        ]
    )
    for therapy in c.THERAPIES:
        given = pl.col(therapy).cast(pl.Float64).cum_max().forward_fill().over(by)
        expressions.extend(
            [
                given.alias(_name(therapy, "so_far")),
                _indicator(given.is_null()).alias(_name(therapy, "missing")),
            ]
        )
    return frame.select(expressions)


def crs_so_far() -> pl.Expr:
    """The highest CRS grade known on each day (frame sorted by patient and day).

    From daily recorded grades when the day has any so far; else from the CRS summary, using
    each fact only from the day it became known: the peak grade from the peak day on, "at least
    grade 1" from the onset day, "no CRS yet" before the onset day. Unknown otherwise.
    """
    by = c.PATIENT_ID
    daily = pl.col(c.RECORDED_CRS_GRADE).cast(pl.Float64).cum_max().forward_fill().over(by)
    return pl.coalesce(daily, crs_summary_so_far())


def crs_summary_so_far() -> pl.Expr:
    """The CRS grade known on each day from the CRS summary alone (row by row, no window):
    the part of :func:`crs_so_far` used when no daily grade is known yet."""
    day = pl.col(c.DAY)
    peak = pl.col(c.CRS_PEAK_GRADE).cast(pl.Float64)
    onset = pl.col(c.CRS_ONSET_DAY)
    peak_day = pl.col(c.CRS_PEAK_DAY)
    return (
        pl.when(peak == 0)
        .then(0.0)
        .when(peak.is_not_null() & peak_day.is_not_null() & (peak_day <= day))
        .then(peak)
        .when(peak.is_not_null() & onset.is_not_null() & (onset <= day))
        .then(1.0)
        .when(peak.is_not_null() & onset.is_not_null() & (onset > day))
        .then(0.0)
    )


def _listed_inputs(columns: Sequence[str], *, missing: bool) -> pl.Expr:
    """The inputs with no value so far (``missing``) or carried from an earlier day."""
    flags = []
    for feature in columns:
        source, kind = feature.split(SEPARATOR, 1)
        if missing and kind in ("never", "missing"):
            flags.append(pl.when(pl.col(feature) == 1.0).then(pl.lit(source)))
        elif not missing and kind == "missing_today" and source in c.MEASUREMENTS:
            never = pl.col(_name(source, "never")) == 1.0
            flags.append(pl.when((pl.col(feature) == 1.0) & ~never).then(pl.lit(source)))
    if not flags:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(flags).list.drop_nulls()


# --- labels ------------------------------------------------------------------------------------


def label_frame(frame: pl.DataFrame, horizon: int = c.HORIZON_DAYS) -> pl.DataFrame:
    """``icans_5d``, ``severe_icans_5d``, ``crs2_5d`` of each row, in input order (Int8, null =
    unknown).

    A label is 1 when a recorded grade at or above the threshold falls on one of days
    *d* + 1 ... *d* + ``horizon``; 0 when every one of those days has a recorded grade and none
    reaches it; unknown otherwise (a day without a grade is not a day without toxicity). For a
    patient without daily CRS grades, the CRS label comes from the CRS summary
    (:func:`crs_summary_label`).
    """
    keys = frame.select(c.PATIENT_ID, c.DAY).with_row_index(ORDER)
    grades = frame.select(
        c.PATIENT_ID,
        c.DAY,
        pl.col(c.RECORDED_ICANS_GRADE).cast(pl.Int64).alias("icans"),
        pl.col(c.RECORDED_CRS_GRADE).cast(pl.Int64).alias("crs"),
    ).unique([c.PATIENT_ID, c.DAY], keep="first")
    ahead = keys
    for step in range(1, horizon + 1):
        shifted = grades.with_columns((pl.col(c.DAY) - step).alias(c.DAY)).rename(
            {"icans": f"icans_{step}", "crs": f"crs_{step}"}
        )
        ahead = ahead.join(shifted, on=[c.PATIENT_ID, c.DAY], how="left")
    steps = range(1, horizon + 1)
    labels = ahead.sort(ORDER).select(
        _window_label([f"icans_{k}" for k in steps], c.GRADE_THRESHOLDS[c.ICANS_ANY]).alias(
            c.ICANS_ANY
        ),
        _window_label([f"icans_{k}" for k in steps], c.GRADE_THRESHOLDS[c.ICANS_SEVERE]).alias(
            c.ICANS_SEVERE
        ),
        _window_label([f"crs_{k}" for k in steps], c.GRADE_THRESHOLDS[c.CRS_2]).alias("daily_crs"),
    )
    has_daily = frame.select(
        pl.col(c.RECORDED_CRS_GRADE).is_not_null().any().over(c.PATIENT_ID)
    ).to_series()
    summary = frame.select(crs_summary_label(horizon)).to_series()
    crs = pl.select(
        pl.when(has_daily).then(labels["daily_crs"]).otherwise(summary).alias(c.CRS_2)
    ).to_series()
    return labels.drop("daily_crs").with_columns(crs.cast(pl.Int8))


def _window_label(names: Sequence[str], threshold: int) -> pl.Expr:
    reached = pl.any_horizontal(pl.col(name) >= threshold for name in names)
    complete = pl.all_horizontal(pl.col(name).is_not_null() for name in names)
    return (
        pl.when(reached.fill_null(False))
        .then(1)
        .when(complete)
        .then(0)
        .otherwise(None)
        .cast(pl.Int8)
    )


def crs_summary_label(horizon: int = c.HORIZON_DAYS) -> pl.Expr:
    """CRS grade >= 2 in the next ``horizon`` days, from a peak grade / onset / peak-day summary.

    1 when a peak of grade >= 2 falls on days *d* + 1 ... *d* + ``horizon``; 0 when the peak is
    below 2, or CRS begins after the window; unknown otherwise (for example the peak already
    passed: whether grade 2 continued is not recorded). ADR 0405.
    """
    day = pl.col(c.DAY)
    peak = pl.col(c.CRS_PEAK_GRADE)
    onset = pl.col(c.CRS_ONSET_DAY)
    peak_day = pl.col(c.CRS_PEAK_DAY)
    threshold = c.GRADE_THRESHOLDS[c.CRS_2]
    return (
        pl.when(peak < threshold)
        .then(0)
        .when((peak >= threshold) & (peak_day > day) & (peak_day <= day + horizon))
        .then(1)
        .when((peak >= threshold) & (onset > day + horizon))
        .then(0)
        .otherwise(None)
        .cast(pl.Int8)
        .alias(c.CRS_2)
    )
