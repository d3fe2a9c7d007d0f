"""``/api/patients/{id}/responses``: disease response assessments (Lugano, IMWG, B-ALL,
iwCLL)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router, Status

from carta.web.api.endpoints.common import actor, patient_infusion, response_out
from carta.web.api.endpoints.patients import PatientId, visible_patient
from carta.web.api.schemas.common import ERRORS
from carta.web.api.schemas.fields import ID_MAX
from carta.web.api.schemas.outcomes import ResponseIn, ResponseOut
from carta.web.registry import selectors, services
from carta.web.registry.models import ResponseAssessment

router = Router(tags=["responses"])

ResponseId = Annotated[int, Path(ge=1, le=ID_MAX, description="The response assessment's ID.")]


def _responses(request: HttpRequest, patient_id: int) -> Any:
    patient = visible_patient(request, patient_id)
    rows = selectors.records(actor(request), ResponseAssessment).filter(patient=patient)
    return patient, rows.order_by("assessed_on", "pk")


@router.get("/patients/{patient_id}/responses", response={200: list[ResponseOut], **ERRORS})
def list_responses(request: HttpRequest, patient_id: PatientId) -> Any:
    """The patient's response assessments, oldest first."""
    patient, rows = _responses(request, patient_id)
    return [response_out(row, patient) for row in rows]


@router.get("/patients/{patient_id}/responses/{response_id}", response={200: ResponseOut, **ERRORS})
def get_response(request: HttpRequest, patient_id: PatientId, response_id: ResponseId) -> Any:
    """One response assessment."""
    patient, rows = _responses(request, patient_id)
    return response_out(rows.get(pk=response_id), patient)


@router.post("/patients/{patient_id}/responses", response={201: ResponseOut, **ERRORS})
def record_response(request: HttpRequest, patient_id: PatientId, payload: ResponseIn) -> Any:
    """Record a response assessment; a category of other criteria (a VGPR under Lugano) is a
    422 naming ``category``."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    infusion = patient_infusion(user, patient, payload.infusion)
    row = services.record_response(
        actor=user, patient=patient, infusion=infusion, **payload.model_dump(exclude={"infusion"})
    )
    return Status(201, response_out(row, patient))
