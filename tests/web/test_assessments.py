"""The daily-assessment service stores the grades computed by carta.clinical, with the CRS
fever waiver derived from the patient's earlier days and treatments."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from carta.web.audit.models import AuditEvent
from carta.web.registry import services
from carta.web.registry.models import DailyAssessment, Patient
from tests.web.conftest import Network

AFEBRILE = {
    "temperature_c": 37.0,
    "fever_attributable_to_other_cause": False,
    "hypotension": "none",
    "vasopressors": [],
    "hypotension_attributable_to_other_cause": False,
    "oxygen_device": "none",
    "hypoxia_attributable_to_other_cause": False,
    "died_due_to_crs": False,
}
FEVER = {**AFEBRILE, "temperature_c": 39.0}
ON_NOREPINEPHRINE = {**AFEBRILE, "hypotension": "present", "vasopressors": ["norepinephrine"]}
ALERT = {
    "tool": "ICE",
    "ice_score": 10,
    "consciousness": "alert",
    "consciousness_attributable_to_other_cause": False,
    "seizure": "none",
    "motor": "none",
    "icp_edema": "none",
    "died_due_to_icans": False,
}


def _record(network: Network, patient: Patient, day: int, **observations: Any) -> DailyAssessment:
    return services.record_daily_assessment(
        actor=network.coordinator, patient=patient, day=day, **observations
    )


def _grade(patient: Patient, day: int) -> tuple[str, int | None]:
    row = DailyAssessment.objects.get(patient=patient, day=day)
    return row.crs_status, row.crs_grade


def _treat(network: Network, patient: Patient, day: int, agent: str = "tocilizumab") -> Any:
    return services.record_toxicity_treatment(
        actor=network.coordinator,
        patient=patient,
        infusion=patient.infusions.get(),
        day=day,
        agent=agent,
    )


def test_stores_the_computed_grades_with_reasons_and_criteria(
    network: Network, infused_patient: Patient
) -> None:
    row = _record(network, infused_patient, 1, **FEVER, **{**ALERT, "ice_score": 8})
    stored = DailyAssessment.objects.get(pk=row.pk)
    assert (stored.crs_status, stored.crs_grade) == ("ok", 1)
    assert stored.crs_reasons == ["crs.fever"]
    assert stored.crs_missing == []
    assert stored.crs_criteria == "ASTCT CRS 2019"
    assert (stored.icans_status, stored.icans_grade, stored.icans_ice_score) == ("ok", 1, 8)
    assert stored.icans_reasons == ["icans.ice.1"]
    assert stored.icans_criteria == "ASTCT ICANS 2019"
    assert stored.crs_previously_diagnosed is False
    event = AuditEvent.objects.get(target_type="registry.dailyassessment")
    assert event.action == "create"
    assert event.after["crs_grade"] == 1
    assert event.after["temperature_c"] == 39.0
    assert event.after["crs_criteria"] == "ASTCT CRS 2019"


def test_unknown_inputs_give_cannot_grade_with_the_missing_fields(
    network: Network, infused_patient: Patient
) -> None:
    row = _record(network, infused_patient, 1, temperature_c=39.0)
    assert (row.crs_status, row.crs_grade) == ("cannot_grade", None)
    assert "hypotension" in row.crs_missing
    assert "oxygen_device" in row.crs_missing
    assert row.icans_status == "cannot_grade"


def test_recorded_grade_is_kept_beside_the_computed_one(
    network: Network, infused_patient: Patient
) -> None:
    row = _record(network, infused_patient, 1, **FEVER, recorded_crs_grade=2)
    assert (row.crs_grade, row.recorded_crs_grade) == (1, 2)


@pytest.mark.parametrize(
    ("observations", "field"),
    [
        ({"ice_naming_objects_correct": 4}, "ice_naming_objects_correct"),
        ({"ice_score": 11}, "ice_score"),
        ({"hypotension": "none", "vasopressors": ["norepinephrine"]}, "vasopressors"),
        ({"vasopressors": ["dobutamine"]}, "vasopressors"),
        ({"temperature_c": 52.0}, "temperature_c"),
        ({"oxygen_device": "tent"}, "oxygen_device"),
        ({"capd_restless": "hourly"}, "capd_restless"),
        ({"recorded_crs_grade": 7}, "recorded_crs_grade"),
        ({"crp_mg_dl": -1.0}, "crp_mg_dl"),
        ({"crs_grade": 2}, "crs_grade"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    network: Network, infused_patient: Patient, observations: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        _record(network, infused_patient, 1, **observations)
    assert field in error.value.message_dict
    assert not DailyAssessment.objects.exists()
    assert not AuditEvent.objects.filter(target_type="registry.dailyassessment").exists()


def test_a_duplicate_day_refused_by_the_database_names_the_day(
    network: Network, infused_patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two saves of one new day at once: the second insert meets the unique constraint, which
    comes back as an error on ``day`` with nothing written (the transaction is rolled back)."""
    from carta.web.registry.services import assessments

    _record(network, infused_patient, 4, **FEVER)
    events = AuditEvent.objects.count()
    revision = Patient.objects.get(pk=infused_patient.pk).updated_at
    monkeypatch.setattr(assessments, "_existing", lambda infusion, day: None)
    with pytest.raises(ValidationError) as error:
        _record(network, infused_patient, 4, **AFEBRILE)
    assert list(error.value.message_dict) == ["day"]
    assert DailyAssessment.objects.get(day=4).temperature_c == 39.0
    assert AuditEvent.objects.count() == events
    assert Patient.objects.get(pk=infused_patient.pk).updated_at == revision


def test_ice_for_a_child_under_12_is_refused(network: Network, make_patient: Any) -> None:
    from datetime import date

    child = make_patient(year_of_birth=None, age_at_infusion=8)
    services.record_infusion(
        actor=network.coordinator,
        patient=child,
        product=network.product,
        infused_on=date(2025, 1, 10),
    )
    with pytest.raises(ValidationError) as error:
        _record(network, child, 1, **ALERT)
    assert list(error.value.message_dict) == ["tool"]
    row = _record(
        network,
        child,
        1,
        tool="CAPD",
        capd_score=0,
        **{key: ALERT[key] for key in ("consciousness", "seizure", "motor", "icp_edema")},
    )
    assert row.icans_capd_score == 0


def test_an_assessment_needs_an_infusion(network: Network, make_patient: Any) -> None:
    with pytest.raises(ValidationError) as error:
        _record(network, make_patient(), 1, **FEVER)
    assert list(error.value.message_dict) == ["infusion"]


def test_re_recording_a_day_is_an_edit_with_a_reason(
    network: Network, infused_patient: Patient
) -> None:
    _record(network, infused_patient, 1, **FEVER)
    with pytest.raises(ValidationError) as error:
        _record(network, infused_patient, 1, **AFEBRILE)
    assert list(error.value.message_dict) == ["reason"]
    services.record_daily_assessment(
        actor=network.physician,
        patient=infused_patient,
        day=1,
        reason="thermometer fault",
        **AFEBRILE,
    )
    event = AuditEvent.objects.get(target_type="registry.dailyassessment", action="update")
    assert event.actor == network.physician
    assert event.reason == "thermometer fault"
    assert event.before == {"temperature_c": 39.0, "crs_grade": 1, "crs_reasons": ["crs.fever"]}
    assert event.after == {"temperature_c": 37.0, "crs_grade": 0, "crs_reasons": ["crs.no_fever"]}
    assert DailyAssessment.objects.count() == 1


def test_update_record_merges_changes_and_regrades(
    network: Network, infused_patient: Patient
) -> None:
    row = _record(network, infused_patient, 1, **FEVER)
    updated = services.update_record(
        actor=network.coordinator, record=row, reason="on oxygen", oxygen_device="cpap"
    )
    assert (updated.crs_grade, updated.temperature_c) == (4, 39.0)


def test_preview_computes_without_saving(network: Network, infused_patient: Patient) -> None:
    graded = services.preview_daily_assessment(
        actor=network.coordinator, patient=infused_patient, day=1, **FEVER, ice_score=11
    )
    assert (graded.crs.status, graded.crs.grade) == ("ok", 1)
    assert graded.icans.status == "invalid_input"
    assert "ice_score" in graded.problems()
    assert not DailyAssessment.objects.exists()
    assert not AuditEvent.objects.filter(target_type="registry.dailyassessment").exists()


def test_preview_is_refused_to_analysts(network: Network, infused_patient: Patient) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.preview_daily_assessment(
            actor=network.analyst, patient=infused_patient, day=1, **FEVER
        )


# --- the fever waiver (reference a.2) -----------------------------------------------------------


def test_treatment_after_crs_waives_fever(network: Network, infused_patient: Patient) -> None:
    _record(network, infused_patient, 1, **FEVER)
    _treat(network, infused_patient, 1)
    row = _record(network, infused_patient, 2, **ON_NOREPINEPHRINE)
    assert (row.crs_previously_diagnosed, row.antipyretic_or_anticytokine_given) == (True, True)
    assert (row.crs_status, row.crs_grade) == ("ok", 3)
    assert row.crs_reasons == ["crs.fever_waiver", "crs.hypotension.one_vasopressor"]


def test_prophylactic_treatment_before_any_crs_does_not_waive(
    network: Network, infused_patient: Patient
) -> None:
    _record(network, infused_patient, 0, **AFEBRILE)
    _treat(network, infused_patient, 0)
    _record(network, infused_patient, 1, **FEVER)
    row = _record(network, infused_patient, 2, **ON_NOREPINEPHRINE)
    assert (row.crs_previously_diagnosed, row.antipyretic_or_anticytokine_given) == (True, False)
    assert (row.crs_status, row.crs_grade) == ("ok", 0)


def test_a_treatment_entered_later_regrades_the_following_days(
    network: Network, infused_patient: Patient
) -> None:
    _record(network, infused_patient, 1, **FEVER)
    _record(network, infused_patient, 2, **ON_NOREPINEPHRINE)
    assert _grade(infused_patient, 2) == ("ok", 0)
    _treat(network, infused_patient, 1)
    assert _grade(infused_patient, 2) == ("ok", 3)
    day_2 = DailyAssessment.objects.get(day=2)
    event = AuditEvent.objects.get(
        target_type="registry.dailyassessment", target_id=str(day_2.pk), action="update"
    )
    assert event.reason == "regraded: treatment on day 1 changed"
    assert (event.before["crs_grade"], event.after["crs_grade"]) == (0, 3)
    assert event.after["antipyretic_or_anticytokine_given"] is True


def test_deleting_the_treatment_regrades_back(network: Network, infused_patient: Patient) -> None:
    _record(network, infused_patient, 1, **FEVER)
    treatment = _treat(network, infused_patient, 1)
    _record(network, infused_patient, 2, **ON_NOREPINEPHRINE)
    services.delete_record(actor=network.coordinator, record=treatment, reason="wrong patient")
    assert _grade(infused_patient, 2) == ("ok", 0)


def test_changing_an_earlier_day_regrades_the_later_ones(
    network: Network, infused_patient: Patient
) -> None:
    _record(network, infused_patient, 1, **AFEBRILE)
    _treat(network, infused_patient, 1)
    _record(network, infused_patient, 2, **ON_NOREPINEPHRINE)
    assert _grade(infused_patient, 2) == ("ok", 0)
    services.record_daily_assessment(
        actor=network.coordinator, patient=infused_patient, day=1, reason="late entry", **FEVER
    )
    assert _grade(infused_patient, 2) == ("ok", 3)


def test_an_undetermined_earlier_day_leaves_the_waiver_unknown(
    network: Network, infused_patient: Patient
) -> None:
    _record(network, infused_patient, 1, temperature_c=39.0)  # cannot_grade
    _treat(network, infused_patient, 1)
    row = _record(network, infused_patient, 2, **ON_NOREPINEPHRINE)
    assert row.crs_previously_diagnosed is None
    assert (row.crs_status, row.crs_grade) == ("cannot_grade", None)


def test_a_certain_fever_on_an_undetermined_day_counts_as_crs(
    network: Network, infused_patient: Patient
) -> None:
    _record(
        network, infused_patient, 1, temperature_c=39.0, fever_attributable_to_other_cause=False
    )
    assert _grade(infused_patient, 1) == ("cannot_grade", None)
    _treat(network, infused_patient, 1)
    row = _record(network, infused_patient, 2, **ON_NOREPINEPHRINE)
    assert (row.crs_previously_diagnosed, row.crs_grade) == (True, 3)


def test_regrade_patient_needs_permission_and_a_reason(
    network: Network, infused_patient: Patient
) -> None:
    _record(network, infused_patient, 1, **FEVER)
    with pytest.raises(ValidationError):
        services.regrade_patient(actor=network.coordinator, patient=infused_patient, reason="")
    assert (
        services.regrade_patient(
            actor=network.coordinator, patient=infused_patient, reason="criteria update"
        )
        == 0
    )


def test_an_age_correction_regrades_the_days(network: Network, infused_patient: Patient) -> None:
    _record(network, infused_patient, 1, **FEVER, **ALERT)
    assert DailyAssessment.objects.get().icans_status == "ok"
    services.update_patient(
        actor=network.coordinator,
        patient=infused_patient,
        reason="age entered wrongly",
        year_of_birth=None,
        age_at_infusion=8,
    )
    row = DailyAssessment.objects.get()
    assert row.icans_status == "invalid_input"  # ICE below age 12 (b.5)
    assert row.icans_reasons == ["invalid:tool"]
    event = AuditEvent.objects.get(target_type="registry.dailyassessment", action="update")
    assert event.reason == "regraded: the patient's record changed"
