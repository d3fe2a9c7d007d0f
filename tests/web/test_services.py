"""Registry services: one audit event per write with exact before/after, field-named errors,
all-or-nothing transactions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from carta.web.accounts.models import Center
from carta.web.audit import writer
from carta.web.audit.models import AuditEvent
from carta.web.registry import services
from carta.web.registry.models import (
    Diagnosis,
    Infusion,
    Patient,
    PatientIdentity,
    ResponseAssessment,
    ToxicityTreatment,
)
from tests.web.conftest import Network


def _only_event() -> AuditEvent:
    (event,) = AuditEvent.objects.all()
    return event


# --- create ---------------------------------------------------------------------------------


def test_create_patient_writes_one_event_with_every_field(network: Network) -> None:
    patient = services.create_patient(
        actor=network.coordinator,
        center=network.beijing,
        registry_id="BJ-0001",
        sex="female",
        year_of_birth=1970,
        weight_kg=70.5,
    )
    event = _only_event()
    assert event.actor == network.coordinator
    assert event.center == network.beijing
    assert event.action == "create"
    assert (event.target_type, event.target_id) == ("registry.patient", str(patient.pk))
    assert event.before == {}
    assert event.after == {
        "center": network.beijing.pk,
        "registry_id": "BJ-0001",
        "sex": "female",
        "year_of_birth": 1970,
        "age_at_infusion": None,
        "weight_kg": 70.5,
        "height_cm": None,
        "is_synthetic": False,
    }
    assert event.reason == ""


def test_create_patient_with_identity_writes_two_events(network: Network) -> None:
    patient = services.create_patient(
        actor=network.coordinator,
        center=network.beijing,
        registry_id="BJ-0001",
        sex="male",
        age_at_infusion=54,
        identity={"full_name": "Li Wei", "date_of_birth": date(1970, 5, 1)},
    )
    identity_event = AuditEvent.objects.get(target_type="registry.patientidentity")
    assert identity_event.after == {
        "patient": patient.pk,
        "full_name": "Li Wei",
        "national_id": "",
        "medical_record_number": "",
        "phone": "",
        "date_of_birth": "1970-05-01",
    }
    assert AuditEvent.objects.count() == 2


def test_bad_identity_saves_neither_patient_nor_identity(network: Network) -> None:
    with pytest.raises(ValidationError) as error:
        services.create_patient(
            actor=network.coordinator,
            center=network.beijing,
            registry_id="BJ-0001",
            sex="male",
            age_at_infusion=54,
            identity={"full_name": "x" * 300},
        )
    assert "full_name" in error.value.message_dict
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sex": "x"}, "sex"),
        ({"weight_kg": 7000.0}, "weight_kg"),
        ({"registry_id": "has space"}, "registry_id"),
        ({"year_of_birth": None, "age_at_infusion": None}, "year_of_birth"),
        ({"year_of_birth": 1850}, "year_of_birth"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    network: Network, values: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "actor": network.coordinator,
        "center": network.beijing,
        "registry_id": "BJ-0001",
        "sex": "female",
        "year_of_birth": 1970,
    }
    with pytest.raises(ValidationError) as error:
        services.create_patient(**{**arguments, **values})
    assert field in error.value.message_dict
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_duplicate_registry_id_is_refused_naming_the_field(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    make_patient(registry_id="BJ-1")
    with pytest.raises(ValidationError) as error:
        make_patient(registry_id="BJ-1")
    assert list(error.value.message_dict) == ["registry_id"]
    # the same registry ID at another center is another patient
    make_patient(actor=network.other_coordinator, center=network.shanghai, registry_id="BJ-1")


def test_unknown_field_is_named(network: Network, make_patient: Callable[..., Any]) -> None:
    patient = make_patient()
    with pytest.raises(ValidationError) as error:
        services.record_diagnosis(
            actor=network.coordinator, patient=patient, disease="lbcl", colour="blue"
        )
    assert list(error.value.message_dict) == ["colour"]
    assert not Diagnosis.objects.exists()


def test_computed_fields_cannot_be_set(network: Network, infused_patient: Patient) -> None:
    infusion = infused_patient.infusions.get()
    with pytest.raises(ValidationError) as error:
        services.update_record(
            actor=network.coordinator, record=infusion, reason="x", dose_within_label=True
        )
    assert list(error.value.message_dict) == ["dose_within_label"]


# --- update ---------------------------------------------------------------------------------


def test_update_audits_before_and_after_of_changed_fields_only(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    services.update_patient(
        actor=network.physician,
        patient=patient,
        reason="re-weighed on admission",
        weight_kg=72.0,
        height_cm=165.0,  # unchanged
        sex="female",  # unchanged
    )
    event = AuditEvent.objects.get(action="update")
    assert event.actor == network.physician
    assert event.center == network.beijing
    assert event.before == {"weight_kg": 70.0}
    assert event.after == {"weight_kg": 72.0}
    assert event.reason == "re-weighed on admission"
    assert Patient.objects.get().weight_kg == 72.0


def test_update_without_change_writes_nothing(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    services.update_patient(actor=network.coordinator, patient=patient, reason="x", sex="female")
    assert AuditEvent.objects.filter(action="update").count() == 0


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_edits_need_a_reason(
    network: Network, make_patient: Callable[..., Any], reason: str | None
) -> None:
    patient = make_patient()
    with pytest.raises(ValidationError) as error:
        services.update_patient(
            actor=network.coordinator, patient=patient, reason=reason, weight_kg=80.0
        )
    assert list(error.value.message_dict) == ["reason"]
    assert Patient.objects.get().weight_kg == 70.0


def test_update_does_not_touch_the_callers_object_on_error(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    with pytest.raises(ValidationError):
        services.update_patient(
            actor=network.coordinator, patient=patient, reason="x", weight_kg=-1.0
        )
    assert patient.weight_kg == 70.0
    assert Patient.objects.get().weight_kg == 70.0


def test_moving_a_patient_to_another_center_is_not_an_edit(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    with pytest.raises(ValidationError) as error:
        services.update_patient(
            actor=network.network_admin, patient=patient, reason="x", center=network.shanghai
        )
    assert list(error.value.message_dict) == ["center"]


def test_identity_update_needs_a_reason_and_is_audited(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient(identity={"phone": "111"})
    services.set_patient_identity(
        actor=network.coordinator, patient=patient, reason="new number", phone="222"
    )
    event = AuditEvent.objects.get(target_type="registry.patientidentity", action="update")
    assert (event.before, event.after) == ({"phone": "111"}, {"phone": "222"})
    assert PatientIdentity.objects.get().phone == "222"


# --- the transaction -----------------------------------------------------------------------


def test_a_failing_audit_write_saves_nothing(
    network: Network, make_patient: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = make_patient()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(writer, "record", broken)
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        services.update_patient(
            actor=network.coordinator, patient=patient, reason="x", weight_kg=99.0
        )
    with pytest.raises(RuntimeError):
        services.create_patient(
            actor=network.coordinator,
            center=network.beijing,
            registry_id="BJ-NEW",
            sex="male",
            year_of_birth=1960,
        )
    with pytest.raises(RuntimeError):
        services.record_diagnosis(actor=network.coordinator, patient=patient, disease="mm")
    assert Patient.objects.get().weight_kg == 70.0
    assert Patient.objects.count() == 1
    assert not Diagnosis.objects.exists()
    assert AuditEvent.objects.count() == 1  # the first patient's creation only


def test_a_failing_audit_write_rolls_back_a_daily_assessment(
    network: Network, infused_patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(writer, "record", broken)
    with pytest.raises(RuntimeError):
        services.record_daily_assessment(
            actor=network.coordinator, patient=infused_patient, day=1, temperature_c=39.0
        )
    assert not infused_patient.assessments.exists()


# --- delete ---------------------------------------------------------------------------------


def test_delete_audits_every_field_and_needs_a_reason(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    diagnosis = services.record_diagnosis(
        actor=network.coordinator, patient=patient, disease="mm", prior_lines=4
    )
    with pytest.raises(ValidationError):
        services.delete_record(actor=network.coordinator, record=diagnosis, reason="")
    services.delete_record(actor=network.coordinator, record=diagnosis, reason="entered twice")
    event = AuditEvent.objects.get(action="delete")
    assert event.target_id == str(diagnosis.pk)
    assert event.before["disease"] == "mm"
    assert event.before["prior_lines"] == 4
    assert event.after == {}
    assert not Diagnosis.objects.exists()


def test_a_patient_with_records_cannot_be_deleted(
    network: Network, infused_patient: Patient
) -> None:
    with pytest.raises(ValidationError):
        services.delete_record(actor=network.coordinator, record=infused_patient, reason="x")
    assert Patient.objects.exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


# --- record types ---------------------------------------------------------------------------


def test_linked_rows_must_belong_to_the_same_patient(
    network: Network, infused_patient: Patient, make_patient: Callable[..., Any]
) -> None:
    other = make_patient()
    with pytest.raises(ValidationError) as error:
        services.record_toxicity_treatment(
            actor=network.coordinator,
            patient=other,
            infusion=infused_patient.infusions.get(),
            day=2,
            agent="tocilizumab",
        )
    assert list(error.value.message_dict) == ["infusion"]
    assert not ToxicityTreatment.objects.exists()


def test_response_category_must_belong_to_its_criteria(
    network: Network, infused_patient: Patient
) -> None:
    with pytest.raises(ValidationError) as error:
        services.record_response(
            actor=network.coordinator,
            patient=infused_patient,
            assessed_on=date(2025, 2, 7),
            criteria="lugano_2014",
            category="vgpr",
        )
    assert list(error.value.message_dict) == ["category"]
    services.record_response(
        actor=network.coordinator,
        patient=infused_patient,
        assessed_on=date(2025, 2, 7),
        criteria="lugano_2014",
        category="cmr",
    )
    assert ResponseAssessment.objects.count() == 1


def test_one_death_per_patient(network: Network, infused_patient: Patient) -> None:
    services.record_death(
        actor=network.coordinator,
        patient=infused_patient,
        died_on=date(2025, 3, 1),
        cause="progression",
    )
    with pytest.raises(ValidationError) as error:
        services.record_death(
            actor=network.coordinator,
            patient=infused_patient,
            died_on=date(2025, 3, 2),
            cause="crs",
        )
    assert "patient" in error.value.message_dict


def test_follow_up_visit_once_per_infusion(network: Network, infused_patient: Patient) -> None:
    infusion = infused_patient.infusions.get()
    values = {"infusion": infusion, "visit": "day_28", "done_on": date(2025, 2, 7)}
    services.record_follow_up_visit(actor=network.coordinator, patient=infused_patient, **values)
    with pytest.raises(ValidationError) as error:
        services.record_follow_up_visit(
            actor=network.coordinator, patient=infused_patient, **values
        )
    assert list(error.value.message_dict) == ["visit"]


@pytest.fixture
def us_patient(network: Network, make_patient: Callable[..., Any]) -> Patient:
    center = Center.objects.create(code="US01", name="Boston Demo", country="US", city="Boston")
    from carta.web.accounts.models import Membership

    Membership.objects.create(user=network.coordinator, center=center, role="coordinator")
    patient = make_patient(center=center, weight_kg=80.0)
    services.record_diagnosis(actor=network.coordinator, patient=patient, disease="lbcl")
    return patient


@pytest.mark.parametrize(
    ("cells", "within", "reason"),
    [(1.6e8, True, "dose.within_label"), (3.0e8, False, "dose.above_label_max")],
)
def test_infusion_stores_the_labelled_dose_check_as_a_warning(
    network: Network, us_patient: Patient, cells: float, within: bool, reason: str
) -> None:
    infusion = services.record_infusion(
        actor=network.coordinator,
        patient=us_patient,
        product=network.product,
        infused_on=date(2025, 1, 10),
        cell_dose_total=cells,
    )
    stored = Infusion.objects.get(pk=infusion.pk)
    assert stored.dose_check_status == "ok"
    assert stored.dose_within_label is within
    assert reason in stored.dose_check_reasons
    assert stored.dose_check_criteria == "CAR-T product labels 2025-12"
    event = AuditEvent.objects.get(target_type="registry.infusion")
    assert event.after["dose_within_label"] is within


def test_dose_check_without_a_known_region_is_not_a_guess(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    center = Center.objects.create(code="BR01", name="Sao Paulo Demo", country="BR", city="SP")
    from carta.web.accounts.models import Membership

    Membership.objects.create(user=network.coordinator, center=center, role="coordinator")
    patient = make_patient(center=center)
    infusion = services.record_infusion(
        actor=network.coordinator,
        patient=patient,
        product=network.product,
        infused_on=date(2025, 1, 10),
        cell_dose_total=1.4e8,
    )
    assert infusion.dose_check_status == "cannot_compute"
    assert infusion.dose_within_label is None
    assert infusion.dose_check_reasons == ["dose.region_unknown"]


def test_editing_the_dose_reruns_the_check(network: Network, us_patient: Patient) -> None:
    infusion = services.record_infusion(
        actor=network.coordinator,
        patient=us_patient,
        product=network.product,
        infused_on=date(2025, 1, 10),
        cell_dose_total=1.6e8,
    )
    updated = services.update_record(
        actor=network.coordinator, record=infusion, reason="typo", cell_dose_total=3.0e8
    )
    assert updated.dose_within_label is False
    event = AuditEvent.objects.get(target_type="registry.infusion", action="update")
    assert set(event.before) == {"cell_dose_total", "dose_within_label", "dose_check_reasons"}
    assert (event.before["cell_dose_total"], event.after["cell_dose_total"]) == (1.6e8, 3.0e8)
    assert (event.before["dose_within_label"], event.after["dose_within_label"]) == (True, False)
    assert "dose.within_label" in event.before["dose_check_reasons"]
    assert "dose.above_label_max" in event.after["dose_check_reasons"]


def test_a_link_of_the_wrong_kind_is_named(
    network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    with pytest.raises(ValidationError) as error:
        services.record_infusion(
            actor=network.coordinator,
            patient=patient,
            product="axi-cel",
            infused_on=date(2025, 1, 10),
        )
    assert list(error.value.message_dict) == ["product"]
    assert not Infusion.objects.exists()
