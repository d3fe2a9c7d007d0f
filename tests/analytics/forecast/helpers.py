"""Synthetic data for the forecast tests (never ../shared): carta.synth networks and tiny frames."""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.canonical import conform
from carta.analytics.forecast.models import (
    DEFAULT_CANDIDATES,
    Candidate,
    ForecastModel,
    fit_forecaster,
)
from carta.analytics.forecast.synthetic import forecast_frame
from carta.synth import generate_network

RIDGE: Candidate = DEFAULT_CANDIDATES[0]
BOOSTING: Candidate = DEFAULT_CANDIDATES[2]
# Enough synthetic patients for every target to have events in 3 grouped folds.
PATIENTS = 70
SEED = 11


@cache
def synthetic_frame(patients: int = PATIENTS, seed: int = SEED) -> pl.DataFrame:
    """The canonical forecast frame of a small synthetic network (cached: it is read-only)."""
    return forecast_frame(generate_network(patients, seed=seed))


@cache
def ridge_model() -> ForecastModel:
    """A quick model (one logistic candidate, 3 folds) on :func:`synthetic_frame`."""
    return fit_forecaster(synthetic_frame(), candidates=(RIDGE,), folds=3, seed=0)


def days(patient: str, values: dict[str, list[Any]], first_day: int = 0) -> pl.DataFrame:
    """A canonical frame for one patient: ``values`` maps columns to one value per day."""
    length = len(next(iter(values.values())))
    frame = pl.DataFrame(
        {
            c.PATIENT_ID: [patient] * length,
            c.DAY: list(range(first_day, first_day + length)),
            **values,
        },
        strict=False,
    )
    return conform(frame)


BWH_SUBTYPES = {
    "lbcl": "DL BCL",
    "mm": "MM",
    "b_all": "B-ALL",
    "mcl": "Mantle cell lymphoma",
    "fl": "follicular lymphoma",
    "cll": "CLL",
}
BWH_HEADER = (
    "SID,Age,Sex,Diagnosis,Subtype,Aggressive,HospitalDay,Temp,CRP,Ferritin,meanscore,"
    "Procalcitonin,IL_6,WBC,CRS Peak Severity,CRS Onset Day,CRS Peak Day,Toci doses,From DR"
)


def bwh_text(frame: pl.DataFrame) -> str:
    """A BWH-layout CSV of a canonical synthetic frame, with the cohort's quirks reproduced.

    Odd patients have degF temperatures and CRP in tenths of mg/L, the others degC and mg/L;
    subtypes use the irregular spellings; CRS fields sit on the day-0 row only.
    """
    lines = [BWH_HEADER]
    for patient in frame.partition_by(c.PATIENT_ID, maintain_order=True):
        pid = patient[c.PATIENT_ID][0]
        fahrenheit = int(pid) % 2 == 1
        crs = patient.filter(pl.col(c.DAY) >= 0)[c.RECORDED_CRS_GRADE].fill_null(0)
        days_after = patient.filter(pl.col(c.DAY) >= 0)[c.DAY]
        peak = int(crs.max() or 0)
        onset = days_after.filter(crs >= 1).min() if peak else None
        peak_day = days_after.filter(crs == peak).min() if peak else None
        for row in patient.iter_rows(named=True):
            temperature = row[c.TEMPERATURE_C]
            if temperature is not None and fahrenheit:
                temperature = round(temperature * 9 / 5 + 32, 1)
            crp = row[c.CRP_MG_DL]
            if crp is not None:
                crp = round(crp * (100 if fahrenheit else 10), 1)
            first = row[c.DAY] == 0
            cells = [
                pid,
                row[c.AGE_YEARS],
                "M",
                "" if fahrenheit else "Lymphoma" if row[c.DISEASE] in ("lbcl", "fl", "mcl") else "",
                BWH_SUBTYPES[row[c.DISEASE]],
                "1.0",
                row[c.DAY],
                temperature,
                crp,
                row[c.FERRITIN_NG_ML],
                row[c.RECORDED_ICANS_GRADE],
                "",
                row[c.IL6_PG_ML],
                "",
                peak if first else "",
                onset if first and onset is not None else "",
                peak_day if first and peak_day is not None else "",
                0 if first else "",
                1 if first else "",
            ]
            lines.append(",".join("" if cell is None else str(cell) for cell in cells))
    return "\n".join(lines) + "\n"
