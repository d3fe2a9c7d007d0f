"""Infusions, with the labelled-dose check the service stored (a warning, never a refusal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ninja import Schema
from pydantic import Field

from carta.clinical.products import PRODUCTS
from carta.web.api.schemas.common import ReasonOut
from carta.web.api.schemas.fields import ID_MAX, InputSchema, literal, model_schema
from carta.web.api.schemas.products import ProductOut
from carta.web.registry.models import Infusion

INFUSION_FIELDS = ("infused_on", "cell_dose_total", "cell_dose_per_kg")
# mypy sees the base classes; the running code builds them from the model's fields.
if TYPE_CHECKING:
    ProductCode = str
    _InfusionFieldsIn = InputSchema
    _InfusionFieldsOut = Schema
else:
    ProductCode = literal(product.code for product in PRODUCTS)
    _InfusionFieldsIn = model_schema(
        "InfusionFieldsIn", Infusion, INFUSION_FIELDS, direction="input"
    )
    _InfusionFieldsOut = model_schema(
        "InfusionFieldsOut", Infusion, (*INFUSION_FIELDS, "number"), direction="output"
    )


class InfusionIn(_InfusionFieldsIn):
    """A new infusion of a catalogue product."""

    product: ProductCode = Field(..., description="Catalogue code of the product (`axi-cel`).")
    product_lot: int | None = Field(
        None, ge=1, le=ID_MAX, description="ID of this patient's manufactured lot, if recorded."
    )
    number: int | None = Field(
        None,
        ge=1,
        le=32_767,
        description="1 for the first infusion; default: one more than the patient's last.",
    )


class DoseCheckOut(Schema):
    """The cell dose checked against the product's label for the patient's disease and the
    center's regulatory region."""

    status: str | None = Field(..., description="`ok`, `cannot_compute` ... (null: not checked)")
    within_label: bool | None
    reasons: list[ReasonOut]
    criteria: str


class InfusionOut(_InfusionFieldsOut):
    """An infusion (day 0 of the assessments that follow it)."""

    id: int
    patient_id: int
    product: ProductOut
    product_lot: int | None = Field(..., description="ID of the manufactured lot, if any.")
    dose_check: DoseCheckOut
    is_synthetic: bool = Field(..., description="The patient is a synthetic (demo/test) record.")
