"""``/api/patients``: list with filters and pages, detail, create, update with a reason."""

from __future__ import annotations

from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from carta.web.accounts import access
from carta.web.accounts.models import Center
from carta.web.api.endpoints.common import (
    actor,
    bad_input,
    field_prefix,
    patient_detail_out,
    patient_out,
)
from carta.web.api.schemas.common import ERRORS
from carta.web.api.schemas.fields import ID_MAX
from carta.web.api.schemas.patients import (
    PatientDetailOut,
    PatientFilters,
    PatientIn,
    PatientPage,
    PatientPatch,
)
from carta.web.registry import selectors, services
from carta.web.registry.models import Patient

router = Router(tags=["patients"])

PatientId = Annotated[int, Path(ge=1, le=ID_MAX, description="The patient's ID.")]


def visible_patient(request: HttpRequest, patient_id: int) -> Patient:
    """The patient if the caller may view it; ``Patient.DoesNotExist`` (a 404) otherwise,
    whether it is missing or another center's."""
    return selectors.get_patient(actor(request), patient_id)


def _visible_center(user: Any, code: str) -> Center | None:
    return access.centers(user, "view").filter(code=code).first()


def _identity_fields(identity: Any) -> dict[str, Any]:
    """The identifying fields sent (none when ``identity`` is absent or empty)."""
    return {} if identity is None else identity.model_dump(exclude_unset=True)


@router.get("/patients", response={200: PatientPage, **ERRORS})
def list_patients(request: HttpRequest, filters: Query[PatientFilters]) -> Any:
    """The patients of the centers you may view, by registry ID text, center and synthetic
    flag, a page at a time (by center, then registry ID)."""
    user = actor(request)
    center = None
    if filters.center:
        center = _visible_center(user, filters.center)
        if center is None:  # another network's code reads like an empty center
            return {"count": 0, "limit": filters.limit, "offset": filters.offset, "items": []}
    rows = selectors.list_patients(
        user, search=filters.search, center=center, synthetic=filters.synthetic
    )
    page = rows[filters.offset : filters.offset + filters.limit]
    return {
        "count": rows.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [patient_out(patient) for patient in page],
    }


@router.get("/patients/{patient_id}", response={200: PatientDetailOut, **ERRORS})
def get_patient(request: HttpRequest, patient_id: PatientId) -> Any:
    """One patient; identifying fields only for the patient's own center (not analysts)."""
    patient = visible_patient(request, patient_id)
    identity = selectors.get_patient_identity(actor(request), patient)
    return patient_detail_out(patient, identity)


@router.post("/patients", response={201: PatientDetailOut, **ERRORS})
def create_patient(request: HttpRequest, payload: PatientIn) -> Any:
    """Register a patient at a center where you may record data (403 for analysts)."""
    user = actor(request)
    center = _visible_center(user, payload.center)
    if center is None:
        raise bad_input("center", _("No center with this code."))
    values = payload.model_dump(exclude={"center", "identity"})
    identity = _identity_fields(payload.identity)
    with transaction.atomic():  # patient and identity are saved together or not at all
        patient = services.create_patient(actor=user, center=center, **values)
        if identity:
            with field_prefix("identity"):
                services.set_patient_identity(actor=user, patient=patient, **identity)
    patient = visible_patient(request, patient.pk)
    return Status(201, patient_detail_out(patient, selectors.get_patient_identity(user, patient)))


@router.patch("/patients/{patient_id}", response={200: PatientDetailOut, **ERRORS})
def update_patient(request: HttpRequest, patient_id: PatientId, payload: PatientPatch) -> Any:
    """Change the fields sent (not the center), with a reason; the patient's daily
    assessments are regraded when the age changes. Patient and identity change together or
    not at all."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"reason", "identity"})
    identity = _identity_fields(payload.identity)
    with transaction.atomic():
        if changes or not identity:  # an empty change still checks the reason and the rights
            services.update_patient(actor=user, patient=patient, reason=payload.reason, **changes)
        if identity:
            with field_prefix("identity"):
                services.set_patient_identity(
                    actor=user, patient=patient, reason=payload.reason, **identity
                )
    patient = visible_patient(request, patient_id)
    return patient_detail_out(patient, selectors.get_patient_identity(user, patient))
