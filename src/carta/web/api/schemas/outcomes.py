"""Response assessments and follow-up visits (CIBMTR form 4100)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ninja import Schema
from pydantic import Field

from carta.web.api.schemas.fields import ID_MAX, InputSchema, model_schema
from carta.web.registry.models import FollowUpVisit, ResponseAssessment

RESPONSE_FIELDS = ("assessed_on", "day", "criteria", "category", "mrd")

# mypy sees the base classes; the running code builds them from the models' fields.
if TYPE_CHECKING:
    _ResponseFieldsIn = InputSchema
    _ResponseFieldsOut = Schema
    _VisitFieldsIn = InputSchema
else:
    _ResponseFieldsIn = model_schema(
        "ResponseFieldsIn", ResponseAssessment, RESPONSE_FIELDS, direction="input"
    )
    _ResponseFieldsOut = model_schema(
        "ResponseFieldsOut", ResponseAssessment, RESPONSE_FIELDS, direction="output"
    )
    _VisitFieldsIn = model_schema(
        "VisitFieldsIn", FollowUpVisit, ("visit", "done_on"), direction="input"
    )


class ResponseIn(_ResponseFieldsIn):
    """A response assessment; the category must belong to the criteria (no VGPR under
    Lugano)."""

    infusion: int | None = Field(
        None, ge=1, le=ID_MAX, description="ID of the infusion assessed, if known."
    )


class ResponseOut(_ResponseFieldsOut):
    """A recorded response assessment."""

    id: int
    patient_id: int
    infusion_id: int | None
    is_synthetic: bool = Field(..., description="The patient is a synthetic (demo/test) record.")


class VisitIn(_VisitFieldsIn):
    """A follow-up visit done."""

    infusion: int | None = Field(
        None, ge=1, le=ID_MAX, description="ID of the infusion; default: the patient's latest."
    )


class VisitOut(Schema):
    """One scheduled visit (CIBMTR schedule) and where it stands today."""

    visit: str = Field(..., description="`day_28`, `day_100`, `month_6`, `year_1` .. `year_15`.")
    label: str = Field(..., description="The visit's name in the request's language.")
    target_date: date
    window_start: date
    window_end: date
    status: str = Field(
        ..., description="`done`, `due`, `overdue`, `upcoming` or `not_applicable`."
    )
    done_on: date | None
    visit_id: int | None = Field(..., description="ID of the recorded visit, when done.")


class FollowUpOut(Schema):
    """The follow-up schedule of one infusion, as of ``today``."""

    infusion_id: int
    infusion_number: int
    infused_on: date
    today: date
    ended_on: date | None = Field(
        ..., description="Follow-up ended (death or withdrawn registry consent), if it has."
    )
    due: int = Field(..., description="Visits due now.")
    overdue: int = Field(..., description="Visits whose window has closed without a visit.")
    visits: list[VisitOut]
    is_synthetic: bool = Field(..., description="The patient is a synthetic (demo/test) record.")


class RecordedVisitOut(Schema):
    """A recorded follow-up visit."""

    id: int
    patient_id: int
    infusion_id: int
    visit: str
    done_on: date
    is_synthetic: bool
