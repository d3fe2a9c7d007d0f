"""/api/patients/{id}/assessments: recorded days with computed grades and reasons, and the
preview that grades without saving."""

from __future__ import annotations

from typing import Any

import pytest

from carta.web.audit.models import AuditEvent
from carta.web.registry import services
from carta.web.registry.models import DailyAssessment, Patient
from tests.web.api.conftest import ApiClient, fields_of
from tests.web.conftest import Network

# ASTCT 2019: fever >= 38.0 °C not due to another cause, without hypotension or hypoxia, is
# CRS grade 1.
FEVER_ONLY = {
    "temperature_c": 39.2,
    "fever_attributable_to_other_cause": False,
    "hypotension": "none",
    "vasopressors": [],
    "oxygen_device": "none",
}


def path(patient: Patient, suffix: str = "") -> str:
    return f"/patients/{patient.pk}/assessments{suffix}"


def test_recording_a_day_returns_and_stores_the_computed_grade(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    body = {"day": 1, **FEVER_ONLY, "recorded_crs_grade": 2}
    response = api.post(path(beijing_patient), network.coordinator, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["crs"]["status"] == "ok"
    assert created["crs"]["grade"] == 1
    assert "crs.fever" in [reason["code"] for reason in created["crs"]["reasons"]]
    assert created["crs"]["criteria"].startswith("ASTCT")
    assert created["agreement"]["crs"] == "disagree"  # the clinician wrote 2
    row = DailyAssessment.objects.get(pk=created["id"])
    assert (row.crs_grade, row.crs_status, row.crs_reasons) == (
        created["crs"]["grade"],
        created["crs"]["status"],
        [reason["code"] for reason in created["crs"]["reasons"]],
    )
    assert created["icans"]["status"] == row.icans_status
    assert [item["field"] for item in created["icans"]["missing"]] == row.icans_missing != []
    event = AuditEvent.objects.get(target_type="registry.dailyassessment", target_id=str(row.pk))
    assert event.actor == network.coordinator


def test_reasons_and_missing_inputs_are_given_in_words(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    from carta.web.reasons import field_label, reason_text

    created = api.post(path(beijing_patient), network.coordinator, {"day": 1, **FEVER_ONLY})
    crs = created.json()["crs"]
    assert crs["reasons"] == [{"code": "crs.fever", "text": reason_text("crs.fever")}]
    assert crs["reasons"][0]["text"] != "crs.fever"  # a sentence, not the code again
    icans = created.json()["icans"]
    assert icans["missing"]
    for item in icans["missing"]:
        assert item["label"] == field_label(item["field"])


def test_reason_texts_follow_the_request_language(
    api: ApiClient, network: Network, beijing_patient: Patient, chinese: None
) -> None:
    from django.utils import translation

    from carta.web.reasons import reason_text

    services.record_daily_assessment(
        actor=network.coordinator, patient=beijing_patient, day=1, **FEVER_ONLY
    )
    listed = api.get(path(beijing_patient), network.coordinator, language="zh-hans").json()
    with translation.override("zh-hans"):
        expected = reason_text("crs.fever")
    reason = listed[0]["crs"]["reasons"][0]
    assert reason["code"] == "crs.fever"  # the code is the same in every language
    assert reason["text"] == expected
    with translation.override("en"):
        assert reason["text"] != reason_text("crs.fever")  # Chinese, not the English sentence


def test_list_and_detail_read_the_stored_days(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    for day in (3, 1, 2):
        services.record_daily_assessment(
            actor=network.coordinator, patient=beijing_patient, day=day, **FEVER_ONLY
        )
    listed = api.get(path(beijing_patient), network.analyst).json()
    assert [row["day"] for row in listed] == [1, 2, 3]
    # day 1 had CRS: the fever waiver inputs of the later days say so
    assert listed[1]["fever_waiver"]["crs_previously_diagnosed"] is True
    one = api.get(path(beijing_patient, f"/{listed[0]['id']}"), network.analyst).json()
    assert one == listed[0]
    infusion = beijing_patient.infusions.get().pk
    filtered = api.get(path(beijing_patient), network.analyst, query={"infusion": infusion})
    assert len(filtered.json()) == 3
    assert api.get(path(beijing_patient), network.analyst, query={"infusion": 999}).json() == []


def test_rerecording_a_day_needs_a_reason(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    first = api.post(path(beijing_patient), network.coordinator, {"day": 1, **FEVER_ONLY})
    again = {"day": 1, **FEVER_ONLY, "temperature_c": 37.0}
    refused = api.post(path(beijing_patient), network.coordinator, again)
    assert refused.status_code == 422
    assert fields_of(refused) == ["reason"]
    assert DailyAssessment.objects.get().temperature_c == 39.2  # unchanged
    accepted = api.post(path(beijing_patient), network.coordinator, {**again, "reason": "typo"})
    assert accepted.status_code == 201
    assert accepted.json()["id"] == first.json()["id"]
    assert accepted.json()["crs"]["grade"] == 0  # no fever, no CRS


@pytest.mark.parametrize(
    "change, field",
    [
        ({"day": -31}, "day"),
        ({"day": "one"}, "day"),
        ({"temperature_c": 47.0}, "temperature_c"),
        ({"vasopressors": ["adrenaline"]}, "vasopressors.0"),
        ({"vasopressors": ["dopamine", "dopamine"]}, "vasopressors"),
        ({"hypotension": "severe"}, "hypotension"),
        ({"ice_score": 11}, "ice_score"),
        ({"infusion": 987654}, "infusion"),
        ({"crs_grade": 3}, "crs_grade"),  # computed, never entered
        ({"tool": "CAPD", "capd_score": 40}, "capd_score"),
    ],
)
def test_bad_observations_name_the_field_and_save_nothing(
    api: ApiClient,
    network: Network,
    beijing_patient: Patient,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {"day": 1, **FEVER_ONLY, **change}
    response = api.post(path(beijing_patient), network.coordinator, body)
    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert not DailyAssessment.objects.exists()
    assert not AuditEvent.objects.filter(target_type="registry.dailyassessment").exists()


def test_preview_grades_without_saving(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    events = AuditEvent.objects.count()
    response = api.post(
        path(beijing_patient, "/preview"), network.coordinator, {"day": 1, **FEVER_ONLY}
    )
    assert response.status_code == 200, response.content
    preview = response.json()
    saved = services.record_daily_assessment(
        actor=network.coordinator, patient=beijing_patient, day=1, **FEVER_ONLY
    )
    assert preview["crs"]["grade"] == saved.crs_grade == 1
    assert preview["crs"]["status"] == saved.crs_status
    assert [item["field"] for item in preview["icans"]["missing"]] == saved.icans_missing
    assert preview["problems"] == {}
    assert preview["infusion_id"] == saved.infusion_id
    assert AuditEvent.objects.count() == events + 1  # only the save wrote
    assert DailyAssessment.objects.count() == 1


def test_preview_reports_inputs_the_rules_refuse_and_saving_them_is_a_422(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    # A vasopressor without hypotension contradicts itself (reference a.3): the rule refuses
    # it; the preview shows the problem by field, the save names the same field.
    body = {"day": 1, **FEVER_ONLY, "hypotension": "none", "vasopressors": ["dopamine"]}
    preview = api.post(path(beijing_patient, "/preview"), network.coordinator, body).json()
    assert preview["crs"]["status"] == "invalid_input"
    assert list(preview["problems"]) == ["vasopressors"]
    saved = api.post(path(beijing_patient), network.coordinator, body)
    assert saved.status_code == 422
    assert fields_of(saved) == ["vasopressors"]
    assert not DailyAssessment.objects.exists()


def test_preview_on_another_centers_patient_is_not_found(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    response = api.post(path(beijing_patient, "/preview"), network.other_coordinator, {"day": 1})
    assert response.status_code == 404


def test_a_patient_without_infusion_cannot_be_assessed(
    api: ApiClient, network: Network, make_patient: Any
) -> None:
    patient = make_patient()
    response = api.post(path(patient), network.coordinator, {"day": 1})
    assert response.status_code == 422
    assert fields_of(response) == ["infusion"]
    assert api.post(path(patient, "/preview"), network.coordinator, {"day": 1}).status_code == 422


def test_list_query_count_does_not_grow_with_the_days(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(path(beijing_patient), network.analyst).status_code == 200
        return len(captured)

    services.record_daily_assessment(
        actor=network.coordinator, patient=beijing_patient, day=1, **FEVER_ONLY
    )
    api.token(network.analyst)
    one = queries()
    for day in range(2, 8):
        services.record_daily_assessment(
            actor=network.coordinator, patient=beijing_patient, day=day, **FEVER_ONLY
        )
    assert queries() == one
