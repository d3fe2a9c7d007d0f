"""Baseline risk scores (CAR-HEMATOTOX, EASIX, m-EASIX) and the toxicity forecast."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from carta.web.api.schemas.common import MissingOut, ReasonOut
from carta.web.api.schemas.patients import PatientOut

DECISION_SUPPORT = Field(
    ...,
    description=(
        "The label every forecast carries, in the request's language: decision support, "
        "not a replacement for clinical judgement."
    ),
)


class LabOut(Schema):
    """One baseline lab value: the latest before lymphodepletion (or before day 0)."""

    field: str = Field(..., description="The daily-assessment field, e.g. `platelets_per_ul`.")
    label: str = Field(..., description="The lab's name in the request's language.")
    value: float | None = Field(..., description="The value used; null when there is none.")
    unit: str = Field(..., description="The value's unit, e.g. `/µL`, `mg/dL`.")
    day: int | None = Field(..., description="Day (relative to the infusion) it was taken.")
    date: dt.date | None = Field(..., description="The date it was taken (infusion date + day).")


class CriteriaOut(Schema):
    """A versioned rule set."""

    name: str = Field(..., description="e.g. `CAR-HEMATOTOX`.")
    version: str = Field(..., description="e.g. `Rejeski 2021`.")
    label: str = Field(..., description="Name and version, as stored beside computed results.")


class ScoreOut(Schema):
    """What every baseline score carries."""

    status: str = Field(
        ..., description="`ok`, `cannot_compute` (inputs missing) or `invalid_input`."
    )
    criteria: CriteriaOut
    reasons: list[ReasonOut] = Field(..., description="Reason codes with their sentences.")
    missing: list[MissingOut] = Field(
        ..., description="The inputs without a baseline value that the score needs."
    )
    inputs: list[LabOut] = Field(
        ..., description="The labs this score reads, with the values used."
    )


class HematotoxOut(ScoreOut):
    """CAR-HEMATOTOX (reference section f)."""

    score: int | None = Field(..., description="0-7 when `status` is `ok`, else null.")
    risk_group: str | None = Field(..., description="`low` (0-1) or `high` (2 or more).")
    risk_group_text: str | None = Field(..., description="The risk group in words.")


class EasixOut(ScoreOut):
    """EASIX (reference section g): LDH × creatinine / platelets (10⁹/L)."""

    value: float | None
    log2_value: float | None
    above_korell_4_67: bool | None = Field(
        ..., description="Korell 2022 flag: EASIX before lymphodepletion above 4.67."
    )


class MEasixOut(ScoreOut):
    """m-EASIX: LDH × CRP / platelets (10⁹/L)."""

    value: float | None
    log2_value: float | None


class BaselineRiskOut(Schema):
    """The baseline scores of the patient's first infusion, from the labs before
    lymphodepletion."""

    patient_id: int
    infusion_id: int
    infusion_number: int
    infused_on: dt.date
    lymphodepletion_first_day: int | None = Field(
        ..., description="First day of lymphodepletion relative to the infusion, if recorded."
    )
    window: str = Field(..., description="Which values count as baseline, in words.")
    labs: list[LabOut] = Field(..., description="Every baseline lab, with the value used or null.")
    car_hematotox: HematotoxOut
    easix: EasixOut
    m_easix: MEasixOut
    is_synthetic: bool = Field(..., description="The patient is a synthetic (demo/test) record.")


class FactorOut(Schema):
    """An input that moved a forecast (a contribution in log-odds, not a cause)."""

    input: str = Field(..., description="The model input, e.g. `crp_mg_dL`.")
    label: str = Field(..., description="The input in words, in the request's language.")
    contribution: float = Field(..., description="Change of the log-odds it made.")
    direction: str = Field(..., description="`raises` or `lowers`.")


class TargetFactorsOut(Schema):
    """The top factors of one target."""

    target: str = Field(..., description="`icans_5d`, `severe_icans_5d` or `crs2_5d`.")
    label: str
    factors: list[FactorOut]


class InputOut(Schema):
    """A model input, with its label."""

    input: str
    label: str


class ForecastDayOut(Schema):
    """The forecast made with the records up to one day after the infusion."""

    day: int = Field(..., description="Day after the infusion (0 = infusion day).")
    date: dt.date
    p_icans_5d: float | None = Field(..., description="P(ICANS of any grade within 5 days).")
    p_severe_icans_5d: float | None = Field(..., description="P(ICANS grade ≥ 3 within 5 days).")
    p_crs2_5d: float | None = Field(..., description="P(CRS grade ≥ 2 within 5 days).")
    missing: list[InputOut] = Field(..., description="Inputs the model reads that had no value.")
    factors: list[TargetFactorsOut] = Field(..., description="Top contributions per target.")


class ForecastOut(Schema):
    """The day-by-day toxicity forecast of one infusion."""

    patient_id: int
    infusion_id: int
    infusion_number: int
    infused_on: dt.date
    model_version: str
    decision_support: str = DECISION_SUPPORT
    targets: list[str] = Field(..., description="The targets this model forecasts.")
    days: list[ForecastDayOut] = Field(
        ..., description="Every assessed day from day 0, in order (empty before day 0 is recorded)."
    )
    is_synthetic: bool


class ForecastUnavailableOut(Schema):
    """409: no forecast can be made for this patient now."""

    detail: str = Field(..., description="Why, in the request's language.")
    code: str = Field(
        ...,
        description=(
            "`no_model` (no forecast model installed or it cannot be loaded), `no_infusion` "
            "(the patient has no infusion recorded; for baseline risk too)."
        ),
    )


class RiskRowOut(Schema):
    """A patient on the center view of high forecast risk (pseudonymised)."""

    patient: PatientOut
    infusion_id: int
    infusion_number: int
    infused_on: dt.date
    day: int = Field(..., description="The latest assessed day, the one forecast.")
    p_icans_5d: float | None
    p_severe_icans_5d: float | None
    p_crs2_5d: float | None
    highest: float = Field(..., description="The highest of the probabilities (the sort key).")
    missing: list[str] = Field(..., description="Inputs without value, in words.")


class ForecastRiskOut(Schema):
    """Patients whose latest infusion is in the window, highest forecast first."""

    today: dt.date
    window_days: int
    model_version: str | None
    decision_support: str = DECISION_SUPPORT
    items: list[RiskRowOut]
