"""Loading a carta.synth network into the registry (carta.web.loader)."""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl
import pytest
from django.contrib.auth import get_user_model

from carta.synth import SyntheticNetwork, generate_network
from carta.web import loader
from carta.web.accounts import access
from carta.web.accounts.models import Center, Membership
from carta.web.accounts.roles import Role
from carta.web.audit.models import AuditEvent
from carta.web.registry import services
from carta.web.registry.models import (
    Consent,
    DailyAssessment,
    Death,
    Diagnosis,
    FollowUpVisit,
    Infusion,
    Patient,
    ProductLot,
    ResponseAssessment,
    ToxicityTreatment,
)
from carta.web.registry.services import core

PATIENTS = 14
SEED = 7


@cache
def _network() -> SyntheticNetwork:
    return generate_network(PATIENTS, seed=SEED)


@pytest.fixture
def loaded(db: None) -> loader.LoadSummary:
    return loader.load_network(_network(), seed=SEED, chunk_patients=5)


def _superuser() -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.org", "x-Password-1")


def test_every_table_is_loaded_and_marked_synthetic(loaded: loader.LoadSummary) -> None:
    network = _network()
    assert Patient.objects.count() == PATIENTS
    assert not Patient.objects.filter(is_synthetic=False).exists()
    assert Center.objects.filter(is_synthetic=True).count() == network.centers.height
    assert set(Patient.objects.values_list("registry_id", flat=True)) == set(
        network.patients["registry_id"].to_list()
    )
    split = network.infusions.filter(pl.col("infusion_count") == 2).height
    assert Infusion.objects.count() == PATIENTS + split
    assert ProductLot.objects.count() == PATIENTS
    assert Diagnosis.objects.count() == Consent.objects.count() == PATIENTS
    assert DailyAssessment.objects.count() == network.patient_days.height
    assert ToxicityTreatment.objects.count() == network.treatments.height
    assert ResponseAssessment.objects.count() == network.responses.height
    assert FollowUpVisit.objects.count() == network.follow_ups.height
    assert Death.objects.count() == network.outcomes["died"].sum()
    assert loaded.counts["daily assessments"] == network.patient_days.height


def test_one_audit_event_per_patient_says_it_is_a_synthetic_load(
    loaded: loader.LoadSummary,
) -> None:
    events = AuditEvent.objects.filter(target_type="registry.patient")
    assert events.count() == PATIENTS
    patient = Patient.objects.order_by("pk").first()
    assert patient is not None
    event = events.get(target_id=str(patient.pk))
    assert event.actor.username == loader.LOADER_USERNAME and not event.actor.is_active
    assert event.center_id == patient.center_id
    assert event.after["registry_id"] == patient.registry_id
    assert event.after["is_synthetic"] is True
    assert "synthetic load" in event.reason and f"seed {SEED}" in event.reason


def test_loaded_rows_pass_the_models_validation(loaded: loader.LoadSummary) -> None:
    for model in (Patient, Infusion, DailyAssessment, ToxicityTreatment, ResponseAssessment):
        for row in model.objects.order_by("?")[:40]:
            core.validate(row)  # raises ValidationError naming the field


def test_stored_grades_equal_the_services_scalar_grading(loaded: loader.LoadSummary) -> None:
    """Regrading through the service (scalar rules, day by day, waiver from the stored days
    and treatments) changes nothing: the batch-graded load stored the same results."""
    actor = _superuser()
    changed = sum(
        services.regrade_patient(actor=actor, patient=patient, reason="parity check")
        for patient in Patient.objects.all()
    )
    assert changed == 0
    graded = DailyAssessment.objects.exclude(crs_status="ok").count()
    assert graded < DailyAssessment.objects.count()  # mostly determinable days
    assert DailyAssessment.objects.filter(crs_grade__gte=1).exists()
    # One criteria version on every row (the regrade above compared it with the scalar rule's).
    assert DailyAssessment.objects.values("crs_criteria").distinct().count() == 1


def test_grades_match_the_generators_intent(loaded: loader.LoadSummary) -> None:
    intended = {
        (row["registry_id"], row["day"]): row["intended_crs_grade"]
        for row in _network()
        .patient_days.join(_network().patients.select("patient_id", "registry_id"), on="patient_id")
        .select("registry_id", "day", "intended_crs_grade")
        .rows(named=True)
    }
    rows = DailyAssessment.objects.filter(crs_status="ok").values_list(
        "patient__registry_id", "day", "crs_grade"
    )
    assert rows and all(intended[(rid, day)] == grade for rid, day, grade in rows)


def test_a_second_load_is_refused_and_writes_nothing(loaded: loader.LoadSummary) -> None:
    before = (Patient.objects.count(), AuditEvent.objects.count())
    with pytest.raises(loader.LoadError, match="already in this database"):
        loader.load_network(_network(), seed=SEED)
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before
    assert loader.has_synthetic_network()


def test_first_day_keeps_the_later_days_only(db: None) -> None:
    loader.load_network(_network(), first_day=1)
    days = DailyAssessment.objects.values_list("day", flat=True)
    assert min(days) == 1
    expected = _network().patient_days.filter(pl.col("day") >= 1).height
    assert DailyAssessment.objects.count() == expected


def test_demo_accounts_get_their_roles_and_centers(loaded: loader.LoadSummary) -> None:
    passwords = {account.username: f"pw-{account.username}" for account in loader.DEMO_ACCOUNTS}
    users = {user.username: user for user in loader.create_demo_accounts(passwords)}
    beijing = users["coordinator.beijing"]
    assert beijing.check_password("pw-coordinator.beijing")
    assert Membership.objects.get(user=beijing).center.code == "BJ"
    visible = access.restrict(Patient.objects.all(), beijing, "view")
    assert visible.count() == Patient.objects.filter(center__code="BJ").count()
    shanghai = users["coordinator.shanghai"]
    assert Membership.objects.get(user=shanghai).center.code == "SH"
    analyst = users["analyst"]
    assert (
        Membership.objects.filter(user=analyst, role=Role.ANALYST).count() == Center.objects.count()
    )
    assert not access.can(analyst, Center.objects.get(code="BJ"), "identify")
    admin = users["network.admin"]
    assert access.is_network_admin(admin)
    # Running again (a lost password file) resets passwords without duplicating memberships.
    memberships = Membership.objects.count()
    loader.create_demo_accounts({"analyst": "new-Password-5"}, [loader.DEMO_ACCOUNTS[5]])
    assert Membership.objects.count() == memberships
    analyst.refresh_from_db()
    assert analyst.check_password("new-Password-5")
