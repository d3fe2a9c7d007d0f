"""The patient page: journey plot, computed grades day by day with their reasons, the
disagreement with the recorded grade, baseline scores, dose check, follow-up; per role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from carta.web.accounts.models import Center
from carta.web.registry import services
from tests.web.conftest import Network
from tests.web.views.conftest import record_day


def _url(patient: Any) -> str:
    return reverse("registry:patient_detail", args=[patient.pk])


@pytest.mark.parametrize("persona", ["coordinator", "physician", "center_admin"])
def test_own_center_staff_see_the_identity_and_the_actions(
    client_for: Callable[[str], Client], graded_patient: Any, persona: str
) -> None:
    response = client_for(persona).get(_url(graded_patient))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Wang Fang" in page
    assert reverse("registry:assessment_create", args=[graded_patient.pk]) in page
    assert response.context["can_change"] is True


@pytest.mark.parametrize("persona", ["analyst", "network_admin"])
def test_analysts_and_network_admins_get_a_pseudonymised_page(
    client_for: Callable[[str], Client], graded_patient: Any, persona: str
) -> None:
    response = client_for(persona).get(_url(graded_patient))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Wang Fang" not in page
    assert "Pseudonymised view" in page
    assert response.context["identity"] is None


def test_analysts_get_no_write_actions(
    client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    page = client_for("analyst").get(_url(graded_patient)).content.decode()
    assert reverse("registry:assessment_create", args=[graded_patient.pk]) not in page
    assert "/edit/" not in page
    assert reverse("registry:record_create", args=[graded_patient.pk, "infusion"]) not in page


@pytest.mark.parametrize("persona", ["other_coordinator", "nobody"])
def test_another_centers_patient_is_not_found(
    client_for: Callable[[str], Client], graded_patient: Any, persona: str
) -> None:
    assert client_for(persona).get(_url(graded_patient)).status_code == 404


def test_a_missing_patient_is_not_found(client_for: Callable[[str], Client], db: None) -> None:
    assert client_for("network_admin").get("/patients/999999/").status_code == 404


def test_each_day_shows_the_computed_grade_its_reasons_and_the_recorded_grade(
    client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    response = client_for("coordinator").get(_url(graded_patient))
    rows = {row.assessment.day: row for row in response.context["day_rows"]}
    assert sorted(rows) == [-6, 0, 1, 2]
    assert (rows[2].crs.grade, rows[2].crs.recorded, rows[2].crs.agreement) == (3, 2, "disagree")
    assert (rows[1].crs.grade, rows[1].crs.agreement) == (1, "agree")
    assert rows[2].when == date(2025, 1, 12)
    page = response.content.decode()
    assert "Hypotension requiring one vasopressor, with or without vasopressin (grade 3)." in page
    assert "Fever of 38.0 °C or more, not attributed to another cause." in page
    assert response.context["disagreements"] == 1
    assert 'class="disagree"' in page
    assert "differs from the computed grade" in page


def test_grades_show_their_number_in_text_not_only_colour(
    client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    page = client_for("coordinator").get(_url(graded_patient)).content.decode()
    assert '<span class="grade g3" title="Grade 3">Grade 3</span>' in page


def test_baseline_scores_use_the_labs_before_lymphodepletion(
    client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    response = client_for("coordinator").get(_url(graded_patient))
    baseline = response.context["baseline"]
    assert baseline.car_hematotox.score == 2  # ANC < 1200 and platelets 75-175 000
    assert baseline.car_hematotox.risk_group == "high"
    assert baseline.easix.value == pytest.approx(250.0 * 1.0 / 150.0)
    assert baseline.lab_days["anc_per_ul"] == -6
    assert "high risk" in response.content.decode()


def test_the_infusion_shows_its_dose_check(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    boston = Center.objects.create(code="US01", name="Boston Demo", country="US", city="Boston")
    actor = network.network_admin
    patient = make_patient(actor=actor, center=boston)
    services.record_diagnosis(actor=actor, patient=patient, disease="lbcl")
    services.record_infusion(
        actor=actor,
        patient=patient,
        product=network.product,
        infused_on=date(2025, 1, 10),
        cell_dose_total=9.0e8,  # axi-cel's US label: at most 2 x 10^8
    )
    page = client_for("network_admin").get(_url(patient)).content.decode()
    assert "outside the labelled range" in page
    assert "Cell dose above the labelled maximum." in page


def test_follow_up_visits_are_done_due_or_overdue(
    client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    response = client_for("coordinator").get(_url(graded_patient))
    (follow_up,) = response.context["follow_ups"]
    statuses = {state.visit.key: state.status for state in follow_up.states}
    assert statuses["day_28"] == "done"
    assert statuses["day_100"] == "overdue"  # its window closed in 2025
    assert list(statuses.values()).count("upcoming") <= 1


def test_the_journey_plot_has_a_cell_per_graded_day_and_the_events(
    client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    response = client_for("coordinator").get(_url(graded_patient))
    journey = response.context["journey"]
    cells = [shape for shape in journey.shapes if shape.css.startswith("cell")]
    assert len(cells) == 2 * 4  # CRS and ICANS for each of the 4 days
    assert any(shape.css == "cell g3" and shape.text == "3" for shape in cells)
    css = {shape.css for shape in journey.shapes}
    assert {"triangle", "lymphodepletion", "arrow"} <= css
    assert any(shape.text == "T" for shape in journey.shapes)  # tocilizumab
    assert any(shape.text == "CR" for shape in journey.shapes)
    page = response.content.decode()
    assert "<svg" in page
    assert "Day 2 (2025-01-12): CRS grade 3" in page


def test_a_patient_without_records_has_an_empty_journey(
    client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    response = client_for("coordinator").get(_url(make_patient()))
    assert response.status_code == 200
    assert response.context["journey"] is None
    assert response.context["baseline"] is None


def test_a_dead_patient_ends_with_a_cross(
    network: Network, client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    services.record_death(
        actor=network.coordinator, patient=graded_patient, died_on=date(2025, 3, 1), cause="crs"
    )
    journey = client_for("coordinator").get(_url(graded_patient)).context["journey"]
    assert "cross" in {shape.css for shape in journey.shapes}
    assert "arrow" not in {shape.css for shape in journey.shapes}


def test_the_page_in_chinese_translates_reasons_and_labels(
    chinese_catalogue: None, client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    client = client_for("coordinator")
    client.post(reverse("accounts:language"), {"language": "zh-hans", "next": "/"})
    page = client.get(_url(graded_patient)).content.decode()
    assert "低血压，需要一种血管升压药（可联用血管升压素）（3 级）。" in page
    assert "治疗历程" in page
    assert "Hypotension requiring one vasopressor" not in page


def test_the_page_costs_the_same_queries_for_4_or_20_days(
    network: Network,
    client_for: Callable[[str], Client],
    graded_patient: Any,
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    client = client_for("coordinator")
    with django_assert_max_num_queries(25) as few:
        client.get(_url(graded_patient))
    for day in range(3, 19):
        record_day(network, graded_patient, day)
    infusion = graded_patient.infusions.get()
    services.record_toxicity_treatment(
        actor=network.coordinator,
        patient=graded_patient,
        infusion=infusion,
        day=4,
        agent="anakinra",
    )
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(_url(graded_patient))


def test_consents_are_listed_with_their_withdrawal(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    services.record_consent(
        actor=network.coordinator,
        patient=patient,
        consent_type="research",
        signed_on=date(2024, 5, 1),
        withdrawn_on=date(2025, 1, 2),
    )
    page = client_for("analyst").get(_url(patient)).content.decode()
    assert "Research use: signed 2024-05-01" in page  # one message, so Chinese gets its colon
    assert "withdrawn 2025-01-02" in page
