"""/api/patients/{id}/baseline-risk, /api/patients/{id}/forecasts and /api/forecast-risk:
the same adapters as the patient page and the center view, the same permissions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from carta.web.registry import adapters, forecasting, services
from carta.web.registry.models import Patient
from tests.web.api.conftest import ApiClient
from tests.web.conftest import Network
from tests.web.views.conftest import BASELINE_LABS, record_day

# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def without_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(forecasting.MODEL_ENV, str(tmp_path / "none" / "model.joblib"))
    forecasting.clear_cache()
    yield
    forecasting.clear_cache()


@pytest.fixture
def baseline_patient(network: Network, beijing_patient: Patient) -> Patient:
    """Labs on days -8 and -6 (the latest counts), lymphodepletion from day -5, LDH missing,
    and a day-1 platelet count that is not baseline."""
    services.record_lymphodepletion(
        actor=network.coordinator,
        patient=beijing_patient,
        regimen="flu_cy",
        first_day=-5,
        last_day=-3,
    )
    labs = {name: value for name, value in BASELINE_LABS.items() if name != "ldh_u_l"}
    record_day(network, beijing_patient, -8, **labs)
    record_day(network, beijing_patient, -6, platelets_per_ul=60_000.0)
    record_day(network, beijing_patient, 1, platelets_per_ul=10_000.0)
    return beijing_patient


def _recent_patient(
    network: Network, make_patient: Callable[..., Any], registry_id: str, *, shanghai: bool = False
) -> Patient:
    """Infused 3 days ago, days 0-2 recorded, fever rising."""
    actor = network.other_coordinator if shanghai else network.coordinator
    center = network.shanghai if shanghai else network.beijing
    patient = make_patient(actor=actor, center=center, registry_id=registry_id)
    services.record_diagnosis(actor=actor, patient=patient, disease="lbcl")
    services.record_infusion(
        actor=actor,
        patient=patient,
        product=network.product,
        infused_on=timezone.localdate() - timedelta(days=3),
        cell_dose_total=1.4e8,
    )
    for day, temperature, crp in ((0, 37.0, 1.0), (1, 38.4, 5.0), (2, 39.3, 12.0)):
        services.record_daily_assessment(
            actor=actor,
            patient=patient,
            day=day,
            temperature_c=temperature,
            crp_mg_dl=crp,
            fever_attributable_to_other_cause=False,
            hypotension="none",
            vasopressors=[],
            oxygen_device="none",
        )
    assert isinstance(patient, Patient)
    return patient


# --- baseline risk ---------------------------------------------------------------------------


def test_baseline_risk_gives_each_score_with_the_values_and_dates_used(
    api: ApiClient, network: Network, baseline_patient: Patient
) -> None:
    response = api.get(f"/patients/{baseline_patient.pk}/baseline-risk", network.physician)
    assert response.status_code == 200, response.content
    body = response.json()
    labs = {lab["field"]: lab for lab in body["labs"]}
    # the latest value before lymphodepletion: day -6 for platelets, day -8 for the others
    assert labs["platelets_per_ul"] == {
        "field": "platelets_per_ul",
        "label": "platelets (/µL)",
        "value": 60_000.0,
        "unit": "/µL",
        "day": -6,
        "date": str(date(2025, 1, 4)),
    }
    assert (labs["anc_per_ul"]["day"], labs["anc_per_ul"]["date"]) == (-8, "2025-01-02")
    assert labs["ldh_u_l"]["value"] is None and labs["ldh_u_l"]["date"] is None
    assert body["lymphodepletion_first_day"] == -5

    # the same results as the adapter the patient page calls
    days = [
        {"day": row.day, **{f: getattr(row, f) for f in adapters.BASELINE_LABS}}
        for row in baseline_patient.assessments.all()
    ]
    expected = adapters.baseline_scores(days, -5)
    hematotox = body["car_hematotox"]
    assert hematotox["status"] == "ok"
    assert hematotox["score"] == expected.car_hematotox.score == 3  # platelets 2, ANC 1
    assert (hematotox["risk_group"], hematotox["risk_group_text"]) == ("high", "high risk")
    assert hematotox["criteria"]["name"] == expected.car_hematotox.criteria.name
    assert hematotox["criteria"]["version"] == expected.car_hematotox.criteria.version
    assert [r["code"] for r in hematotox["reasons"]] == list(expected.car_hematotox.reasons)
    assert all(r["text"] != r["code"] for r in hematotox["reasons"])
    assert {i["field"] for i in hematotox["inputs"]} == {
        "platelets_per_ul",
        "anc_per_ul",
        "hemoglobin_g_dl",
        "crp_mg_dl",
        "ferritin_ng_ml",
    }
    # LDH is missing: EASIX and m-EASIX say so instead of showing a number
    for name in ("easix", "m_easix"):
        score = body[name]
        assert score["status"] == "cannot_compute"
        assert score["value"] is None
        assert [m["field"] for m in score["missing"]] == ["ldh_U_L"]
        assert score["missing"][0]["label"] == "LDH (U/L)"
    assert body["easix"]["above_korell_4_67"] is None
    assert {i["field"] for i in body["easix"]["inputs"]} == {"creatinine_mg_dl", "platelets_per_ul"}


def test_baseline_risk_flags_easix_above_korell_when_the_labs_are_complete(
    api: ApiClient, network: Network, baseline_patient: Patient
) -> None:
    record_day(network, baseline_patient, -7, ldh_u_l=600.0)
    body = api.get(f"/patients/{baseline_patient.pk}/baseline-risk", network.analyst).json()
    easix = body["easix"]
    # 600 x 1.0 / 60 (platelets in 10^9/L) = 10
    assert easix["status"] == "ok" and easix["value"] == pytest.approx(10.0)
    assert easix["above_korell_4_67"] is True
    assert "easix.above_korell_4_67" in [r["code"] for r in easix["reasons"]]
    assert body["m_easix"]["value"] == pytest.approx(600.0 * 1.0 / 60.0)
    assert body["is_synthetic"] is False


def test_baseline_risk_reasons_follow_the_language(
    api: ApiClient, network: Network, baseline_patient: Patient, chinese: None
) -> None:
    body = api.get(
        f"/patients/{baseline_patient.pk}/baseline-risk", network.coordinator, language="zh-hans"
    ).json()
    hematotox = body["car_hematotox"]
    assert hematotox["risk_group"] == "high"  # codes never change
    assert hematotox["risk_group_text"] != "high risk"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in hematotox["reasons"][0]["text"])


def test_baseline_risk_without_an_infusion_is_a_409(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    response = api.get(f"/patients/{patient.pk}/baseline-risk", network.coordinator)
    assert response.status_code == 409
    assert response.json()["code"] == "no_infusion"


@pytest.mark.parametrize("path", ["baseline-risk", "forecasts"])
def test_another_centers_patient_is_not_found(
    api: ApiClient,
    network: Network,
    shanghai_patient: Patient,
    with_model: Path,
    path: str,
) -> None:
    for user in (network.coordinator, network.analyst, network.nobody):
        response = api.get(f"/patients/{shanghai_patient.pk}/{path}", user)
        assert response.status_code == 404, (user, response.content)
        assert response.json() == {"detail": "Not found."}
    assert api.get(f"/patients/{shanghai_patient.pk}/{path}").status_code == 401
    allowed = api.get(f"/patients/{shanghai_patient.pk}/{path}", network.network_admin)
    assert allowed.status_code == 200


# --- forecasts -------------------------------------------------------------------------------


def test_the_forecast_lists_every_day_with_missing_inputs_and_factors(
    api: ApiClient, network: Network, make_patient: Callable[..., Any], with_model: Path
) -> None:
    patient = _recent_patient(network, make_patient, "BJ-RECENT")
    response = api.get(f"/patients/{patient.pk}/forecasts", network.physician)
    assert response.status_code == 200, response.content
    body = response.json()
    model = forecasting.current_model().model
    assert model is not None
    assert body["model_version"] == model.version
    assert body["decision_support"] == "decision support — does not replace clinical judgement"
    assert [day["day"] for day in body["days"]] == [0, 1, 2]
    infused = timezone.localdate() - timedelta(days=3)
    assert body["days"][2]["date"] == str(infused + timedelta(days=2))
    # the latest day equals the patient page's panel (the same adapter and model)
    course = forecasting.course_of(
        patient,
        patient.infusions.get(),
        list(patient.assessments.all()),
        list(patient.treatments.all()),
        "lbcl",
        None,
    )
    panel = forecasting.forecast_courses(model, [course])[0]
    latest = body["days"][-1]
    for target in panel.targets:
        assert latest[forecasting.PROBABILITY[target.target]] == pytest.approx(target.probability)
        shown = next(t for t in latest["factors"] if t["target"] == target.target)
        assert [f["input"] for f in shown["factors"]] == [f.input for f in target.factors]
        assert all(f["direction"] in {"raises", "lowers"} for f in shown["factors"])
    # IL-6 was never recorded: missing every day, with its label
    for day in body["days"]:
        assert {"input": "il6_pg_mL", "label": "IL-6"} in day["missing"]
        assert 0.0 <= day["p_icans_5d"] <= 1.0


def test_the_forecast_of_an_infusion_named_by_id(
    api: ApiClient, network: Network, beijing_patient: Patient, with_model: Path
) -> None:
    infusion = beijing_patient.infusions.get()
    record_day(network, beijing_patient, 0)
    body = api.get(
        f"/patients/{beijing_patient.pk}/forecasts",
        network.coordinator,
        query={"infusion": infusion.pk},
    ).json()
    assert body["infusion_id"] == infusion.pk and [d["day"] for d in body["days"]] == [0]
    other = api.get(
        f"/patients/{beijing_patient.pk}/forecasts", network.coordinator, query={"infusion": 99999}
    )
    assert other.status_code == 422


def test_the_forecast_without_a_model_or_an_infusion_is_a_409(
    api: ApiClient,
    network: Network,
    beijing_patient: Patient,
    make_patient: Callable[..., Any],
    without_model: None,
) -> None:
    response = api.get(f"/patients/{beijing_patient.pk}/forecasts", network.coordinator)
    assert response.status_code == 409
    assert response.json()["code"] == "no_model"
    assert "carta forecast train" in response.json()["detail"]
    bare = make_patient()
    response = api.get(f"/patients/{bare.pk}/forecasts", network.coordinator)
    assert (response.status_code, response.json()["code"]) == (409, "no_infusion")


# --- the center view -------------------------------------------------------------------------


def test_forecast_risk_lists_recent_patients_of_the_callers_centers(
    api: ApiClient,
    network: Network,
    make_patient: Callable[..., Any],
    beijing_patient: Patient,
    with_model: Path,
) -> None:
    recent = _recent_patient(network, make_patient, "BJ-RECENT")
    make_patient(identity={"full_name": "Li Lei"})
    _recent_patient(network, make_patient, "SH-RECENT", shanghai=True)
    body = api.get("/forecast-risk", network.coordinator).json()
    # beijing_patient was infused in 2025: not currently after infusion
    assert [row["patient"]["registry_id"] for row in body["items"]] == ["BJ-RECENT"]
    row = body["items"][0]
    assert row["patient"]["id"] == recent.pk and "identity" not in row["patient"]
    assert row["day"] == 2 and row["highest"] == max(
        row["p_icans_5d"], row["p_severe_icans_5d"], row["p_crs2_5d"]
    )
    assert body["window_days"] == forecasting.DEFAULT_WINDOW_DAYS
    # analysts see the pseudonymised row too; another center is a 404
    assert [r["patient"]["id"] for r in api.get("/forecast-risk", network.analyst).json()["items"]]
    hidden = api.get("/forecast-risk", network.coordinator, query={"center": "SH01"})
    assert hidden.status_code == 404
    everyone = api.get("/forecast-risk", network.network_admin).json()["items"]
    assert {r["patient"]["registry_id"] for r in everyone} == {"BJ-RECENT", "SH-RECENT"}
    assert (
        api.get("/forecast-risk", network.coordinator, query={"window_days": 3}).status_code == 422
    )


def test_forecast_risk_without_a_model_is_a_409(
    api: ApiClient, network: Network, without_model: None
) -> None:
    response = api.get("/forecast-risk", network.coordinator)
    assert (response.status_code, response.json()["code"]) == (409, "no_model")
