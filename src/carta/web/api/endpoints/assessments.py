"""``/api/patients/{id}/assessments``: daily assessments with their computed CRS and ICANS
grades, and a preview that grades without saving."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from carta.web.api.endpoints.common import (
    actor,
    assessment_out,
    patient_infusion,
    preview_out,
)
from carta.web.api.endpoints.patients import PatientId, visible_patient
from carta.web.api.schemas.assessments import (
    AssessmentIn,
    AssessmentOut,
    AssessmentPreviewIn,
    AssessmentPreviewOut,
)
from carta.web.api.schemas.common import ERRORS
from carta.web.api.schemas.fields import ID_MAX
from carta.web.registry import selectors, services

router = Router(tags=["daily assessments"])

AssessmentId = Annotated[int, Path(ge=1, le=ID_MAX, description="The assessment's ID.")]
InfusionFilter = Annotated[
    int | None, Query(ge=1, le=ID_MAX, description="Only the days after this infusion (ID).")
]


@router.get("/patients/{patient_id}/assessments", response={200: list[AssessmentOut], **ERRORS})
def list_assessments(
    request: HttpRequest, patient_id: PatientId, infusion: InfusionFilter = None
) -> Any:
    """The patient's daily assessments in infusion and day order, each with the CRS and ICANS
    grades computed when it was saved."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    rows = selectors.daily_assessments(user, patient)
    if infusion is not None:
        rows = rows.filter(infusion_id=infusion)
    return [assessment_out(row, patient) for row in rows]


@router.post("/patients/{patient_id}/assessments", response={201: AssessmentOut, **ERRORS})
def record_assessment(request: HttpRequest, patient_id: PatientId, payload: AssessmentIn) -> Any:
    """Record a day's observations; the CRS and ICANS grades are computed (ASTCT 2019) and
    stored with the criteria version. Re-recording a day replaces its observations and needs
    a ``reason``; later days are regraded when this day's CRS result changes."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    infusion = patient_infusion(user, patient, payload.infusion)
    observations = payload.model_dump(exclude={"infusion", "reason"})
    row = services.record_daily_assessment(
        actor=user, patient=patient, infusion=infusion, reason=payload.reason, **observations
    )
    return Status(
        201, assessment_out(selectors.daily_assessments(user, patient).get(pk=row.pk), patient)
    )


@router.post(
    "/patients/{patient_id}/assessments/preview",
    response={200: AssessmentPreviewOut, **ERRORS},
)
def preview_assessment(
    request: HttpRequest, patient_id: PatientId, payload: AssessmentPreviewIn
) -> Any:
    """Grade a day's observations as they would be saved (same fever-waiver history), without
    saving anything: what the live form shows."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    infusion = patient_infusion(user, patient, payload.infusion)
    observations = payload.model_dump(exclude={"infusion"})
    graded = services.preview_daily_assessment(
        actor=user, patient=patient, infusion=infusion, **observations
    )
    used = infusion or selectors.infusions(user, patient).last()  # the service's default
    assert used is not None  # the service refused a patient without an infusion
    return preview_out(graded, observations["day"], used.pk, observations)


# Declared after the preview: "/assessments/preview" must not be read as an assessment ID.
@router.get(
    "/patients/{patient_id}/assessments/{assessment_id}",
    response={200: AssessmentOut, **ERRORS},
)
def get_assessment(request: HttpRequest, patient_id: PatientId, assessment_id: AssessmentId) -> Any:
    """One daily assessment with its grades, reasons and missing inputs."""
    patient = visible_patient(request, patient_id)
    row = selectors.daily_assessments(actor(request), patient).get(pk=assessment_id)
    return assessment_out(row, patient)
