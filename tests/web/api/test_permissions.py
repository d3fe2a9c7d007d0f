"""Every endpoint for every role: own center, other center (404), no token (401), analyst
(reads, never writes), network administrator (everything, no identifying fields)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from carta.web.registry import services
from carta.web.registry.models import Patient
from tests.web.api.conftest import ApiClient
from tests.web.conftest import Network

READERS = ["coordinator", "physician", "center_admin", "analyst", "network_admin"]
WRITERS = ["coordinator", "physician", "center_admin", "network_admin"]
OUTSIDERS = ["other_coordinator", "nobody"]


@pytest.fixture
def records(network: Network, beijing_patient: Patient) -> dict[str, Any]:
    """One record of each kind for the Beijing patient."""
    infusion = beijing_patient.infusions.get()
    assessment = services.record_daily_assessment(
        actor=network.coordinator, patient=beijing_patient, day=1, temperature_c=38.5
    )
    response = services.record_response(
        actor=network.coordinator,
        patient=beijing_patient,
        infusion=infusion,
        assessed_on=date(2025, 2, 7),
        criteria="lugano_2014",
        category="cmr",
    )
    return {
        "patient": beijing_patient.pk,
        "infusion": infusion.pk,
        "assessment": assessment.pk,
        "response": response.pk,
    }


def read_paths(ids: dict[str, Any]) -> list[str]:
    patient = f"/patients/{ids['patient']}"
    return [
        patient,
        f"{patient}/infusions",
        f"{patient}/infusions/{ids['infusion']}",
        f"{patient}/assessments",
        f"{patient}/assessments/{ids['assessment']}",
        f"{patient}/responses",
        f"{patient}/responses/{ids['response']}",
        f"{patient}/follow-ups",
    ]


def writes(ids: dict[str, Any], serial: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) of every write on the Beijing patient; ``serial`` keeps each
    persona's rows distinct."""
    patient = f"/patients/{ids['patient']}"
    return [
        ("PATCH", patient, {"reason": "weighed again", "weight_kg": 60.0 + serial}),
        ("POST", f"{patient}/infusions", {"product": "axi-cel", "infused_on": "2025-03-01"}),
        (
            "POST",
            f"{patient}/assessments",
            {"day": 10 + serial, "infusion": ids["infusion"], "temperature_c": 37.0},
        ),
        (
            "POST",
            f"{patient}/responses",
            {"assessed_on": "2025-04-01", "criteria": "lugano_2014", "category": "pr"},
        ),
        (
            "POST",
            f"{patient}/follow-ups",
            {"infusion": ids["infusion"], "visit": f"year_{2 + serial}", "done_on": "2027-01-10"},
        ),
    ]


@pytest.mark.parametrize("persona", READERS)
def test_readers_of_the_center_read_every_record(
    api: ApiClient, network: Network, records: dict[str, Any], persona: str
) -> None:
    user = getattr(network, persona)
    for path in read_paths(records):
        response = api.get(path, user)
        assert response.status_code == 200, (path, response.content)


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_another_center_reads_and_writes_as_not_found(
    api: ApiClient, network: Network, records: dict[str, Any], persona: str
) -> None:
    user = getattr(network, persona)
    missing = api.get("/patients/999999", user).json()
    for path in read_paths(records):
        response = api.get(path, user)
        assert response.status_code == 404, path
        assert response.json() == missing  # indistinguishable from a patient that does not exist
    for method, path, body in writes(records, 0):
        assert api.call(method, path, user, body).status_code == 404, (method, path)


def test_without_a_token_every_operation_is_unauthorized(
    api: ApiClient, records: dict[str, Any]
) -> None:
    paths = [*read_paths(records), "/patients", "/products", "/products/axi-cel"]
    for path in paths:
        response = api.get(path)
        assert response.status_code == 401, path
        assert response["WWW-Authenticate"].startswith("Bearer")
    for method, path, body in writes(records, 0):
        assert api.call(method, path, None, body).status_code == 401, (method, path)
    assert api.post("/patients", None, {}).status_code == 401


@pytest.mark.parametrize("serial, persona", list(enumerate(WRITERS)))
def test_writers_of_the_center_write_every_record(
    api: ApiClient, network: Network, records: dict[str, Any], serial: int, persona: str
) -> None:
    user = getattr(network, persona)
    for method, path, body in writes(records, serial):
        response = api.call(method, path, user, body)
        assert response.status_code in {200, 201}, (method, path, response.content)


def test_analyst_reads_but_never_writes(
    api: ApiClient, network: Network, records: dict[str, Any]
) -> None:
    from carta.web.audit.models import AuditEvent

    events = AuditEvent.objects.count()
    for method, path, body in writes(records, 0):
        response = api.call(method, path, network.analyst, body)
        assert response.status_code == 403, (method, path)
    preview = f"/patients/{records['patient']}/assessments/preview"
    assert api.post(preview, network.analyst, {"day": 3}).status_code == 403
    create = {"center": "BJ01", "registry_id": "BJ-9", "sex": "male", "year_of_birth": 1980}
    assert api.post("/patients", network.analyst, create).status_code == 403
    assert AuditEvent.objects.count() == events  # nothing was written


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("persona", ["analyst", "network_admin"])
def test_pseudonymised_roles_never_receive_identifying_fields(
    api: ApiClient, network: Network, records: dict[str, Any], persona: str
) -> None:
    user = getattr(network, persona)
    for path in [*read_paths(records), "/patients"]:
        body = api.get(path, user).json()
        assert "Wang Fang" not in _strings(body), path
        assert "MRN-7" not in _strings(body), path
    assert api.get(f"/patients/{records['patient']}", user).json()["identity"] is None


@pytest.mark.parametrize("persona", ["coordinator", "physician", "center_admin"])
def test_the_patients_own_center_sees_the_identity(
    api: ApiClient, network: Network, records: dict[str, Any], persona: str
) -> None:
    detail = api.get(f"/patients/{records['patient']}", getattr(network, persona)).json()
    assert detail["identity"]["full_name"] == "Wang Fang"
    assert detail["identity"]["medical_record_number"] == "MRN-7"


def test_network_admin_lists_every_center(
    api: ApiClient, network: Network, beijing_patient: Patient, shanghai_patient: Patient
) -> None:
    listed = api.get("/patients", network.network_admin).json()
    assert {row["registry_id"] for row in listed["items"]} == {"BJ-0001", "SH-0001"}
    own = api.get("/patients", network.coordinator).json()
    assert [row["registry_id"] for row in own["items"]] == ["BJ-0001"]
    assert api.get("/patients", network.nobody).json()["count"] == 0
