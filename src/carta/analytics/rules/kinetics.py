"""CAR-T cellular kinetics (reference section j) for a table: the twin of
:func:`carta.clinical.kinetics.compute_kinetics`.

Input: list columns ``times_days`` and ``levels`` (List(Float64)), and ``unit`` (String),
``auc_method`` (Enum of the Appendix A methods), ``window_days`` and ``lloq`` (Float64).

This rule runs on one row per patient (a patient's whole level series sits in one row), so each
row is computed by the scalar rule (ADR 0148): the floating-point sums are those of the scalar
path by construction, and the per-row cost is irrelevant at the number of patients a registry
holds. It is not used on the hot patient-day paths.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from carta.analytics.frames import conform
from carta.clinical.kinetics import KineticsObservation, compute_kinetics
from carta.clinical.vocabulary import AUC_METHODS

INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "times_days": pl.List(pl.Float64),
    "levels": pl.List(pl.Float64),
    "unit": pl.String,
    "auc_method": pl.Enum(list(AUC_METHODS)),
    "window_days": pl.Float64,
    "lloq": pl.Float64,
}
OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "cmax": pl.Float64,
    "tmax_day": pl.Float64,
    "auc_0_28": pl.Float64,
    "tlast_day": pl.Float64,
    "clast": pl.Float64,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}


def _observation(row: dict[str, Any]) -> KineticsObservation:
    times, levels = row["times_days"], row["levels"]
    return KineticsObservation(
        times_days=None if times is None else tuple(times),
        levels=None if levels is None else tuple(levels),
        unit=row["unit"],
        auc_method=row["auc_method"],
        window_days=row["window_days"],
        lloq=row["lloq"],
    )


def _conformed(frame: pl.DataFrame) -> pl.DataFrame:
    """``conform``, keeping one row per input row when no input column is present.

    (Selecting only null literals yields a single row; the rows are then all unknown.)
    """
    data = conform(frame, INPUT_SCHEMA)
    return data if data.height == frame.height else data.clear(frame.height)


_SEPARATOR = "\x1f"  # never part of a reason code or a field name
_LIST_COLUMNS = ("reasons", "missing")


def _frame_of_rows(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Output rows -> frame; the list columns travel as joined text (much faster to build)."""
    columns = {name: [row[name] for row in rows] for name in OUTPUT_SCHEMA}
    for name in _LIST_COLUMNS:
        columns[name] = [_SEPARATOR.join(items) for items in columns[name]]
    schema = {**OUTPUT_SCHEMA, **dict.fromkeys(_LIST_COLUMNS, pl.String)}
    empty = pl.lit([], dtype=pl.List(pl.String))
    return pl.DataFrame(columns, schema=schema).with_columns(
        pl.when(pl.col(name) == "")
        .then(empty)
        .otherwise(pl.col(name).str.split(_SEPARATOR))
        .alias(name)
        for name in _LIST_COLUMNS
    )


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Kinetics endpoints for every row: the columns of ``KineticsResult.as_row()``."""
    data = _conformed(frame)
    rows = [compute_kinetics(_observation(row)).as_row() for row in data.iter_rows(named=True)]
    return _frame_of_rows(rows)
