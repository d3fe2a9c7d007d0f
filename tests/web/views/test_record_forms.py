"""Forms of the journey's records (infusion with its dose warning, treatment, response,
follow-up, death ...) and each record's read-only audit history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from carta.web.accounts.models import Center
from carta.web.audit.models import AuditEvent
from carta.web.registry import services
from carta.web.registry.models import (
    Death,
    FollowUpVisit,
    Infusion,
    ResponseAssessment,
    ToxicityTreatment,
)
from tests.web.conftest import Network


def _new(patient: Any, kind: str) -> str:
    return reverse("registry:record_create", args=[patient.pk, kind])


def _infusion_form(network: Network, **changes: Any) -> dict[str, Any]:
    return {
        "number": "1",
        "product": str(network.product.pk),
        "infused_on": "2025-01-10",
        "cell_dose_total": "1.5e8",
        **changes,
    }


def test_recording_an_infusion(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    response = client_for("coordinator").post(_new(patient, "infusion"), _infusion_form(network))
    assert response.status_code == 302
    infusion = Infusion.objects.get(patient=patient)
    assert infusion.cell_dose_total == 1.5e8
    assert AuditEvent.objects.filter(target_type="registry.infusion", action="create").exists()


def test_a_dose_outside_the_label_is_saved_with_a_warning(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    boston = Center.objects.create(code="US01", name="Boston Demo", country="US", city="Boston")
    patient = make_patient(actor=network.network_admin, center=boston)
    services.record_diagnosis(actor=network.network_admin, patient=patient, disease="lbcl")
    client = client_for("network_admin")
    response = client.post(
        _new(patient, "infusion"), _infusion_form(network, cell_dose_total="9e8"), follow=True
    )
    assert Infusion.objects.get(patient=patient).dose_within_label is False
    messages = [str(message) for message in response.context["messages"]]
    assert any("outside the labelled range" in message for message in messages)


def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    patient = make_patient()
    response = client_for("coordinator").post(
        _new(patient, "infusion"), _infusion_form(network, infused_on="", cell_dose_total="-4")
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"infused_on", "cell_dose_total"}
    assert not Infusion.objects.exists()


def test_a_service_error_lands_on_its_field(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    response = client_for("coordinator").post(
        _new(infused_patient, "infusion"), _infusion_form(network)
    )  # infusion number 1 exists
    assert response.status_code == 200
    assert "number" in response.context["form"].errors
    assert Infusion.objects.count() == 1


def test_a_response_of_other_criteria_is_refused_on_the_category(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    form = {"assessed_on": "2025-02-07", "criteria": "lugano_2014", "category": "vgpr"}
    response = client_for("coordinator").post(_new(infused_patient, "response"), form)
    assert "category" in response.context["form"].errors
    assert not ResponseAssessment.objects.exists()


@pytest.mark.parametrize(
    ("kind", "form", "model"),
    [
        (
            "treatment",
            {"day": "2", "agent": "tocilizumab", "dose": "8", "dose_unit": "mg_per_kg"},
            ToxicityTreatment,
        ),
        (
            "response",
            {"assessed_on": "2025-02-07", "criteria": "lugano_2014", "category": "cr"},
            ResponseAssessment,
        ),
        ("follow-up", {"visit": "day_28", "done_on": "2025-02-07"}, FollowUpVisit),
        ("death", {"died_on": "2025-06-01", "cause": "progression"}, Death),
    ],
)
def test_recording_the_other_records(
    client_for: Callable[[str], Client],
    infused_patient: Any,
    kind: str,
    form: dict[str, str],
    model: Any,
) -> None:
    infusion = infused_patient.infusions.get()
    data = {"infusion": str(infusion.pk), **form} if kind != "death" else form
    response = client_for("physician").post(_new(infused_patient, kind), data)
    assert response.status_code == 302, response.context["form"].errors
    assert model.objects.filter(patient=infused_patient).count() == 1


def test_an_infusion_of_another_patient_is_not_offered(
    network: Network,
    client_for: Callable[[str], Client],
    infused_patient: Any,
    make_patient: Callable[..., Any],
) -> None:
    other = make_patient()
    form = client_for("coordinator").get(_new(other, "treatment")).context["form"]
    assert list(form.fields["infusion"].queryset) == []
    stranger = infused_patient.infusions.get()
    response = client_for("coordinator").post(
        _new(other, "treatment"), {"infusion": stranger.pk, "day": "1", "agent": "tocilizumab"}
    )
    assert "infusion" in response.context["form"].errors
    assert not ToxicityTreatment.objects.exists()


def test_an_unknown_kind_is_not_found(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    assert client_for("coordinator").get(_new(infused_patient, "horoscope")).status_code == 404
    assert client_for("coordinator").get(_new(infused_patient, "patient")).status_code == 404


def test_analysts_may_not_record(client_for: Callable[[str], Client], infused_patient: Any) -> None:
    client = client_for("analyst")
    assert client.get(_new(infused_patient, "death")).status_code == 403
    assert (
        client.post(
            _new(infused_patient, "death"), {"died_on": "2025-06-01", "cause": "other"}
        ).status_code
        == 403
    )
    assert not Death.objects.exists()


def test_another_centers_staff_get_not_found(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    client = client_for("other_coordinator")
    assert client.get(_new(infused_patient, "death")).status_code == 404
    assert (
        client.post(
            _new(infused_patient, "death"), {"died_on": "2025-06-01", "cause": "other"}
        ).status_code
        == 404
    )


def test_correcting_a_record_needs_a_reason_and_is_audited(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    infusion = infused_patient.infusions.get()
    url = reverse("registry:record_edit", args=[infused_patient.pk, "infusion", infusion.pk])
    client = client_for("coordinator")
    form = client.get(url).context["form"]
    assert form.initial["cell_dose_total"] == 1.4e8
    changed = _infusion_form(network, cell_dose_total="1.9e8")
    assert "reason" in client.post(url, changed).context["form"].errors
    assert Infusion.objects.get().cell_dose_total == 1.4e8
    assert client.post(url, {**changed, "reason": "typo in the dose"}).status_code == 302
    event = AuditEvent.objects.get(target_type="registry.infusion", action="update")
    assert (event.before["cell_dose_total"], event.after["cell_dose_total"]) == (1.4e8, 1.9e8)
    assert event.reason == "typo in the dose"


def test_editing_a_record_of_another_patient_is_not_found(
    client_for: Callable[[str], Client], infused_patient: Any, make_patient: Callable[..., Any]
) -> None:
    other = make_patient()
    infusion = infused_patient.infusions.get()
    url = reverse("registry:record_edit", args=[other.pk, "infusion", infusion.pk])
    assert client_for("coordinator").get(url).status_code == 404


# --- audit history -------------------------------------------------------------------------------


def _history(patient: Any, kind: str, pk: int) -> str:
    return reverse("registry:record_history", args=[patient.pk, kind, pk])


def test_the_history_lists_every_change_with_who_and_why(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    services.update_patient(
        actor=network.physician, patient=infused_patient, reason="weighed again", weight_kg=72.0
    )
    response = client_for("analyst").get(_history(infused_patient, "patient", infused_patient.pk))
    assert response.status_code == 200
    events = [event for event, _action, _changes in response.context["events"]]
    assert [event.action for event in events] == ["create", "update"]
    page = response.content.decode()
    assert "weighed again" in page
    assert "by physician" in page
    (change,) = response.context["events"][1][2]
    assert (change.label, change.before, change.after) == ("weight (kg)", 70.0, 72.0)
    assert "cannot be edited" in page
    assert "<form" not in page.split("<main>")[1].split("</main>")[0]


def test_history_of_another_centers_record_is_not_found(
    client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    url = _history(infused_patient, "patient", infused_patient.pk)
    assert client_for("other_coordinator").get(url).status_code == 404


def test_history_of_a_daily_assessment(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    from tests.web.views.conftest import record_day

    row = record_day(network, infused_patient, 1, temperature_c=39.0)
    response = client_for("network_admin").get(_history(infused_patient, "assessment", row.pk))
    assert response.status_code == 200
    (event, action, changes) = response.context["events"][0]
    assert event.after["crs_grade"] == 1
    assert str(action) == "created"
    shown = {change.label: change.after for change in changes}
    assert shown["computed CRS grade"] == 1
    assert shown["vasopressors"] == "none"  # [] = none given
    assert shown["hypotension"] == "none"
    assert shown["fever due to another cause"] == "no"
    assert shown["CRS grading status"] == "graded"
