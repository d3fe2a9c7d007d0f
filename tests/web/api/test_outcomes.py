"""/api/patients/{id}/responses and /follow-ups (CIBMTR schedule with due and overdue)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from carta.web.registry import services
from carta.web.registry.models import FollowUpVisit, Patient, ResponseAssessment
from tests.web.api.conftest import ApiClient, fields_of
from tests.web.conftest import Network

LUGANO_CR = {"assessed_on": "2025-02-07", "criteria": "lugano_2014", "category": "cmr"}


def test_a_response_is_recorded_and_read_back(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    infusion = beijing_patient.infusions.get().pk
    body = {**LUGANO_CR, "infusion": infusion, "day": 28, "mrd": "negative"}
    created = api.post(f"/patients/{beijing_patient.pk}/responses", network.physician, body)
    assert created.status_code == 201, created.content
    row = ResponseAssessment.objects.get(pk=created.json()["id"])
    assert (row.category, row.infusion_id, row.mrd) == ("cmr", infusion, "negative")
    listed = api.get(f"/patients/{beijing_patient.pk}/responses", network.analyst).json()
    one = api.get(f"/patients/{beijing_patient.pk}/responses/{row.pk}", network.analyst).json()
    assert listed == [one] == [created.json()]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"category": "vgpr"}, "category"),  # an IMWG category under Lugano
        ({"criteria": "recist"}, "criteria"),
        ({"assessed_on": None}, "assessed_on"),
        ({"mrd": "maybe"}, "mrd"),
        ({"infusion": 31337}, "infusion"),
    ],
)
def test_a_bad_response_names_the_field_and_saves_nothing(
    api: ApiClient,
    network: Network,
    beijing_patient: Patient,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**LUGANO_CR, **change}
    response = api.post(f"/patients/{beijing_patient.pk}/responses", network.physician, body)
    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert not ResponseAssessment.objects.exists()


@pytest.fixture
def infused_30_days_ago(network: Network, make_patient: Callable[..., Any]) -> Patient:
    patient = make_patient()
    services.record_infusion(
        actor=network.coordinator,
        patient=patient,
        product=network.product,
        infused_on=timezone.localdate() - timedelta(days=30),
    )
    return patient


def _visits(api: ApiClient, user: Any, patient: Patient) -> dict[str, dict[str, Any]]:
    schedule = api.get(f"/patients/{patient.pk}/follow-ups", user).json()
    assert len(schedule) == 1
    return {visit["visit"]: visit for visit in schedule[0]["visits"]}


def test_follow_up_shows_the_visit_due_today(
    api: ApiClient, network: Network, infused_30_days_ago: Patient
) -> None:
    schedule = api.get(f"/patients/{infused_30_days_ago.pk}/follow-ups", network.analyst).json()
    (infusion,) = schedule
    assert (infusion["due"], infusion["overdue"]) == (1, 0)
    visits = {visit["visit"]: visit for visit in infusion["visits"]}
    assert len(visits) == 18  # day 28, day 100, 6 months, years 1..15
    assert visits["day_28"]["status"] == "due"  # day 30 is inside day 21-35
    assert visits["day_100"]["status"] == "upcoming"
    assert visits["day_28"]["label"] == "Day 28"
    assert infusion["is_synthetic"] is False


def test_a_recorded_visit_is_done_and_an_old_one_overdue(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    infused = timezone.localdate() - timedelta(days=120)
    services.record_infusion(
        actor=network.coordinator, patient=patient, product=network.product, infused_on=infused
    )
    body = {"visit": "day_28", "done_on": str(infused + timedelta(days=27))}
    recorded = api.post(f"/patients/{patient.pk}/follow-ups", network.coordinator, body)
    assert recorded.status_code == 201, recorded.content
    visits = _visits(api, network.coordinator, patient)
    assert visits["day_28"]["status"] == "done"
    assert visits["day_28"]["visit_id"] == recorded.json()["id"]
    assert visits["day_100"]["status"] == "overdue"  # day 85-115 has passed


def test_after_death_later_visits_are_not_applicable(
    api: ApiClient, network: Network, infused_30_days_ago: Patient
) -> None:
    services.record_death(
        actor=network.coordinator,
        patient=infused_30_days_ago,
        died_on=timezone.localdate() - timedelta(days=1),
        cause="infection",
    )
    visits = _visits(api, network.coordinator, infused_30_days_ago)
    assert visits["day_100"]["status"] == "not_applicable"
    assert visits["year_15"]["status"] == "not_applicable"


def test_a_death_dated_before_the_infusion_does_not_break_the_schedule(
    api: ApiClient, network: Network, infused_30_days_ago: Patient
) -> None:
    services.record_death(
        actor=network.coordinator,
        patient=infused_30_days_ago,
        died_on=date(2000, 1, 1),
        cause="unknown",
    )
    visits = _visits(api, network.coordinator, infused_30_days_ago)
    assert {visit["status"] for visit in visits.values()} == {"not_applicable"}


def test_a_visit_is_recorded_once(
    api: ApiClient, network: Network, infused_30_days_ago: Patient
) -> None:
    body = {"visit": "day_28", "done_on": str(timezone.localdate())}
    url = f"/patients/{infused_30_days_ago.pk}/follow-ups"
    assert api.post(url, network.coordinator, body).status_code == 201
    again = api.post(url, network.coordinator, body)
    assert again.status_code == 422
    assert fields_of(again) == ["visit"]
    assert FollowUpVisit.objects.count() == 1


def test_a_visit_needs_an_infusion(
    api: ApiClient, network: Network, make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    body = {"visit": "day_28", "done_on": "2025-01-01"}
    response = api.post(f"/patients/{patient.pk}/follow-ups", network.coordinator, body)
    assert response.status_code == 422
    assert fields_of(response) == ["infusion"]
    assert api.get(f"/patients/{patient.pk}/follow-ups", network.coordinator).json() == []
