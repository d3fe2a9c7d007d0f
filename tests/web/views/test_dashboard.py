"""The center dashboard: patients by status, infusions per month, toxicity rates and overdue
follow-up visits, scoped to the user's centers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from carta.web.registry import services
from tests.web.conftest import Network
from tests.web.views.conftest import record_day

DASHBOARD = reverse("registry:dashboard")


@pytest.fixture
def cohort(network: Network, make_patient: Callable[..., Any]) -> list[Any]:
    """Beijing: one registered, two infused (CRS 3 and 0, one ICANS 1), one dead; Shanghai:
    one infused patient with CRS 2."""
    actor = network.coordinator
    registered = make_patient(registry_id="BJ-REG")
    patients = [registered]
    for registry_id, infused_on, temperature, vasopressors, ice in (
        ("BJ-SEV", date(2025, 1, 10), 39.5, ["norepinephrine"], 10),
        ("BJ-NIL", date(2025, 3, 2), 36.9, [], 8),
    ):
        patient = make_patient(registry_id=registry_id)
        services.record_infusion(
            actor=actor, patient=patient, product=network.product, infused_on=infused_on
        )
        record_day(
            network,
            patient,
            1,
            temperature_c=temperature,
            hypotension="present" if vasopressors else "none",
            vasopressors=vasopressors,
            ice_score=ice,
        )
        patients.append(patient)
    services.record_death(actor=actor, patient=patients[1], died_on=date(2025, 2, 1), cause="crs")
    other = make_patient(
        actor=network.other_coordinator, center=network.shanghai, registry_id="SH-1"
    )
    services.record_infusion(
        actor=network.other_coordinator,
        patient=other,
        product=network.product,
        infused_on=date(2025, 3, 20),
    )
    services.record_daily_assessment(
        actor=network.other_coordinator,
        patient=other,
        day=1,
        **{
            "temperature_c": 39.0,
            "fever_attributable_to_other_cause": False,
            "hypotension": "present",
            "vasopressors": [],
            "hypotension_attributable_to_other_cause": False,
            "oxygen_device": "none",
            "hypoxia_attributable_to_other_cause": False,
            "died_due_to_crs": False,
        },
    )
    return patients


def test_counts_by_status_for_the_users_centers(
    client_for: Callable[[str], Client], cohort: Any
) -> None:
    response = client_for("coordinator").get(DASHBOARD)
    counts = [count for _label, count in response.context["status_counts"]]
    assert counts == [1, 1, 1]  # registered, infused and alive, died
    assert response.context["patient_total"] == 3


def test_toxicity_rates_over_assessed_infused_patients(
    client_for: Callable[[str], Client], cohort: Any
) -> None:
    overall = client_for("coordinator").get(DASHBOARD).context["toxicity"][0]
    assert overall.assessed == 2
    assert (overall.crs_any.count, overall.crs_severe.count) == (1, 1)
    assert (overall.icans_any.count, overall.icans_severe.count) == (1, 0)
    assert overall.crs_any.percent == pytest.approx(50.0)


def test_network_admins_see_every_center_or_one(
    network: Network, client_for: Callable[[str], Client], cohort: Any
) -> None:
    client = client_for("network_admin")
    assert client.get(DASHBOARD).context["patient_total"] == 4
    shanghai = client.get(DASHBOARD, {"center": network.shanghai.pk})
    assert shanghai.context["patient_total"] == 1
    assert shanghai.context["toxicity"][0].crs_any.count == 1


def test_another_centers_id_shows_only_the_users_centers(
    network: Network, client_for: Callable[[str], Client], cohort: Any
) -> None:
    response = client_for("coordinator").get(DASHBOARD, {"center": network.shanghai.pk})
    assert response.context["center"] is None
    assert response.context["patient_total"] == 3


def test_infusions_per_month_include_empty_months(
    client_for: Callable[[str], Client], cohort: Any
) -> None:
    response = client_for("coordinator").get(DASHBOARD)
    bars = response.context["bars"].bars
    assert len(bars) == 24
    assert [(bar.label, bar.count) for bar in bars[-3:]] == [
        ("2025-01", 1),
        ("2025-02", 0),
        ("2025-03", 1),
    ]
    assert response.context["monthly_total"] == 2


def test_overdue_visits_of_living_patients(
    network: Network, client_for: Callable[[str], Client], cohort: Any
) -> None:
    response = client_for("coordinator").get(DASHBOARD)
    overdue = response.context["overdue"]
    assert {item.patient.registry_id for item in overdue} == {"BJ-NIL"}  # BJ-SEV died
    assert overdue[0].days_overdue >= overdue[-1].days_overdue
    assert "day_28" in {item.label for item in overdue}
    assert response.context["overdue_count"] == len(overdue)


@pytest.mark.parametrize("persona", ["analyst", "nobody"])
def test_read_only_and_no_access_users(
    client_for: Callable[[str], Client], cohort: Any, persona: str
) -> None:
    response = client_for(persona).get(DASHBOARD)
    assert response.status_code == 200
    expected = 3 if persona == "analyst" else 0
    assert response.context["patient_total"] == expected


def test_the_dashboard_in_chinese(
    chinese_catalogue: None, client_for: Callable[[str], Client], cohort: Any
) -> None:
    client = client_for("coordinator")
    client.post(reverse("accounts:language"), {"language": "zh-hans"})
    page = client.get(DASHBOARD).content.decode()
    assert "中心仪表板" in page
    assert "毒性发生率" in page
