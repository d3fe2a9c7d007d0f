"""The features of a few courses (the patient page's one), the same as :func:`.features.
build_features` computes, in one Polars pass and a loop over each course's days.

:func:`.features.build_features` is written for whole cohorts: a dozen windowed Polars
selections, each with a fixed cost of about a millisecond's worth of planning and collection,
which is most of the time it takes for one patient's 30 days. Here every element-wise step (the
casts, ``log1p``, ``log2``, the CRS summary) is one Polars ``select`` with the very same
expressions, and only the per-course windows - forward fill, running maximum, the previous
value - are done in numpy, which are exact operations: the result is the same frame, value for
value (``tests/analytics/forecast/test_course_features.py`` compares them on synthetic
cohorts, every day of every patient). The slope is the same IEEE division of the same numbers.

A null is kept as a mask beside each array (``NaN`` is a value, as in Polars: a ``NaN`` slope
is carried forward and is not "missing"). Anything the loop does not know how to read exactly
like the batch builder (a null patient or day, a ``NaN`` in a measurement) goes to the batch
builder instead, so the result is always the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.features import (
    CARRIED_FORWARD,
    CATEGORICAL,
    CRS_HISTORY,
    DAY_FEATURE,
    ICANS_HISTORY,
    KEY_COLUMNS,
    LOG2_STATIC,
    LOG_SCALE,
    MISSING_INPUTS,
    SEPARATOR,
    STATIC_NUMBERS,
    FeatureSet,
    build_features,
    category_levels,
    crs_summary_so_far,
)

# Above this many rows the batch builder is as quick (its cost is per query, this one's per row).
MAX_ROWS = 2_000

Floats = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Column:
    """A Float64 column as values and a validity mask (``False`` = null)."""

    values: Floats
    valid: Mask


def features_for_courses(
    frame: pl.DataFrame, categories: Mapping[str, Sequence[str]] | None = None
) -> FeatureSet:
    """:func:`.features.build_features` of ``frame``, computed per course (see the module
    docstring); large or unusual frames go to the batch builder."""
    if not _fits(frame):
        return build_features(frame, categories)
    levels = {
        name: tuple(values)
        for name, values in (categories or category_levels(frame)).items()
        if name in CATEGORICAL
    }
    inputs = _elementwise(frame)
    if inputs.select(pl.any_horizontal(pl.all().is_nan().any())).item():
        return build_features(frame, categories)  # NaN is a value there, null here
    arrays = Inputs(inputs)
    courses = list(_courses(frame))
    features: dict[str, Column] = {}
    for name in c.MEASUREMENTS:
        if name in frame.columns:
            features.update(_measurement(arrays, name, courses))
    features.update(_static(frame, arrays, levels, courses))
    features.update(_history(arrays, courses))
    if any(bool(np.isnan(column.values[column.valid]).any()) for column in features.values()):
        return build_features(frame, categories)  # a NaN slope (two values on one day)
    return _feature_set(frame, features, levels)


class Inputs:
    """The element-wise inputs as numpy columns (one conversion; null = NaN, none being NaN)."""

    def __init__(self, inputs: pl.DataFrame) -> None:
        matrix = inputs.to_numpy().astype(np.float64)
        self.height = inputs.height
        self.names = tuple(inputs.columns)
        self._arrays = {name: matrix[:, index] for index, name in enumerate(inputs.columns)}

    def __contains__(self, name: str) -> bool:
        return name in self._arrays

    def column(self, name: str) -> Column:
        values = self._arrays[name]
        valid = ~np.isnan(values)
        return Column(np.where(valid, values, 0.0), valid)


def _fits(frame: pl.DataFrame) -> bool:
    needed = (*KEY_COLUMNS, c.RECORDED_ICANS_GRADE, c.RECORDED_CRS_GRADE, *c.THERAPIES)
    return (
        0 < frame.height <= MAX_ROWS
        and all(name in frame.columns for name in needed)
        and all(name in frame.columns for name in (c.CRS_PEAK_GRADE, c.CRS_ONSET_DAY))
        and c.CRS_PEAK_DAY in frame.columns
        and frame[c.PATIENT_ID].null_count() == 0
        and frame[c.DAY].null_count() == 0
    )


def _elementwise(frame: pl.DataFrame) -> pl.DataFrame:
    """Every per-row input as Float64 in one select, with the batch builder's expressions."""
    expressions: list[pl.Expr] = [pl.col(c.DAY).cast(pl.Float64).alias(DAY_FEATURE)]
    for name in c.MEASUREMENTS:
        if name in frame.columns:
            value = pl.col(name).cast(pl.Float64)
            expressions.append((value.log1p() if name in LOG_SCALE else value).alias(name))
    for name in STATIC_NUMBERS:
        if name in frame.columns:
            known = pl.col(name).cast(pl.Float64)
            expressions.append((known.log(2) if name in LOG2_STATIC else known).alias(name))
    names = (c.RECORDED_ICANS_GRADE, c.RECORDED_CRS_GRADE, *c.THERAPIES)
    expressions.extend(pl.col(name).cast(pl.Float64).alias(name) for name in names)
    expressions.append(crs_summary_so_far().alias(CRS_HISTORY))
    return frame.select(expressions)


def _courses(frame: pl.DataFrame) -> Iterator[NDArray[np.int64]]:
    """Each course's row numbers, by day (ties in input order), as the batch builder orders
    them."""
    order = frame.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("row"), c.PATIENT_ID, c.DAY)
    ordered = order.sort(c.PATIENT_ID, c.DAY, "row")
    rows = ordered["row"].to_numpy()
    keys = ordered[c.PATIENT_ID].to_list()
    start = 0
    for end in range(1, len(keys) + 1):
        if end == len(keys) or keys[end] != keys[start]:
            yield rows[start:end]
            start = end


def _new(height: int) -> Column:
    return Column(np.zeros(height, dtype=np.float64), np.zeros(height, dtype=np.bool_))


def _indicator(valid: Mask) -> Column:
    """1.0 where the column is null (the batch builder's ``is_null`` indicators)."""
    return Column((~valid).astype(np.float64), np.ones(valid.shape, dtype=np.bool_))


def _forward(source: Column, rows: NDArray[np.int64], target: Column, *, running_max: bool) -> None:
    """``forward_fill`` (or ``cum_max().forward_fill()``) of ``source`` over one course."""
    have = False
    carried = 0.0
    for row in rows:
        if source.valid[row]:
            value = source.values[row]
            carried = max(carried, value) if running_max and have else value
            have = True
        target.values[row] = carried
        target.valid[row] = have


def _measurement(inputs: Inputs, name: str, courses: list[NDArray[np.int64]]) -> dict[str, Column]:
    """Last value, maximum so far, trend and the missingness indicators (as the batch)."""
    value = inputs.column(name)
    day = inputs.column(DAY_FEATURE).values
    height = inputs.height
    last, highest, slope = _new(height), _new(height), _new(height)
    with np.errstate(divide="ignore", invalid="ignore"):
        for rows in courses:
            _forward(value, rows, last, running_max=False)
            _forward(value, rows, highest, running_max=True)
            previous: float | None = None  # the last value before this row, and its day
            previous_day = 0.0
            trend: float | None = None
            for row in rows:
                if value.valid[row]:
                    if previous is not None:
                        trend = float(
                            np.float64(value.values[row] - previous) / (day[row] - previous_day)
                        )
                    previous, previous_day = float(value.values[row]), float(day[row])
                    # an observation without an earlier one leaves the trend as it was (null)
                if trend is not None:
                    slope.values[row], slope.valid[row] = trend, True
    return {
        f"{name}{SEPARATOR}last": last,
        f"{name}{SEPARATOR}max": highest,
        f"{name}{SEPARATOR}slope": slope,
        f"{name}{SEPARATOR}never": _indicator(last.valid),
        f"{name}{SEPARATOR}missing_today": _indicator(value.valid),
        f"{name}{SEPARATOR}trend_missing": _indicator(slope.valid),
    }


def _static(
    frame: pl.DataFrame,
    inputs: Inputs,
    levels: Mapping[str, tuple[str, ...]],
    courses: list[NDArray[np.int64]],
) -> dict[str, Column]:
    """Day, age and baseline scores, disease and product one-hot, as known so far."""
    height = inputs.height
    result: dict[str, Column] = {DAY_FEATURE: inputs.column(DAY_FEATURE)}
    for name in STATIC_NUMBERS:
        if name not in inputs:
            continue
        known = _new(height)
        source = inputs.column(name)
        for rows in courses:
            _forward(source, rows, known, running_max=False)
        known.valid[np.isinf(known.values)] = False  # log2 of 0: as good as unknown
        result[f"{name}{SEPARATOR}value"] = known
        result[f"{name}{SEPARATOR}missing"] = _indicator(known.valid)
    for name, values in levels.items():
        raw = frame[name].cast(pl.String).to_list()
        known_words: list[str | None] = [None] * height
        for rows in courses:
            word: str | None = None
            for row in rows:
                word = raw[row] if raw[row] is not None else word
                known_words[row] = word
        for level in values:
            hot = np.array([word == level for word in known_words], dtype=np.float64)
            result[f"{name}{SEPARATOR}{level}"] = Column(hot, np.ones(height, dtype=np.bool_))
        unknown = np.array([word is None or word not in values for word in known_words])
        result[f"{name}{SEPARATOR}missing"] = Column(
            unknown.astype(np.float64), np.ones(height, dtype=np.bool_)
        )
    return result


def _history(inputs: Inputs, courses: list[NDArray[np.int64]]) -> dict[str, Column]:
    """ICANS today and so far, CRS so far (daily grades, else the summary), therapy so far."""
    height = inputs.height
    icans = inputs.column(c.RECORDED_ICANS_GRADE)
    icans_max, crs_daily = _new(height), _new(height)
    crs = inputs.column(c.RECORDED_CRS_GRADE)
    for rows in courses:
        _forward(icans, rows, icans_max, running_max=True)
        _forward(crs, rows, crs_daily, running_max=True)
    summary = inputs.column(CRS_HISTORY)
    crs_so_far = Column(
        np.where(crs_daily.valid, crs_daily.values, summary.values),
        crs_daily.valid | summary.valid,
    )
    result = {
        f"{ICANS_HISTORY}{SEPARATOR}today": icans,
        f"{ICANS_HISTORY}{SEPARATOR}max": icans_max,
        f"{ICANS_HISTORY}{SEPARATOR}missing_today": _indicator(icans.valid),
        f"{ICANS_HISTORY}{SEPARATOR}never": _indicator(icans_max.valid),
        f"{CRS_HISTORY}{SEPARATOR}max": crs_so_far,
        f"{CRS_HISTORY}{SEPARATOR}missing": _indicator(crs_so_far.valid),
    }
    for therapy in c.THERAPIES:
        given = _new(height)
        source = inputs.column(therapy)
        for rows in courses:
            _forward(source, rows, given, running_max=True)
        result[f"{therapy}{SEPARATOR}so_far"] = given
        result[f"{therapy}{SEPARATOR}missing"] = _indicator(given.valid)
    return result


def _listed(features: Mapping[str, Column], height: int) -> tuple[list[list[str]], list[list[str]]]:
    """``missing_inputs`` and ``carried_forward`` of each row, as the batch builder lists them."""
    missing: list[list[str]] = [[] for _ in range(height)]
    carried: list[list[str]] = [[] for _ in range(height)]
    for feature, column in features.items():
        source, kind = feature.split(SEPARATOR, 1)
        if kind in ("never", "missing"):
            for row in np.flatnonzero(column.valid & (column.values == 1.0)):
                missing[row].append(source)
        elif kind == "missing_today" and source in c.MEASUREMENTS:
            never = features[f"{source}{SEPARATOR}never"]
            flagged = column.valid & (column.values == 1.0) & ~(never.values == 1.0)
            for row in np.flatnonzero(flagged):
                carried[row].append(source)
    return missing, carried


def _feature_set(
    frame: pl.DataFrame, features: Mapping[str, Column], levels: Mapping[str, tuple[str, ...]]
) -> FeatureSet:
    matrix = np.column_stack(
        [np.where(column.valid, column.values, np.nan) for column in features.values()]
    )
    # No valid value is NaN (checked above), so NaN marks exactly the nulls.
    columns = pl.from_numpy(matrix, schema=list(features), orient="row").fill_nan(None)
    missing, carried = _listed(features, frame.height)
    result = pl.concat([frame.select(KEY_COLUMNS), columns], how="horizontal").with_columns(
        pl.Series(MISSING_INPUTS, missing, dtype=pl.List(pl.String)),
        pl.Series(CARRIED_FORWARD, carried, dtype=pl.List(pl.String)),
    )
    return FeatureSet(frame=result, columns=tuple(features), categories=dict(levels))
