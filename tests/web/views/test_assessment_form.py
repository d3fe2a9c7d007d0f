"""The daily assessment form: the live grade (htmx preview, nothing saved), saving the
computed grade with its criteria version, errors next to their fields, roles, CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from carta.web.audit.models import AuditEvent
from carta.web.registry.models import DailyAssessment
from tests.web.conftest import Network
from tests.web.views.conftest import record_day

FEVER_ON_NOREPINEPHRINE = {
    "day": "2",
    "temperature_c": "39.2",
    "fever_attributable_to_other_cause": "false",
    "hypotension": "present",
    "vasopressors": ["norepinephrine"],
    "hypotension_attributable_to_other_cause": "false",
    "oxygen_device": "nasal_cannula",
    "oxygen_flow_l_min": "3",
    "hypoxia_attributable_to_other_cause": "false",
    "died_due_to_crs": "false",
    "tool": "ICE",
    "developmental_delay": "false",
    "ice_score": "6",
    "consciousness": "awakens_to_voice",
    "consciousness_attributable_to_other_cause": "false",
    "seizure": "none",
    "motor": "none",
    "icp_edema": "none",
    "died_due_to_icans": "false",
    "recorded_crs_grade": "2",
}


def _form(patient: Any, **changes: Any) -> dict[str, Any]:
    return {"infusion": str(patient.infusions.get().pk), **FEVER_ON_NOREPINEPHRINE, **changes}


def _create_url(patient: Any) -> str:
    return reverse("registry:assessment_create", args=[patient.pk])


def _preview_url(patient: Any) -> str:
    return reverse("registry:assessment_preview", args=[patient.pk])


def test_the_form_page_posts_its_preview_with_htmx(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    page = client_for("coordinator").get(_create_url(infused_patient)).content.decode()
    assert f'hx-post="{_preview_url(infused_patient)}"' in page
    assert 'hx-target="#grade-preview"' in page
    assert "csrfmiddlewaretoken" in page
    assert "X-CSRFToken" in page  # the header htmx sends: the CSRF cookie is HttpOnly


def test_the_preview_shows_the_grades_and_reasons_and_saves_nothing(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("coordinator").post(_preview_url(infused_patient), _form(infused_patient))
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.crs.grade, result.icans.grade) == (3, 2)
    page = response.content.decode()
    assert "Grade 3" in page
    assert "Hypotension requiring one vasopressor, with or without vasopressin (grade 3)." in page
    assert "ICE score 3-6 (grade 2)." in page
    assert "ASTCT CRS 2019" in page
    assert not DailyAssessment.objects.exists()
    assert not AuditEvent.objects.filter(target_type="registry.dailyassessment").exists()


def test_the_preview_lists_what_is_needed_to_grade(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("coordinator").post(
        _preview_url(infused_patient),
        {"infusion": infused_patient.infusions.get().pk, "day": "1", "temperature_c": "39.0"},
    )
    assert response.context["result"].crs.status == "cannot_grade"
    page = response.content.decode()
    assert "not determined" in page
    assert "Needed to grade:" in page
    assert "hypotension" in page.split("Needed to grade:")[1]


def test_the_preview_names_a_field_that_is_not_a_number(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("coordinator").post(
        _preview_url(infused_patient), _form(infused_patient, temperature_c="hot")
    )
    assert response.context["result"] is None
    assert "Temperature (°C): Enter a number." in response.content.decode()


def test_the_preview_shows_the_rules_invalid_input(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    contradiction = _form(infused_patient, hypotension="none")  # vasopressors without hypotension
    response = client_for("coordinator").post(_preview_url(infused_patient), contradiction)
    result = response.context["result"]
    assert result.crs.status == "invalid_input"
    assert "Invalid value:" in response.content.decode()


def test_the_preview_in_chinese(
    chinese_catalogue: None, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    client = client_for("coordinator")
    client.post(reverse("accounts:language"), {"language": "zh-hans"})
    page = client.post(_preview_url(infused_patient), _form(infused_patient)).content.decode()
    assert "3 级" in page
    assert "ICE 评分 3–6（2 级）。" in page


def test_saving_stores_the_computed_grade_with_the_criteria_version(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("coordinator").post(_create_url(infused_patient), _form(infused_patient))
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:patient_detail", args=[infused_patient.pk])
    row = DailyAssessment.objects.get(patient=infused_patient, day=2)
    assert (row.crs_grade, row.icans_grade) == (3, 2)
    assert (row.crs_criteria, row.icans_criteria) == ("ASTCT CRS 2019", "ASTCT ICANS 2019")
    assert row.vasopressors == ["norepinephrine"]
    assert row.recorded_crs_grade == 2
    assert row.capd_score is None  # left unknown
    event = AuditEvent.objects.get(target_type="registry.dailyassessment")
    assert event.actor == network.coordinator
    assert event.after["crs_grade"] == 3


@pytest.mark.parametrize(
    ("ticked", "stored"),
    [
        ([], None),
        (["none"], []),
        (["norepinephrine", "vasopressin"], ["norepinephrine", "vasopressin"]),
    ],
)
def test_vasopressor_boxes_distinguish_unknown_from_none(
    client_for: Callable[[str], Client], infused_patient: Any, ticked: list[str], stored: Any
) -> None:
    hypotension = "present" if stored else ("none" if stored == [] else "")
    form = _form(infused_patient, vasopressors=ticked, hypotension=hypotension)
    client_for("coordinator").post(_create_url(infused_patient), form)
    assert DailyAssessment.objects.get(day=2).vasopressors == stored


def test_none_and_a_vasopressor_together_is_an_error_on_that_field(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    form = _form(infused_patient, vasopressors=["none", "norepinephrine"])
    response = client_for("coordinator").post(_create_url(infused_patient), form)
    assert response.status_code == 200
    assert response.context["form"].errors["vasopressors"]
    assert not DailyAssessment.objects.exists()


def test_an_out_of_range_value_is_shown_next_to_its_field_and_nothing_is_saved(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("coordinator").post(
        _create_url(infused_patient), _form(infused_patient, temperature_c="55")
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["temperature_c"]
    page = response.content.decode()
    assert re.search(r'id="id_temperature_c_errors"', page)
    assert not DailyAssessment.objects.exists()


def test_a_contradiction_the_rules_refuse_is_a_field_error_from_the_service(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("coordinator").post(
        _create_url(infused_patient), _form(infused_patient, hypotension="none")
    )
    assert response.status_code == 200
    assert "vasopressors" in response.context["form"].errors
    assert not DailyAssessment.objects.exists()


def test_re_recording_a_day_needs_a_reason_next_to_the_reason_field(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    record_day(network, infused_patient, 2)
    client = client_for("coordinator")
    response = client.post(_create_url(infused_patient), _form(infused_patient))
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert DailyAssessment.objects.get(day=2).crs_grade == 0
    response = client.post(
        _create_url(infused_patient), _form(infused_patient, reason="late entry from the ICU")
    )
    assert response.status_code == 302
    assert DailyAssessment.objects.get(day=2).crs_grade == 3
    assert AuditEvent.objects.filter(reason="late entry from the ICU").exists()


def test_a_day_stored_by_someone_else_meanwhile_is_a_day_error_not_a_500(
    network: Network,
    client_for: Callable[[str], Client],
    infused_patient: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service leaves the day's uniqueness to the database: when another user stores the
    day between the service's look-up and its insert, the refusal names the day field and
    nothing of this save is written."""
    from carta.web.registry.services import assessments

    record_day(network, infused_patient, 2)
    events = AuditEvent.objects.count()
    monkeypatch.setattr(assessments, "_existing", lambda infusion, day: None)  # the race
    response = client_for("coordinator").post(_create_url(infused_patient), _form(infused_patient))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["day"]
    assert 'id="id_day_errors"' in response.content.decode()
    assert DailyAssessment.objects.get(day=2).crs_grade == 0
    assert AuditEvent.objects.count() == events


def test_the_edit_page_starts_from_the_stored_day(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    row = record_day(network, infused_patient, 3, temperature_c=38.5)
    url = reverse("registry:assessment_edit", args=[infused_patient.pk, row.pk])
    form = client_for("coordinator").get(url).context["form"]
    assert form.initial["temperature_c"] == 38.5
    assert form.initial["vasopressors"] == ["none"]
    assert form.initial["day"] == 3


def test_analysts_may_not_enter_assessments(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    client = client_for("analyst")
    assert client.get(_create_url(infused_patient)).status_code == 403
    assert client.post(_preview_url(infused_patient), _form(infused_patient)).status_code == 403
    assert client.post(_create_url(infused_patient), _form(infused_patient)).status_code == 403
    assert not DailyAssessment.objects.exists()


@pytest.mark.parametrize("persona", ["other_coordinator", "nobody"])
def test_another_centers_patient_is_not_found(
    client_for: Callable[[str], Client], infused_patient: Any, persona: str
) -> None:
    client = client_for(persona)
    assert client.get(_create_url(infused_patient)).status_code == 404
    assert client.post(_preview_url(infused_patient), _form(infused_patient)).status_code == 404
    assert not DailyAssessment.objects.exists()


def test_network_admins_may_enter_assessments(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("network_admin").post(
        _create_url(infused_patient), _form(infused_patient)
    )
    assert response.status_code == 302


def test_the_preview_refuses_a_post_without_the_csrf_token(
    network: Network, infused_patient: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(network.coordinator)
    refused = client.post(_preview_url(infused_patient), _form(infused_patient))
    assert refused.status_code == 403
    page = client.get(_create_url(infused_patient)).content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert token is not None
    accepted = client.post(
        _preview_url(infused_patient), _form(infused_patient), HTTP_X_CSRFTOKEN=token.group(1)
    )
    assert accepted.status_code == 200


def test_the_preview_accepts_only_post(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    assert client_for("coordinator").get(_preview_url(infused_patient)).status_code == 405


def test_correcting_a_day_keeps_its_day_and_previews_it(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    row = record_day(network, infused_patient, 3)
    url = reverse("registry:assessment_edit", args=[infused_patient.pk, row.pk])
    client = client_for("coordinator")
    page = client.get(url).content.decode()
    preview = f"{_preview_url(infused_patient)}?assessment={row.pk}"
    assert f'hx-post="{preview}"' in page
    posted = {key: value for key, value in _form(infused_patient).items() if key != "day"}
    posted["infusion"] = "999"  # disabled fields: whatever is posted, the stored day counts
    shown = client.post(preview, posted)
    assert shown.context["result"].crs.grade == 3
    saved = client.post(url, {**posted, "day": "9", "reason": "vasopressor started"})
    assert saved.status_code == 302
    assert list(DailyAssessment.objects.values_list("day", "crs_grade")) == [(3, 3)]
