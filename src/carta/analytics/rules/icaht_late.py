"""Late ICAHT (reference e.2) for a table: the twin of
:func:`carta.clinical.toxicity.icaht_2023.grade_icaht_late`.

Input: the list columns ``anc_measurements.day`` (List(Float64): whole days after infusion; a
float column so that a non-integral day reaches the rule and is refused exactly as in the
scalar path) and ``anc_measurements.anc`` (List(Float64), cells/uL), plus
``attributable_to_other_cause`` (Boolean).

This rule runs on one row per patient, so each row is graded by the scalar rule (ADR 0148):
the rows are identical to the scalar path by construction, and the per-row cost (a few
microseconds) is irrelevant at registry sizes of patients. An ``anc_measurements`` column
holding something other than a list (the records layer keeps such a value unflattened) is
passed to the rule, which refuses it like the scalar path does.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from carta.analytics.frames import conform, frame_of_result_rows
from carta.clinical.results import Problem, Status, invalid_reason
from carta.clinical.toxicity.icaht_2023 import (
    CRITERIA,
    FIELD_ANC_MEASUREMENTS,
    FIELD_ATTRIBUTABLE,
    FIELD_MEASUREMENT_ANC,
    FIELD_MEASUREMENT_DAY,
    ANCMeasurement,
    ICAHTLateObservation,
    ICAHTLateResult,
    grade_icaht_late,
)

INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    FIELD_MEASUREMENT_DAY: pl.List(pl.Float64),
    FIELD_MEASUREMENT_ANC: pl.List(pl.Float64),
    FIELD_ATTRIBUTABLE: pl.Boolean,
}
OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "grade": pl.Int64,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}


def _unequal_lengths(days: list[Any], ancs: list[Any]) -> ICAHTLateResult:
    """Day and ANC lists of different lengths (possible only in a table)."""
    problem = Problem(
        FIELD_MEASUREMENT_ANC, ancs, f"one ANC per measurement day ({len(days)} values)"
    )
    return ICAHTLateResult(
        status=Status.INVALID_INPUT,
        criteria=CRITERIA,
        reasons=(invalid_reason(FIELD_MEASUREMENT_ANC),),
        problems=(problem,),
    )


def _grade_row(row: dict[str, Any], whole: object) -> ICAHTLateResult:
    days, ancs = row[FIELD_MEASUREMENT_DAY], row[FIELD_MEASUREMENT_ANC]
    attributable = row[FIELD_ATTRIBUTABLE]
    if whole is not None:
        measurements: Any = whole
    elif days is None and ancs is None:
        measurements = None
    else:
        days = [None] * len(ancs) if days is None else days
        ancs = [None] * len(days) if ancs is None else ancs
        if len(days) != len(ancs):
            return _unequal_lengths(days, ancs)
        measurements = tuple(
            ANCMeasurement(day=day, anc=anc) for day, anc in zip(days, ancs, strict=True)
        )
    observation = ICAHTLateObservation(
        anc_measurements=measurements, attributable_to_other_cause=attributable
    )
    return grade_icaht_late(observation)


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Late ICAHT for every row: the columns of ``ICAHTLateResult.as_row()``."""
    data = conform(frame, INPUT_SCHEMA)
    wholes: list[object] = (
        frame.get_column(FIELD_ANC_MEASUREMENTS).to_list()
        if FIELD_ANC_MEASUREMENTS in frame.columns
        else [None] * frame.height
    )
    rows = [
        _grade_row(row, whole).as_row()
        for row, whole in zip(data.iter_rows(named=True), wholes, strict=True)
    ]
    return frame_of_result_rows(rows, OUTPUT_SCHEMA)
