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

from carta.analytics.frames import conform, frame_of_result_rows
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


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Kinetics endpoints for every row: the columns of ``KineticsResult.as_row()``."""
    data = conform(frame, INPUT_SCHEMA)
    rows = [compute_kinetics(_observation(row)).as_row() for row in data.iter_rows(named=True)]
    return frame_of_result_rows(rows, OUTPUT_SCHEMA)
