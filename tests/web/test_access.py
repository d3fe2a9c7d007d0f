"""Center scoping: own center, other center, no access; analysts pseudonymised; network admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from carta.web.accounts import access
from carta.web.registry import selectors, services
from carta.web.registry.models import DailyAssessment, Infusion, Patient, PatientIdentity
from tests.web.conftest import PERSONAS, Network

IDENTITY = {"full_name": "Wang Fang", "medical_record_number": "MRN-1"}


@pytest.fixture
def patient(network: Network, make_patient: Callable[..., Any]) -> Patient:
    return make_patient(identity=IDENTITY)


# --- reading a patient: three personas -----------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator", "physician", "center_admin", "analyst"])
def test_own_center_sees_the_patient(network: Network, patient: Patient, persona: str) -> None:
    user = getattr(network, persona)
    assert selectors.get_patient(user, patient.pk) == patient
    assert list(selectors.list_patients(user)) == [patient]


@pytest.mark.parametrize("persona", ["other_coordinator", "nobody"])
def test_other_center_and_no_access_get_not_found(
    network: Network, patient: Patient, persona: str
) -> None:
    user = getattr(network, persona)
    with pytest.raises(Patient.DoesNotExist):
        selectors.get_patient(user, patient.pk)
    assert list(selectors.list_patients(user)) == []


def test_not_visible_is_the_same_error_as_missing(network: Network, patient: Patient) -> None:
    with pytest.raises(Patient.DoesNotExist) as hidden:
        selectors.get_patient(network.other_coordinator, patient.pk)
    with pytest.raises(Patient.DoesNotExist) as missing:
        selectors.get_patient(network.other_coordinator, 999_999)
    assert str(hidden.value) == str(missing.value)


def test_anonymous_and_inactive_users_see_nothing(network: Network, patient: Patient) -> None:
    from django.contrib.auth.models import AnonymousUser

    network.coordinator.is_active = False
    for user in (AnonymousUser(), network.coordinator, None):
        assert list(selectors.list_patients(user)) == []
        assert not access.can(user, network.beijing, "view")


def test_network_admin_sees_every_center(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    beijing = make_patient()
    shanghai = make_patient(actor=network.other_coordinator, center=network.shanghai)
    assert set(selectors.list_patients(network.network_admin)) == {beijing, shanghai}
    assert set(access.centers(network.network_admin, "change")) == {
        network.beijing,
        network.shanghai,
    }


def test_superuser_counts_as_network_admin(network: Network, patient: Patient) -> None:
    root = get_user_model().objects.create_superuser("root", password="Root-Password-1")
    assert selectors.get_patient(root, patient.pk) == patient
    assert selectors.get_patient_identity(root, patient) is None


def test_restrict_follows_the_patient_to_child_records(
    network: Network, infused_patient: Patient
) -> None:
    assert selectors.records(network.coordinator, Infusion).count() == 1
    assert selectors.records(network.other_coordinator, Infusion).count() == 0
    assert selectors.records(network.nobody, Infusion).count() == 0


def test_restrict_adds_no_query(
    network: Network, patient: Patient, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        list(selectors.list_patients(network.network_admin))
    with django_assert_num_queries(1):
        list(selectors.list_patients(network.analyst))


# --- identifying fields ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator", "physician", "center_admin"])
def test_own_center_clinical_roles_see_identity(
    network: Network, patient: Patient, persona: str
) -> None:
    identity = selectors.get_patient_identity(getattr(network, persona), patient)
    assert identity is not None
    assert identity.full_name == "Wang Fang"
    assert selectors.can_identify(getattr(network, persona), patient)


@pytest.mark.parametrize("persona", ["analyst", "network_admin", "other_coordinator", "nobody"])
def test_identity_hidden_from_everyone_else(
    network: Network, patient: Patient, persona: str
) -> None:
    user = getattr(network, persona)
    assert selectors.get_patient_identity(user, patient) is None
    assert not selectors.can_identify(user, patient)
    assert selectors.records(user, PatientIdentity, "view").filter(patient=patient).exists() in (
        persona in {"analyst", "network_admin"},
        False,
    )


def test_patient_rows_hold_no_identifying_field() -> None:
    names = {field.name for field in Patient._meta.get_fields()}
    for identifying in ("full_name", "national_id", "medical_record_number", "phone"):
        assert identifying not in names
    assert "date_of_birth" not in names


def test_identity_audit_events_are_hidden_from_analysts(network: Network, patient: Patient) -> None:
    identity = PatientIdentity.objects.get(patient=patient)
    assert selectors.audit_history(network.coordinator, identity).count() == 1
    assert selectors.audit_history(network.analyst, identity).count() == 0
    assert selectors.audit_history(network.analyst, patient).count() == 1


# --- writing: three personas ---------------------------------------------------------------


def test_own_center_can_write(network: Network, patient: Patient) -> None:
    updated = services.update_patient(
        actor=network.physician, patient=patient, reason="weighed", weight_kg=71.0
    )
    assert updated.weight_kg == 71.0


def test_other_center_write_is_not_found(network: Network, patient: Patient) -> None:
    with pytest.raises(Patient.DoesNotExist):
        services.update_patient(
            actor=network.other_coordinator, patient=patient, reason="x", weight_kg=71.0
        )
    with pytest.raises(Patient.DoesNotExist):
        services.record_diagnosis(actor=network.nobody, patient=patient, disease="lbcl")


def test_analyst_cannot_write(network: Network, patient: Patient) -> None:
    with pytest.raises(PermissionDenied):
        services.update_patient(actor=network.analyst, patient=patient, reason="x", weight_kg=71.0)
    with pytest.raises(PermissionDenied):
        services.create_patient(
            actor=network.analyst,
            center=network.beijing,
            registry_id="BJ-X",
            sex="male",
            year_of_birth=1980,
        )
    assert Patient.objects.get(pk=patient.pk).weight_kg == 70.0


def test_creating_at_another_center_is_refused(network: Network) -> None:
    with pytest.raises(PermissionDenied):
        services.create_patient(
            actor=network.coordinator,
            center=network.shanghai,
            registry_id="SH-1",
            sex="male",
            year_of_birth=1980,
        )
    assert not Patient.objects.exists()


def test_network_admin_can_write_anywhere_but_not_identity(
    network: Network, patient: Patient
) -> None:
    services.update_patient(
        actor=network.network_admin, patient=patient, reason="data quality", height_cm=166.0
    )
    with pytest.raises(PermissionDenied):
        services.set_patient_identity(
            actor=network.network_admin, patient=patient, reason="x", phone="123"
        )


def test_daily_assessments_of_another_center_are_not_found(
    network: Network, infused_patient: Patient
) -> None:
    services.record_daily_assessment(
        actor=network.coordinator, patient=infused_patient, day=1, temperature_c=37.0
    )
    row = DailyAssessment.objects.get()
    assert selectors.get_record(network.analyst, DailyAssessment, row.pk) == row
    with pytest.raises(DailyAssessment.DoesNotExist):
        selectors.get_record(network.other_coordinator, DailyAssessment, row.pk)
    with pytest.raises(DailyAssessment.DoesNotExist):
        selectors.get_record(network.analyst, DailyAssessment, row.pk, "change")


# --- grants read once answer as the scoped queries do ------------------------------------------


@pytest.mark.parametrize("persona", [*PERSONAS, "superuser", "inactive"])
def test_grants_agree_with_can_and_restrict(network: Network, persona: str) -> None:
    from carta.web.accounts.models import Center

    if persona == "superuser":
        user = get_user_model().objects.create_superuser("root", password="root-Password-1")
    elif persona == "inactive":
        user = network.coordinator
        user.is_active = False
        user.save()
    else:
        user = getattr(network, persona)
    grants = access.grants(user)
    for action in ("view", "change", "identify", "manage"):
        allowed = set(access.centers(user, action).values_list("pk", flat=True))
        listed = grants.centers(action)
        assert (set(Center.objects.values_list("pk", flat=True)) if listed is None else listed) == (
            allowed
        ), action
        for center in Center.objects.all():
            assert grants.may(center.pk, action) == access.can(user, center, action), (
                action,
                center.code,
            )


# --- grants kept for one request (ADR 0290) ----------------------------------------------------


def test_grants_are_read_once_per_request_scope(
    network: Network, django_assert_num_queries: Any
) -> None:
    with access.request_scope():
        with django_assert_num_queries(1):
            first = access.grants(network.coordinator)
            second = access.grants(network.coordinator)
        assert first is second
    with django_assert_num_queries(1):  # outside a request every call reads anew
        access.grants(network.coordinator)


def test_a_membership_change_during_the_request_is_seen(network: Network, patient: Patient) -> None:
    from carta.web.accounts.models import Membership
    from carta.web.accounts.roles import Role

    with access.request_scope():
        assert not access.grants(network.other_coordinator).may(network.beijing.pk, "change")
        Membership.objects.create(
            user=network.other_coordinator, center=network.beijing, role=Role.COORDINATOR
        )
        assert access.grants(network.other_coordinator).may(network.beijing.pk, "change")
        access.require_record(network.other_coordinator, patient, "change")
        Membership.objects.filter(
            user=network.other_coordinator, center=network.beijing
        ).get().delete()
        with pytest.raises(Patient.DoesNotExist):
            access.require_record(network.other_coordinator, patient, "change")


@pytest.mark.parametrize("persona", [*PERSONAS, "superuser"])
@pytest.mark.parametrize("action", ["view", "change", "identify", "manage"])
def test_require_record_answers_alike_in_and_out_of_a_request(
    network: Network, patient: Patient, persona: str, action: str
) -> None:
    if persona == "superuser":
        user = get_user_model().objects.create_superuser("root", password="root-Password-1")
    else:
        user = getattr(network, persona)

    def outcome() -> str:
        try:
            access.require_record(user, patient, action)  # type: ignore[arg-type]
        except PermissionDenied:
            return "forbidden"
        except Patient.DoesNotExist:
            return "not found"
        return "allowed"

    outside = outcome()
    with access.request_scope():
        assert outcome() == outside


def test_records_of_a_patient_follow_the_grants(network: Network, infused_patient: Patient) -> None:
    patient = infused_patient
    infusion = Infusion.objects.get(patient=patient)
    for persona in PERSONAS:
        user = getattr(network, persona)
        with access.request_scope():
            shown = list(selectors.infusions(user, patient))
        assert shown == list(selectors.records(user, Infusion).filter(patient=patient)), persona
    assert list(selectors.infusions(network.coordinator, patient)) == [infusion]
    assert list(selectors.infusions(network.other_coordinator, patient)) == []


def test_every_request_gets_its_own_grants(network: Network, patient: Patient) -> None:
    """A role taken away between two requests counts at the second one."""
    from django.test import Client

    from carta.web.accounts.models import Membership

    client = Client()
    client.force_login(network.coordinator)
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
    Membership.objects.filter(user=network.coordinator).delete()
    assert client.get(f"/patients/{patient.pk}/").status_code == 404
