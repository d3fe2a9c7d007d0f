"""Registering and editing a patient through the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from carta.web.audit.models import AuditEvent
from carta.web.registry.models import Patient, PatientIdentity
from tests.web.conftest import Network

CREATE = reverse("registry:patient_create")


def _form(network: Network, **changes: Any) -> dict[str, Any]:
    return {
        "center": str(network.beijing.pk),
        "registry_id": "BJ-0100",
        "sex": "female",
        "year_of_birth": "1968",
        "weight_kg": "61.5",
        "height_cm": "160",
        **changes,
    }


def test_a_coordinator_registers_a_patient_with_identity_kept_apart(
    network: Network, client_for: Callable[[str], Client]
) -> None:
    form = _form(network, identity_full_name="Zhang Wei", identity_medical_record_number="MRN-7")
    response = client_for("coordinator").post(CREATE, form)
    patient = Patient.objects.get(registry_id="BJ-0100")
    assert response["Location"] == reverse("registry:patient_detail", args=[patient.pk])
    assert (patient.weight_kg, patient.is_synthetic) == (61.5, False)
    identity = PatientIdentity.objects.get(patient=patient)
    assert (identity.full_name, identity.medical_record_number) == ("Zhang Wei", "MRN-7")
    assert AuditEvent.objects.filter(
        target_type="registry.patient", actor=network.coordinator
    ).exists()


def test_only_the_users_centers_are_offered(
    network: Network, client_for: Callable[[str], Client]
) -> None:
    form = client_for("coordinator").get(CREATE).context["form"]
    assert list(form.fields["center"].queryset) == [network.beijing]
    response = client_for("coordinator").post(CREATE, _form(network, center=network.shanghai.pk))
    assert "center" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_a_duplicate_registry_id_is_an_error_on_that_field(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    make_patient(registry_id="BJ-0100")
    response = client_for("coordinator").post(CREATE, _form(network))
    assert response.status_code == 200
    assert "registry_id" in response.context["form"].errors
    assert Patient.objects.count() == 1


def test_year_of_birth_or_age_is_required(
    network: Network, client_for: Callable[[str], Client]
) -> None:
    response = client_for("coordinator").post(CREATE, _form(network, year_of_birth=""))
    assert "year_of_birth" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_network_admins_register_without_identifying_fields(
    network: Network, client_for: Callable[[str], Client]
) -> None:
    client = client_for("network_admin")
    form = client.get(CREATE).context["form"]
    assert form.show_identity is False
    assert not any(name.startswith("identity_") for name in form.fields)
    assert client.post(CREATE, _form(network, center=network.shanghai.pk)).status_code == 302


@pytest.mark.parametrize("persona", ["analyst", "nobody"])
def test_who_cannot_change_cannot_register(
    network: Network, client_for: Callable[[str], Client], persona: str
) -> None:
    client = client_for(persona)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, _form(network)).status_code == 403
    assert not Patient.objects.exists()


def test_editing_a_patient_needs_a_reason(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    url = reverse("registry:patient_edit", args=[patient.pk])
    client = client_for("coordinator")
    changed = {
        "registry_id": patient.registry_id,
        "sex": "female",
        "year_of_birth": "1970",
        "weight_kg": "80",
    }
    assert "reason" in client.post(url, changed).context["form"].errors
    assert client.post(url, {**changed, "reason": "weighed on admission"}).status_code == 302
    patient.refresh_from_db()
    assert patient.weight_kg == 80.0
    assert patient.height_cm is None


def test_editing_another_centers_patient_is_not_found_and_analysts_are_refused(
    client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    url = reverse("registry:patient_edit", args=[make_patient().pk])
    assert client_for("other_coordinator").get(url).status_code == 404
    assert client_for("analyst").get(url).status_code == 403
