"""``/api/patients/{id}/follow-ups``: the CIBMTR follow-up schedule of each infusion with the
status of every visit today (done, due, overdue, upcoming, not applicable), and recording a
visit done."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from carta.web.api.endpoints.common import actor, bad_input, patient_infusion, recorded_visit_out
from carta.web.api.endpoints.patients import PatientId, visible_patient
from carta.web.api.schemas.common import ERRORS
from carta.web.api.schemas.outcomes import FollowUpOut, RecordedVisitOut, VisitIn
from carta.web.registry import adapters, selectors, services
from carta.web.registry.models import Consent, Death, FollowUpVisit, Infusion, Patient
from carta.web.registry.models.outcome import VISIT_CHOICES
from carta.web.registry.models.patient import ConsentType

VISIT_LABELS = dict(VISIT_CHOICES)

router = Router(tags=["follow-ups"])


def _follow_up_ended(user: Any, patient: Patient) -> date | None:
    """When follow-up ended: death, or withdrawal of the registry consent (the earlier)."""
    ends = [
        *selectors.records(user, Death).filter(patient=patient).values_list("died_on", flat=True),
        *selectors.records(user, Consent)
        .filter(patient=patient, consent_type=ConsentType.REGISTRY, withdrawn_on__isnull=False)
        .values_list("withdrawn_on", flat=True),
    ]
    return min(ends, default=None)


def _schedule(
    infusion: Infusion,
    visits: list[FollowUpVisit],
    ended_on: date | None,
    today: date,
    patient: Patient,
) -> dict[str, Any]:
    done = {visit.visit: visit for visit in visits}
    # Follow-up that ended before this infusion leaves every visit of it not applicable.
    end = None if ended_on is None else max(ended_on, infusion.infused_on)
    states = adapters.follow_up(infusion.infused_on, today, done, end)
    rows = []
    for state in states:
        recorded = done.get(state.visit.key)
        rows.append(
            {
                "visit": state.visit.key,
                "label": str(VISIT_LABELS.get(state.visit.key, state.visit.label)),
                "target_date": state.visit.target_date,
                "window_start": state.visit.window_start,
                "window_end": state.visit.window_end,
                "status": state.status.value,
                "done_on": recorded.done_on if recorded else None,
                "visit_id": recorded.pk if recorded else None,
            }
        )
    return {
        "infusion_id": infusion.pk,
        "infusion_number": infusion.number,
        "infused_on": infusion.infused_on,
        "today": today,
        "ended_on": ended_on,
        "due": sum(row["status"] == "due" for row in rows),
        "overdue": sum(row["status"] == "overdue" for row in rows),
        "visits": rows,
        "is_synthetic": patient.is_synthetic,
    }


@router.get("/patients/{patient_id}/follow-ups", response={200: list[FollowUpOut], **ERRORS})
def list_follow_ups(request: HttpRequest, patient_id: PatientId) -> Any:
    """Every infusion's follow-up visits (day 28, day 100, 6 months, yearly to 15 years) with
    their status today, and how many are due and overdue."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    visits: dict[int, list[FollowUpVisit]] = {}
    for visit in selectors.records(user, FollowUpVisit).filter(patient=patient):
        visits.setdefault(visit.infusion_id, []).append(visit)
    ended_on = _follow_up_ended(user, patient)
    today = timezone.localdate()
    return [
        _schedule(infusion, visits.get(infusion.pk, []), ended_on, today, patient)
        for infusion in selectors.infusions(user, patient)
    ]


@router.post("/patients/{patient_id}/follow-ups", response={201: RecordedVisitOut, **ERRORS})
def record_follow_up_visit(request: HttpRequest, patient_id: PatientId, payload: VisitIn) -> Any:
    """Record a visit done (each visit once per infusion; default: the latest infusion)."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    infusion = patient_infusion(user, patient, payload.infusion)
    if infusion is None:
        infusion = selectors.infusions(user, patient).last()
        if infusion is None:
            raise bad_input("infusion", _("Record the infusion first."))
    row = services.record_follow_up_visit(
        actor=user, patient=patient, infusion=infusion, **payload.model_dump(exclude={"infusion"})
    )
    return Status(201, recorded_visit_out(row, patient))
