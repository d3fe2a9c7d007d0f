"""The features of a few courses (the patient page's one), the same as :func:`.features.
build_features` computes, in one Polars pass (or straight from a course's rows) and numpy
operations over each course's days.

:func:`.features.build_features` is written for whole cohorts: a dozen windowed Polars
selections, each with a fixed cost of about a millisecond's worth of planning and collection,
which is most of the time it takes for one patient's 30 days. Here every element-wise step (the
casts, ``log1p``, ``log2``, the CRS summary) is one Polars ``select`` with the very same
expressions, and only the per-course windows - forward fill, running maximum, the previous
value - are done in numpy, which are exact operations: the result is the same frame, value for
value (``tests/analytics/forecast/test_course_features.py`` compares them on synthetic
cohorts, every day of every patient). The slope is the same IEEE division of the same numbers.

:func:`features_for_rows` starts from the registry adapter's rows instead of a frame (the
patient page, ADR 0288): the element-wise steps are the same C library functions Polars calls
(``log1p``; ``log(2)`` is ``ln(x) / ln(2)``), applied to each value, and the result is kept as
numpy columns (:class:`CourseFeatures`) rather than a frame.

A null is kept as a mask beside each array (``NaN`` is a value, as in Polars: a ``NaN`` slope
is carried forward and is not "missing"). Anything the numpy path does not know how to read
exactly like the batch builder (a null patient or day, a ``NaN`` in a measurement, a value of an
unexpected type) goes to the batch builder instead, so the result is always the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
Levels = dict[str, tuple[str, ...]]
Words = dict[str, list[str | None]]


@dataclass(frozen=True, slots=True)
class Column:
    """A Float64 column as values and a validity mask (``False`` = null)."""

    values: Floats
    valid: Mask


@dataclass(frozen=True, slots=True)
class CourseFeatures:
    """One course's features, row for row in the order the rows were given: what
    :class:`.features.FeatureSet` holds, as numpy columns instead of a Polars frame.

    ``dense`` holds every column (NaN for null, in ``columns`` order) and a last column of NaN
    for features the course does not have.
    """

    days: tuple[int, ...]
    columns: Mapping[str, Column]
    missing: list[list[str]]
    carried: list[list[str]]
    categories: Mapping[str, tuple[str, ...]]
    dense: Floats
    position: Mapping[str, int]

    @classmethod
    def of(
        cls,
        days: tuple[int, ...],
        columns: Mapping[str, Column],
        categories: Mapping[str, tuple[str, ...]],
    ) -> CourseFeatures:
        missing, carried = _listed(columns, len(days))
        dense = np.full((len(days), len(columns) + 1), np.nan, order="F")
        for index, column in enumerate(columns.values()):
            dense[column.valid, index] = column.values[column.valid]
        position = {name: index for index, name in enumerate(columns)}
        return cls(days, columns, missing, carried, categories, dense, position)

    def matrix(self, names: Sequence[str]) -> Floats:
        """The ``names`` columns (absent ones and nulls as ``NaN``), column-major like
        ``FeatureSet.matrix(names).to_numpy()``: a matrix product's rounding follows the layout."""
        absent = self.dense.shape[1] - 1
        chosen = [self.position.get(name, absent) for name in names]
        return np.asfortranarray(self.dense[:, chosen])


def features_for_courses(
    frame: pl.DataFrame, categories: Mapping[str, Sequence[str]] | None = None
) -> FeatureSet:
    """:func:`.features.build_features` of ``frame``, computed per course (see the module
    docstring); large or unusual frames go to the batch builder."""
    if not _fits(frame):
        return build_features(frame, categories)
    levels = _levels(categories, lambda: category_levels(frame))
    inputs = _elementwise(frame)
    if inputs.select(pl.any_horizontal(pl.all().is_nan().any())).item():
        return build_features(frame, categories)  # NaN is a value there, null here
    words = {name: frame[name].cast(pl.String).to_list() for name in levels}
    measurements = tuple(name for name in c.MEASUREMENTS if name in frame.columns)
    features = _features(
        Inputs.of_frame(inputs), words, levels, list(_courses(frame)), measurements
    )
    if features is None:
        return build_features(frame, categories)  # a NaN slope (two values on one day)
    return _feature_set(frame, features, levels)


def features_for_rows(
    rows: Sequence[Mapping[str, Any]], categories: Mapping[str, Sequence[str]] | None = None
) -> CourseFeatures | None:
    """The features of one course given as canonical rows (one dict per day, canonical column
    names, absent keys = null), equal to :func:`.features.build_features` of the conformed
    frame of those rows, without building it.

    ``None`` when a row holds something a frame reads otherwise (a value of another type, a
    ``NaN``, a disease the canonical frame refuses, a second course): build the frame then.
    """
    if not 0 < len(rows) <= MAX_ROWS or not _one_course(rows):
        return None
    inputs = Inputs.of_rows(rows)
    words = _words(rows)
    if inputs is None or words is None:
        return None
    levels = _levels(categories, lambda: _levels_present(words))
    order = np.argsort(inputs.column(DAY_FEATURE).values, kind="stable")
    features = _features(inputs, words, levels, [order], c.MEASUREMENTS)
    if features is None:
        return None
    return CourseFeatures.of(tuple(int(row[c.DAY]) for row in rows), features, levels)


def _levels(
    categories: Mapping[str, Sequence[str]] | None, present: Callable[[], Levels]
) -> Levels:
    """The one-hot levels as the batch builder takes them: the model's, else those present."""
    return {
        name: tuple(values)
        for name, values in (categories or present()).items()
        if name in CATEGORICAL
    }


def _features(
    inputs: Inputs,
    words: Words,
    levels: Levels,
    courses: list[NDArray[np.int64]],
    measurements: Sequence[str],
) -> dict[str, Column] | None:
    """Every feature column in the batch builder's order; ``None`` on a valid ``NaN`` (a slope
    from two values on one day), which only the batch builder keeps apart from null."""
    features: dict[str, Column] = {}
    for name in measurements:
        features.update(_measurement(inputs, name, courses))
    features.update(_static(words, inputs, levels, courses))
    features.update(_history(inputs, courses))
    if any(bool(np.isnan(column.values[column.valid]).any()) for column in features.values()):
        return None
    return features


class Inputs:
    """The element-wise inputs as numpy columns (null = NaN, none being NaN)."""

    def __init__(self, arrays: Mapping[str, Floats], height: int) -> None:
        self.height = height
        self._arrays = dict(arrays)

    @classmethod
    def of_frame(cls, inputs: pl.DataFrame) -> Inputs:
        """:func:`_elementwise`'s frame, in one conversion."""
        matrix = inputs.to_numpy().astype(np.float64)
        arrays = {name: matrix[:, index] for index, name in enumerate(inputs.columns)}
        return cls(arrays, inputs.height)

    @classmethod
    def of_rows(cls, rows: Sequence[Mapping[str, Any]]) -> Inputs | None:
        """What :func:`_elementwise` makes of the conformed frame of ``rows``, computed per
        value; ``None`` for a value the frame would read otherwise."""
        arrays: dict[str, Floats] = {}
        for target, (source, read) in _ROW_INPUTS.items():
            values = [read(row.get(source)) for row in rows]
            if any(value is None for value in values):
                return None
            arrays[target] = np.array(values, dtype=np.float64)
        arrays[CRS_HISTORY] = np.array([_crs_summary(row) for row in rows], dtype=np.float64)
        return cls(arrays, len(rows))

    def __contains__(self, name: str) -> bool:
        return name in self._arrays

    def column(self, name: str) -> Column:
        values = self._arrays[name]
        valid = ~np.isnan(values)
        return Column(np.where(valid, values, 0.0), valid)


# --- a canonical row's values as the frame path reads them ------------------------------------
# Each reader gives the Float64 value (NaN for null) or None when only a frame reads the value
# right: a type ``conform`` would cast, a NaN (a value there, null here), a log of a negative.

Reader = Callable[[Any], float | None]
EXACT_INTEGERS = 2**53  # beyond this an Int64 -> Float64 cast rounds


def _number(value: Any) -> float | None:
    """A Float64 column (from a Python float, or an int Polars would infer as Int64)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and abs(value) > EXACT_INTEGERS:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _whole(value: Any) -> float | None:
    """An Int64 column (day, grades), from a Python int only."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > EXACT_INTEGERS:
        return None
    return float(value)


def _flag(value: Any) -> float | None:
    """A Boolean column (therapy given on the day) as 0.0 or 1.0."""
    if value is None:
        return math.nan
    return float(value) if isinstance(value, bool) else None


def _log1p(value: Any) -> float | None:
    """Polars' ``log1p`` (the C library's, as ``math.log1p``)."""
    number = _number(value)
    if number is None or math.isnan(number):
        return number
    return math.log1p(number) if number > -1.0 else None  # -inf / NaN: the frame path


def _log2(value: Any) -> float | None:
    """Polars' ``log(2)``: ``ln(x) / ln(2)`` (not the C library's ``log2``, which rounds
    differently)."""
    number = _number(value)
    if number is None or math.isnan(number):
        return number
    if number == 0.0:
        return -math.inf
    return math.log(number) / math.log(2.0) if number > 0.0 else None


def _day(value: Any) -> float | None:
    """The day: a Python int, never null (a null day goes to the frame path)."""
    day = _whole(value)
    return None if day is None or math.isnan(day) else day


# output input -> (the row's column, its reader), in :func:`_elementwise`'s order
_ROW_INPUTS: dict[str, tuple[str, Reader]] = {
    DAY_FEATURE: (c.DAY, _day),
    **{name: (name, _log1p if name in LOG_SCALE else _number) for name in c.MEASUREMENTS},
    **{name: (name, _log2 if name in LOG2_STATIC else _number) for name in STATIC_NUMBERS},
    c.RECORDED_ICANS_GRADE: (c.RECORDED_ICANS_GRADE, _whole),
    c.RECORDED_CRS_GRADE: (c.RECORDED_CRS_GRADE, _whole),
    **{name: (name, _flag) for name in c.THERAPIES},
}


def _crs_summary(row: Mapping[str, Any]) -> float:
    """:func:`.features.crs_summary_so_far` of one row (NaN = null); the summary's values are
    read by :func:`_summary_fits` first."""
    day = row[c.DAY]
    peak = row.get(c.CRS_PEAK_GRADE)
    onset = row.get(c.CRS_ONSET_DAY)
    peak_day = row.get(c.CRS_PEAK_DAY)
    if peak is None:
        return math.nan
    if peak == 0:
        return 0.0
    if peak_day is not None and peak_day <= day:
        return float(peak)
    if onset is not None:
        return 1.0 if onset <= day else 0.0
    return math.nan


def _one_course(rows: Sequence[Mapping[str, Any]]) -> bool:
    """One patient (a text identifier), and a CRS summary of whole numbers where given."""
    patient = rows[0].get(c.PATIENT_ID)
    return (
        isinstance(patient, str)
        and all(row.get(c.PATIENT_ID) == patient for row in rows)
        and all(_summary_fits(row) for row in rows)
    )


def _summary_fits(row: Mapping[str, Any]) -> bool:
    return all(_whole(row.get(name)) is not None for name in c.CRS_SUMMARY)


def _words(rows: Sequence[Mapping[str, Any]]) -> Words | None:
    """The categorical inputs as text (a disease outside the canonical words: ``None``, the
    frame refuses it)."""
    words: Words = {}
    for name in CATEGORICAL:
        values = [row.get(name) for row in rows]
        if any(value is not None and not isinstance(value, str) for value in values):
            return None
        words[name] = values
    if any(word is not None and word not in c.DISEASES for word in words[c.DISEASE]):
        return None
    return words


def _levels_present(words: Words) -> Levels:
    """:func:`.features.category_levels` of the rows."""
    return {
        name: tuple(sorted({word for word in values if word is not None}))
        for name, values in words.items()
    }


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


def _carry(values: Floats, valid: Mask) -> tuple[Floats, Mask]:
    """``forward_fill`` of one course's values in day order (exact: a copy of the last valid
    value, 0.0 and invalid before the first)."""
    last = np.maximum.accumulate(np.where(valid, np.arange(valid.size), -1))
    have = last >= 0
    return np.where(have, values[last], 0.0), have


def _forward(source: Column, rows: NDArray[np.int64], target: Column, *, running_max: bool) -> None:
    """``forward_fill`` (or ``cum_max().forward_fill()``) of ``source`` over one course."""
    valid = source.valid[rows]
    values = source.values[rows]
    if running_max:  # nulls as -inf never win a maximum; they are masked out again below
        values = np.maximum.accumulate(np.where(valid, values, -np.inf))
    target.values[rows], target.valid[rows] = _carry(values, valid)


def _trend(value: Column, day: Floats, rows: NDArray[np.int64], slope: Column) -> None:
    """The change per day between the last two values so far, over one course: set on each
    observation after the first, carried forward (as the batch builder's window)."""
    observed = np.flatnonzero(value.valid[rows])
    at = np.zeros(rows.size, dtype=np.float64)
    known = np.zeros(rows.size, dtype=np.bool_)
    if observed.size > 1:
        values = value.values[rows][observed]
        days = day[rows][observed]
        with np.errstate(divide="ignore", invalid="ignore"):
            at[observed[1:]] = (values[1:] - values[:-1]) / (days[1:] - days[:-1])
        known[observed[1:]] = True
    slope.values[rows], slope.valid[rows] = _carry(at, known)


def _measurement(inputs: Inputs, name: str, courses: list[NDArray[np.int64]]) -> dict[str, Column]:
    """Last value, maximum so far, trend and the missingness indicators (as the batch)."""
    value = inputs.column(name)
    day = inputs.column(DAY_FEATURE).values
    height = inputs.height
    last, highest, slope = _new(height), _new(height), _new(height)
    for rows in courses:
        _forward(value, rows, last, running_max=False)
        _forward(value, rows, highest, running_max=True)
        _trend(value, day, rows, slope)
    return {
        f"{name}{SEPARATOR}last": last,
        f"{name}{SEPARATOR}max": highest,
        f"{name}{SEPARATOR}slope": slope,
        f"{name}{SEPARATOR}never": _indicator(last.valid),
        f"{name}{SEPARATOR}missing_today": _indicator(value.valid),
        f"{name}{SEPARATOR}trend_missing": _indicator(slope.valid),
    }


def _static(
    words: Words,
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
    every = np.ones(height, dtype=np.bool_)
    for name, values in levels.items():
        raw = words[name]
        known_words: list[str | None] = [None] * height
        for rows in courses:
            word: str | None = None
            for row in rows.tolist():
                word = raw[row] if raw[row] is not None else word
                known_words[row] = word
        for level in values:
            hot = np.array([word == level for word in known_words], dtype=np.float64)
            result[f"{name}{SEPARATOR}{level}"] = Column(hot, every)
        unknown = np.array([word is None or word not in values for word in known_words])
        result[f"{name}{SEPARATOR}missing"] = Column(unknown.astype(np.float64), every)
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
