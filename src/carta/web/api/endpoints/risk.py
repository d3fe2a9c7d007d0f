"""``/api/patients/{id}/baseline-risk``, ``/api/patients/{id}/forecasts`` and
``/api/forecast-risk``: the baseline scores and the toxicity forecast the patient page and the
center view show, from the same adapters (ADR 0237, ADR 0431, ADR 0270).

Nothing is computed here: :func:`adapters.baseline_scores` scores the labs, and
:mod:`carta.web.registry.forecasting` builds the model's frame and forecasts. This module
reads the records through the selectors, calls them, and arranges their results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from carta.clinical.results import Criteria, RuleResult
from carta.clinical.scores.car_hematotox import MARKERS
from carta.clinical.scores.easix import EASIX_INPUTS, M_EASIX_INPUTS
from carta.web.accounts import access
from carta.web.api.endpoints.common import actor, missing, patient_infusion, patient_out, reasons
from carta.web.api.endpoints.patients import PatientId, visible_patient
from carta.web.api.schemas.common import ERRORS
from carta.web.api.schemas.fields import ID_MAX, Text
from carta.web.api.schemas.patients import CENTER_CODE_MAX
from carta.web.api.schemas.risk import (
    BaselineRiskOut,
    ForecastOut,
    ForecastRiskOut,
    ForecastUnavailableOut,
)
from carta.web.reasons import RISK_GROUP_TEXT
from carta.web.registry import adapters, forecasting, selectors
from carta.web.registry.models import (
    DailyAssessment,
    Diagnosis,
    Infusion,
    Lymphodepletion,
    Patient,
)

router = Router(tags=["risk"])

# The badge text of the forecast panel and the center view (translated in their templates).
DECISION_SUPPORT = "decision support — does not replace clinical judgement"
# The unit of each baseline lab field (the field names say it; this says it in words).
LAB_UNITS: dict[str, str] = {
    "platelets_per_ul": "/µL",
    "anc_per_ul": "/µL",
    "hemoglobin_g_dl": "g/dL",
    "crp_mg_dl": "mg/dL",
    "ferritin_ng_ml": "ng/mL",
    "ldh_u_l": "U/L",
    "creatinine_mg_dl": "mg/dL",
}
# Reference name (what the rules read) -> the daily-assessment field it is stored in.
LAB_FIELD_OF: dict[str, str] = {name: field for field, name in adapters.BASELINE_LABS.items()}
# The inputs each score reads, by their rule names (a rule input may have two unit variants).
SCORE_INPUTS: dict[str, tuple[str, ...]] = {
    "car_hematotox": tuple(
        name for marker in MARKERS for name in (marker.canonical_field, marker.alternate_field)
    ),
    "easix": tuple(
        name
        for item in EASIX_INPUTS
        for name in (item.canonical_field, item.alternate_field)
        if name
    ),
    "m_easix": tuple(
        name
        for item in M_EASIX_INPUTS
        for name in (item.canonical_field, item.alternate_field)
        if name
    ),
}
NO_MODEL = "no_model"
NO_INFUSION = "no_infusion"
CONFLICT = {409: ForecastUnavailableOut}

InfusionQuery = Annotated[
    int | None, Query(ge=1, le=ID_MAX, description="ID of the infusion; default: the latest.")
]
CenterQuery = Annotated[
    Text | None,
    Query(
        max_length=CENTER_CODE_MAX,
        description="A center code; default: every center you may view.",
    ),
]
WindowQuery = Annotated[
    int,
    Query(
        ge=7,
        le=90,
        description="Days since the latest infusion that count as currently after infusion.",
    ),
]


def _unavailable(code: str, detail: str) -> Status[dict[str, str]]:
    return Status(409, {"code": code, "detail": detail})


def _no_infusion() -> Status[dict[str, str]]:
    return _unavailable(NO_INFUSION, _("Record the infusion first."))


# --- baseline risk -----------------------------------------------------------------------------


def _lab_label(field: str) -> str:
    return str(DailyAssessment._meta.get_field(field).verbose_name)


def _lab(field: str, value: float | None, day: int | None, infused_on: date) -> dict[str, Any]:
    return {
        "field": field,
        "label": _lab_label(field),
        "value": value,
        "unit": LAB_UNITS.get(field, ""),
        "day": day,
        "date": None if day is None else infused_on + timedelta(days=day),
    }


def _criteria(criteria: Criteria) -> dict[str, str]:
    return {"name": criteria.name, "version": criteria.version, "label": criteria.label}


def _score(result: RuleResult, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "criteria": _criteria(result.criteria),
        "reasons": reasons(result.reasons),
        "missing": missing(result.missing),
        "inputs": inputs,
    }


def _inputs_of(score: str, labs: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The labs a score reads that had a baseline value (the others are in ``missing``)."""
    fields = dict.fromkeys(
        LAB_FIELD_OF[name] for name in SCORE_INPUTS[score] if name in LAB_FIELD_OF
    )
    return [labs[field] for field in fields if labs[field]["value"] is not None]


def baseline_risk_out(
    patient: Patient,
    infusion: Infusion,
    days: Iterable[DailyAssessment],
    lymphodepletion_first_day: int | None,
) -> dict[str, Any]:
    """The scores ``adapters.baseline_scores`` gives for the infusion's days (as on the
    patient page), with the values and dates each used."""
    rows = [
        {"day": row.day, **{field: getattr(row, field) for field in adapters.BASELINE_LABS}}
        for row in days
    ]
    scores = adapters.baseline_scores(rows, lymphodepletion_first_day)
    values = {
        field: next((row[field] for row in rows if row["day"] == scores.lab_days.get(field)), None)
        for field in adapters.BASELINE_LABS
    }
    labs = {
        field: _lab(field, values[field], scores.lab_days.get(field), infusion.infused_on)
        for field in adapters.BASELINE_LABS
    }
    hematotox = scores.car_hematotox
    group = hematotox.risk_group
    return {
        "patient_id": patient.pk,
        "infusion_id": infusion.pk,
        "infusion_number": infusion.number,
        "infused_on": infusion.infused_on,
        "lymphodepletion_first_day": lymphodepletion_first_day,
        "window": _("From each lab's latest value before lymphodepletion (or before day 0)."),
        "labs": list(labs.values()),
        "car_hematotox": {
            **_score(hematotox, _inputs_of("car_hematotox", labs)),
            "score": hematotox.score,
            "risk_group": group,
            "risk_group_text": None if group is None else str(RISK_GROUP_TEXT.get(group, group)),
        },
        "easix": {
            **_score(scores.easix, _inputs_of("easix", labs)),
            "value": scores.easix.value,
            "log2_value": scores.easix.log2_value,
            "above_korell_4_67": scores.easix.above_korell_4_67,
        },
        "m_easix": {
            **_score(scores.m_easix, _inputs_of("m_easix", labs)),
            "value": scores.m_easix.value,
            "log2_value": scores.m_easix.log2_value,
        },
        "is_synthetic": patient.is_synthetic,
    }


def _first_lymphodepletion_day(user: Any, patient: Patient) -> int | None:
    """The first recorded lymphodepletion's first day (as the patient page reads it)."""
    first = selectors.records(user, Lymphodepletion).filter(patient=patient).first()
    return None if first is None else first.first_day


@router.get(
    "/patients/{patient_id}/baseline-risk",
    response={200: BaselineRiskOut, **ERRORS, **CONFLICT},
)
def get_baseline_risk(request: HttpRequest, patient_id: PatientId) -> Any:
    """CAR-HEMATOTOX (score and risk group), EASIX with the Korell 4.67 flag, and m-EASIX of
    the first infusion, from each lab's latest value before lymphodepletion (or before day 0),
    with the values, units and dates used; a score without its inputs says what is missing.
    409 `no_infusion` when no infusion is recorded."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    infusion = selectors.infusions(user, patient).order_by("number").first()
    if infusion is None:
        return _no_infusion()
    days = selectors.daily_assessments(user, patient).filter(infusion=infusion)
    return baseline_risk_out(patient, infusion, days, _first_lymphodepletion_day(user, patient))


# --- the forecast ------------------------------------------------------------------------------


def _labels(names: Iterable[str]) -> list[dict[str, str]]:
    return [
        {"input": name, "label": str(forecasting.INPUT_LABELS.get(name, name))} for name in names
    ]


def _factors(factors: Mapping[str, Sequence[forecasting.Factor]]) -> list[dict[str, Any]]:
    return [
        {
            "target": target,
            "label": str(forecasting.TARGET_LABELS[target]),
            "factors": [
                {
                    "input": factor.input,
                    "label": factor.label,
                    "contribution": factor.contribution,
                    "direction": "raises" if factor.raises else "lowers",
                }
                for factor in rows
            ],
        }
        for target, rows in factors.items()
    ]


def _day_out(day: forecasting.DayForecast, infused_on: date) -> dict[str, Any]:
    return {
        "day": day.day,
        "date": infused_on + timedelta(days=day.day),
        **{
            forecasting.PROBABILITY[target]: day.probabilities.get(target)
            for target in forecasting.TARGETS
        },
        "missing": _labels(day.missing),
        "factors": _factors(day.factors),
    }


def _course(user: Any, patient: Patient, infusion: Infusion) -> forecasting.Course:
    """The forecast course of one infusion, from records read through the selectors."""
    first_diagnosis = selectors.records(user, Diagnosis).filter(patient=patient).first()
    return forecasting.course_of(
        patient,
        infusion,
        list(selectors.daily_assessments(user, patient).filter(infusion=infusion)),
        list(selectors.toxicity_treatments(user, patient).filter(infusion=infusion)),
        None if first_diagnosis is None else first_diagnosis.disease,
        _first_lymphodepletion_day(user, patient),
    )


def _model_missing(loaded: forecasting.LoadedModel) -> Status[dict[str, str]]:
    if loaded.problem:
        detail = _("The forecast model could not be loaded: %(problem)s") % {
            "problem": loaded.problem
        }
    else:
        detail = _(
            "No forecast model is installed. Train one with: "
            "carta forecast train --format registry ..."
        )
    return _unavailable(NO_MODEL, detail)


@router.get(
    "/patients/{patient_id}/forecasts",
    response={200: ForecastOut, **ERRORS, **CONFLICT},
)
def get_forecasts(
    request: HttpRequest, patient_id: PatientId, infusion: InfusionQuery = None
) -> Any:
    """The toxicity forecast for every assessed day from day 0 of an infusion (default: the
    latest): P(ICANS), P(ICANS grade ≥ 3) and P(CRS grade ≥ 2) within the next 5 days, the
    inputs missing each day and the top contributing factors, with the model version.
    Decision support, not a replacement for clinical judgement. 409 `no_model` when no model
    is installed, `no_infusion` when the patient has no infusion."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    chosen = patient_infusion(user, patient, infusion)
    if chosen is None:
        chosen = selectors.infusions(user, patient).select_related("product").last()
    if chosen is None:
        return _no_infusion()
    loaded = forecasting.current_model()
    if loaded.model is None:
        return _model_missing(loaded)
    days = forecasting.forecast_days(loaded.model, _course(user, patient, chosen))
    targets = [
        target for target in forecasting.TARGETS if target in getattr(loaded.model, "targets", {})
    ]
    return {
        "patient_id": patient.pk,
        "infusion_id": chosen.pk,
        "infusion_number": chosen.number,
        "infused_on": chosen.infused_on,
        "model_version": str(loaded.model.version),
        "decision_support": _(DECISION_SUPPORT),
        "targets": targets,
        "days": [_day_out(day, chosen.infused_on) for day in days],
        "is_synthetic": patient.is_synthetic,
    }


# --- the center view ---------------------------------------------------------------------------


def _risk_row(row: forecasting.RiskRow) -> dict[str, Any]:
    probabilities = {target.target: target.probability for target in row.forecast.targets}
    return {
        "patient": patient_out(row.patient),
        "infusion_id": row.infusion.pk,
        "infusion_number": row.infusion.number,
        "infused_on": row.infusion.infused_on,
        "day": row.forecast.day,
        **{
            forecasting.PROBABILITY[target]: probabilities.get(target)
            for target in forecasting.TARGETS
        },
        "highest": row.forecast.highest,
        "missing": row.forecast.missing,
    }


@router.get("/forecast-risk", response={200: ForecastRiskOut, **ERRORS, **CONFLICT})
def list_forecast_risk(
    request: HttpRequest,
    center: CenterQuery = None,
    window_days: WindowQuery = forecasting.DEFAULT_WINDOW_DAYS,
) -> Any:
    """The patients you may view whose latest infusion is within `window_days` before today,
    highest forecast first (the center view of the web app; registry IDs only). 409
    `no_model` when no model is installed; an unknown or hidden center is a 404."""
    user = actor(request)
    chosen = None
    if center:
        chosen = access.centers(user, "view").filter(code=center).first()
        if chosen is None:
            raise Http404
    loaded = forecasting.current_model()
    if loaded.model is None:
        return _model_missing(loaded)
    today = timezone.localdate()
    patients = selectors.list_patients(user, center=chosen)
    rows = forecasting.patients_at_risk(patients, today, window_days)
    return {
        "today": today,
        "window_days": window_days,
        "model_version": str(loaded.model.version),
        "decision_support": _(DECISION_SUPPORT),
        "items": [_risk_row(row) for row in rows],
    }
