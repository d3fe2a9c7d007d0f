"""/api/patients: list filters and pages, detail, create, update with a reason; bad input is
a 422 naming the field and saves nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carta.web.audit.models import AuditEvent
from carta.web.registry.models import Patient, PatientIdentity
from tests.web.api.conftest import ApiClient, fields_of
from tests.web.conftest import Network

NEW = {"center": "BJ01", "registry_id": "BJ-0100", "sex": "male", "year_of_birth": 1962}


@pytest.fixture
def many(network: Network, make_patient: Callable[..., Any]) -> list[Patient]:
    """Five Beijing patients (two synthetic) and one in Shanghai."""
    rows = [make_patient(is_synthetic=index >= 3) for index in range(5)]
    make_patient(actor=network.other_coordinator, center=network.shanghai, registry_id="SH-1")
    return rows


def test_list_pages_through_the_visible_patients(
    api: ApiClient, network: Network, many: list[Patient]
) -> None:
    first = api.get("/patients", network.coordinator, query={"limit": 2}).json()
    second = api.get("/patients", network.coordinator, query={"limit": 2, "offset": 2}).json()
    assert first["count"] == second["count"] == 5
    assert (first["limit"], first["offset"], second["offset"]) == (2, 0, 2)
    ids = [row["registry_id"] for row in first["items"] + second["items"]]
    assert ids == ["BJ-0001", "BJ-0002", "BJ-0003", "BJ-0004"]


def test_list_filters(api: ApiClient, network: Network, many: list[Patient]) -> None:
    def ids(**query: Any) -> list[str]:
        body = api.get("/patients", network.network_admin, query=query).json()
        return [row["registry_id"] for row in body["items"]]

    assert ids(search="0003") == ["BJ-0003"]
    assert ids(search="bj-000", synthetic="true") == ["BJ-0004", "BJ-0005"]
    assert ids(center="SH01") == ["SH-1"]
    assert ids(center="XX99") == []
    # A center the user may not view filters to nothing, as an unknown code does.
    hidden = api.get("/patients", network.coordinator, query={"center": "SH01"}).json()
    assert hidden["count"] == 0


def test_synthetic_patients_are_marked(
    api: ApiClient, network: Network, many: list[Patient]
) -> None:
    rows = api.get("/patients", network.coordinator).json()["items"]
    assert [row["is_synthetic"] for row in rows] == [False, False, False, True, True]


def test_list_query_count_does_not_grow_with_the_page(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/patients", network.coordinator).status_code == 200
        return len(captured)

    make_patient()
    api.token(network.coordinator)  # the token is issued outside the measured request
    one = queries()
    for _ in range(9):
        make_patient()
    assert queries() == one == 3  # token + count + page (center joined)


@pytest.mark.parametrize("limit, offset", [(0, 0), (201, 0), (10, -1), (10, 10**12)])
def test_page_bounds_name_the_parameter(
    api: ApiClient, network: Network, limit: int, offset: int
) -> None:
    response = api.get("/patients", network.coordinator, query={"limit": limit, "offset": offset})
    assert response.status_code == 422
    assert set(fields_of(response)) <= {"limit", "offset"}
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_detail_shows_bsa_and_center(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    from carta.web.registry import adapters

    patient = make_patient(weight_kg=80.0, height_cm=180.0)
    body = api.get(f"/patients/{patient.pk}", network.coordinator).json()
    assert body["bsa_m2"] == pytest.approx(adapters.patient_bsa(80.0, 180.0).bsa_m2)
    assert body["bsa_m2"] == pytest.approx((80.0 * 180.0 / 3600) ** 0.5)
    assert body["center"]["code"] == "BJ01"


def test_create_writes_through_the_service_with_the_token_user(
    api: ApiClient, network: Network
) -> None:
    body = {**NEW, "identity": {"full_name": "Li Lei", "phone": "138"}}
    response = api.post("/patients", network.physician, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["identity"]["full_name"] == "Li Lei"
    patient = Patient.objects.get(pk=created["id"])
    assert (patient.center, patient.registry_id) == (network.beijing, "BJ-0100")
    events = AuditEvent.objects.filter(target_type="registry.patient", target_id=str(patient.pk))
    assert {event.actor for event in events} == {network.physician}
    assert PatientIdentity.objects.get(patient=patient).phone == "138"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"sex": "unknown-word"}, "sex"),
        ({"registry_id": ""}, "registry_id"),
        ({"registry_id": "has space"}, "registry_id"),
        ({"year_of_birth": 1850}, "year_of_birth"),
        ({"weight_kg": -3}, "weight_kg"),
        ({"year_of_birth": None}, "year_of_birth"),  # neither year of birth nor age
        ({"center": "SH01"}, "center"),  # a center the coordinator may not see
        ({"center": "NOPE"}, "center"),
        ({"identity": {"date_of_birth": "1962-13-40"}}, "identity.date_of_birth"),
        ({"identity": {"phone": "1" * 33}}, "identity.phone"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"registry_id": "a\x00b"}, "registry_id"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    api: ApiClient, network: Network, change: dict[str, Any], field: str
) -> None:
    response = api.post("/patients", network.coordinator, {**NEW, **change})
    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_duplicate_registry_id_names_the_field(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    make_patient(registry_id="BJ-0100")
    response = api.post("/patients", network.coordinator, NEW)
    assert response.status_code == 422
    assert fields_of(response) == ["registry_id"]


def test_missing_required_fields_are_each_named(api: ApiClient, network: Network) -> None:
    response = api.post("/patients", network.coordinator, {"year_of_birth": 1970})
    assert response.status_code == 422
    assert set(fields_of(response)) == {"registry_id", "sex", "center"}


def test_network_admin_cannot_record_identity_and_nothing_is_saved(
    api: ApiClient, network: Network
) -> None:
    body = {**NEW, "identity": {"full_name": "Li Lei"}}
    response = api.post("/patients", network.network_admin, body)
    assert response.status_code == 403
    assert not Patient.objects.exists()  # the patient was not saved without its identity
    assert not AuditEvent.objects.exists()
    assert api.post("/patients", network.network_admin, NEW).status_code == 201


def test_update_changes_the_fields_sent_with_the_reason(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient(weight_kg=70.0)
    body = {"reason": "re-weighed", "weight_kg": 72.5}
    response = api.patch(f"/patients/{patient.pk}", network.coordinator, body)
    assert response.status_code == 200
    assert response.json()["weight_kg"] == 72.5
    assert response.json()["height_cm"] == 165.0  # not sent, not changed
    event = AuditEvent.objects.get(
        action="update", target_type="registry.patient", target_id=str(patient.pk)
    )
    assert (event.reason, event.before, event.after) == (
        "re-weighed",
        {"weight_kg": 70.0},
        {"weight_kg": 72.5},
    )
    assert event.actor == network.coordinator


@pytest.mark.parametrize(
    "body, field",
    [
        ({"weight_kg": 72.5}, "reason"),
        ({"reason": "", "weight_kg": 72.5}, "reason"),
        ({"reason": "x", "center": "SH01"}, "center"),
        ({"reason": "x", "sex": None}, "sex"),
        ({"reason": "x", "age_at_infusion": None, "year_of_birth": None}, "year_of_birth"),
    ],
)
def test_update_refuses_bad_input_and_changes_nothing(
    api: ApiClient,
    network: Network,
    make_patient: Callable[..., Any],
    body: dict[str, Any],
    field: str,
) -> None:
    patient = make_patient(weight_kg=70.0)
    response = api.patch(f"/patients/{patient.pk}", network.coordinator, body)
    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    patient.refresh_from_db()
    assert (patient.weight_kg, patient.sex) == (70.0, "female")
    assert not AuditEvent.objects.filter(action="update").exists()


def test_update_with_identity_by_a_network_admin_is_refused_whole(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient(weight_kg=70.0)
    body = {"reason": "x", "weight_kg": 71.0, "identity": {"full_name": "Li Lei"}}
    response = api.patch(f"/patients/{patient.pk}", network.network_admin, body)
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.weight_kg == 70.0  # the patient's change was rolled back with the identity


def test_update_records_identity_for_the_own_center(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient(identity={"full_name": "Wang Fang"})
    body = {"reason": "corrected spelling", "identity": {"full_name": "Wang Fang-Li"}}
    response = api.patch(f"/patients/{patient.pk}", network.coordinator, body)
    assert response.status_code == 200
    assert response.json()["identity"]["full_name"] == "Wang Fang-Li"


def test_another_centers_patient_cannot_be_updated(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient(weight_kg=70.0)
    body = {"reason": "x", "weight_kg": 71.0}
    response = api.patch(f"/patients/{patient.pk}", network.other_coordinator, body)
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.weight_kg == 70.0


def test_the_answer_is_in_the_requested_language(
    api: ApiClient, network: Network, make_patient: Callable[..., Any], chinese: None
) -> None:
    patient = make_patient()
    url = f"/patients/{patient.pk}"
    body = {"reason": "  ", "weight_kg": 71.0}  # blank: the service refuses it, in words
    english = api.patch(url, network.coordinator, body)
    chinese_answer = api.patch(url, network.coordinator, body, language="zh-hans")
    assert english["Content-Language"] == "en"
    assert chinese_answer["Content-Language"] == "zh-hans"
    assert fields_of(english) == fields_of(chinese_answer) == ["reason"]  # codes do not change
    english_message = english.json()["detail"][0]["msg"]
    chinese_message = chinese_answer.json()["detail"][0]["msg"]
    assert english_message == "Give the reason for this change."
    assert chinese_message != english_message
    assert any("\u4e00" <= character <= "\u9fff" for character in chinese_message)
    missing = api.get("/patients/999999", network.coordinator, language="zh-hans").json()
    assert missing["detail"] != "Not found."
