"""``/api/patients/{id}/infusions``: list, detail, record (with the labelled-dose check)."""

from __future__ import annotations

from typing import Annotated, Any

from django.db.models import Max
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Router, Status

from carta.web.api.endpoints.common import actor, bad_input, infusion_out
from carta.web.api.endpoints.patients import PatientId, visible_patient
from carta.web.api.schemas.common import ERRORS
from carta.web.api.schemas.fields import ID_MAX
from carta.web.api.schemas.infusions import INFUSION_FIELDS, InfusionIn, InfusionOut
from carta.web.registry import selectors, services
from carta.web.registry.models import Patient, ProductLot

router = Router(tags=["infusions"])

InfusionId = Annotated[int, Path(ge=1, le=ID_MAX, description="The infusion's ID.")]


@router.get("/patients/{patient_id}/infusions", response={200: list[InfusionOut], **ERRORS})
def list_infusions(request: HttpRequest, patient_id: PatientId) -> Any:
    """The patient's infusions, first first."""
    patient = visible_patient(request, patient_id)
    rows = selectors.infusions(actor(request), patient)
    return [infusion_out(row, patient) for row in rows]


@router.get("/patients/{patient_id}/infusions/{infusion_id}", response={200: InfusionOut, **ERRORS})
def get_infusion(request: HttpRequest, patient_id: PatientId, infusion_id: InfusionId) -> Any:
    """One infusion of the patient."""
    patient = visible_patient(request, patient_id)
    row = selectors.infusions(actor(request), patient).get(pk=infusion_id)
    return infusion_out(row, patient)


def _next_number(user: Any, patient: Patient) -> int:
    last = selectors.infusions(user, patient).aggregate(last=Max("number"))["last"]
    return 1 if last is None else last + 1


@router.post("/patients/{patient_id}/infusions", response={201: InfusionOut, **ERRORS})
def record_infusion(request: HttpRequest, patient_id: PatientId, payload: InfusionIn) -> Any:
    """Record an infusion. The cell dose is checked against the product's label for the
    patient's latest diagnosis and the center's region; an out-of-label dose is stored with a
    warning, not refused."""
    user = actor(request)
    patient = visible_patient(request, patient_id)
    product = selectors.products().filter(code=payload.product).first()
    if product is None:
        raise bad_input("product", _("No product with this code in the catalogue."))
    lot = None
    if payload.product_lot is not None:
        lot = (
            selectors.records(user, ProductLot)
            .filter(patient=patient, pk=payload.product_lot)
            .first()
        )
        if lot is None:
            raise bad_input("product_lot", _("No lot with this ID for this patient."))
    row = services.record_infusion(
        actor=user,
        patient=patient,
        product=product,
        product_lot=lot,
        number=payload.number if payload.number is not None else _next_number(user, patient),
        **payload.model_dump(include=set(INFUSION_FIELDS)),
    )
    return Status(201, infusion_out(selectors.infusions(user, patient).get(pk=row.pk), patient))
