"""The admin is scoped like every other read and writes through the audited services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from carta.web.audit.models import AuditEvent
from carta.web.registry.models import Patient
from tests.web.conftest import Network


@pytest.fixture
def staff_client(network: Network) -> Client:
    network.coordinator.is_staff = True
    network.coordinator.save()
    client = Client()
    client.force_login(network.coordinator)
    return client


def test_changelist_shows_only_own_center(
    network: Network, make_patient: Callable[..., Any], staff_client: Client
) -> None:
    make_patient(registry_id="BJ-VISIBLE")
    make_patient(actor=network.other_coordinator, center=network.shanghai, registry_id="SH-HIDDEN")
    page = staff_client.get("/admin/registry/patient/")
    assert page.status_code == 200
    assert b"BJ-VISIBLE" in page.content
    assert b"SH-HIDDEN" not in page.content


def test_other_centers_record_is_not_found(
    network: Network, make_patient: Callable[..., Any], staff_client: Client
) -> None:
    hidden = make_patient(actor=network.other_coordinator, center=network.shanghai)
    page = staff_client.get(f"/admin/registry/patient/{hidden.pk}/change/", follow=True)
    assert b"doesn" in page.content  # "... with ID ... doesn't exist"
    assert hidden.registry_id.encode() not in page.content


def _form(patient: Patient, **changes: Any) -> dict[str, Any]:
    data = {
        "center": patient.center_id,
        "registry_id": patient.registry_id,
        "sex": patient.sex,
        "year_of_birth": patient.year_of_birth,
        "age_at_infusion": "",
        "weight_kg": patient.weight_kg,
        "height_cm": patient.height_cm,
    }
    return {**data, **changes}


def test_admin_change_needs_a_reason_and_is_audited(
    network: Network, make_patient: Callable[..., Any], staff_client: Client
) -> None:
    patient = make_patient()
    url = f"/admin/registry/patient/{patient.pk}/change/"
    refused = staff_client.post(url, _form(patient, weight_kg=75))
    assert refused.status_code == 200  # the form again, with the error
    assert Patient.objects.get().weight_kg == 70.0
    done = staff_client.post(url, _form(patient, weight_kg=75, change_reason="re-weighed"))
    assert done.status_code == 302
    event = AuditEvent.objects.get(action="update")
    assert (event.before, event.after, event.reason) == (
        {"weight_kg": 70.0},
        {"weight_kg": 75.0},
        "re-weighed",
    )
    assert event.actor == network.coordinator


def test_admin_add_goes_through_the_service(network: Network, staff_client: Client) -> None:
    form = {
        "center": network.beijing.pk,
        "registry_id": "BJ-ADMIN",
        "sex": "male",
        "year_of_birth": 1955,
    }
    assert staff_client.post("/admin/registry/patient/add/", form).status_code == 302
    patient = Patient.objects.get(registry_id="BJ-ADMIN")
    assert AuditEvent.objects.get(action="create").target_id == str(patient.pk)


def test_audit_events_are_read_only_in_the_admin(
    make_patient: Callable[..., Any], staff_client: Client
) -> None:
    make_patient()
    event = AuditEvent.objects.get()
    assert staff_client.get("/admin/audit/auditevent/").status_code == 200
    page = staff_client.get(f"/admin/audit/auditevent/{event.pk}/delete/")
    assert page.status_code in (302, 403)
    assert AuditEvent.objects.count() == 1
