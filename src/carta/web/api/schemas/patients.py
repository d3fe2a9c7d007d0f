"""Patients: pseudonymous fields for everyone who may view them, identifying fields apart."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ninja import Schema
from pydantic import Field

from carta.web.accounts.models import Center
from carta.web.api.schemas.common import page_of
from carta.web.api.schemas.fields import FREE_TEXT_MAX, InputSchema, Text, model_schema
from carta.web.registry.models import Patient, PatientIdentity

PATIENT_FIELDS = (
    "registry_id",
    "sex",
    "year_of_birth",
    "age_at_infusion",
    "weight_kg",
    "height_cm",
    "is_synthetic",
)
IDENTITY_FIELDS = ("full_name", "national_id", "medical_record_number", "phone", "date_of_birth")
CENTER_CODE_MAX = Center._meta.get_field("code").max_length

# mypy sees the base classes; the running code builds them from the models' fields.
if TYPE_CHECKING:
    IdentityIn = InputSchema
    IdentityOut = Schema
    _PatientFieldsIn = InputSchema
    _PatientFieldsPatch = InputSchema
    _PatientFieldsOut = Schema
else:
    IdentityIn = model_schema("IdentityIn", PatientIdentity, IDENTITY_FIELDS, direction="input")
    IdentityOut = model_schema("IdentityOut", PatientIdentity, IDENTITY_FIELDS, direction="output")
    _PatientFieldsIn = model_schema("PatientFieldsIn", Patient, PATIENT_FIELDS, direction="input")
    _PatientFieldsPatch = model_schema(
        "PatientFieldsPatch", Patient, PATIENT_FIELDS, direction="patch"
    )
    _PatientFieldsOut = model_schema(
        "PatientFieldsOut", Patient, PATIENT_FIELDS, direction="output"
    )


class CenterOut(Schema):
    """The center a record belongs to."""

    code: str
    name: str
    name_zh: str
    country: str
    is_synthetic: bool


class PatientIn(_PatientFieldsIn):
    """A new patient. ``identity`` needs the right to see identifying fields (the center's
    coordinators, physicians and administrators)."""

    center: Text = Field(
        ..., max_length=CENTER_CODE_MAX, description="Code of the patient's center (`BJ01`)."
    )
    identity: IdentityIn | None = Field(None, description="Identifying fields, kept apart.")


class PatientPatch(_PatientFieldsPatch):
    """Changes to a patient: only the fields sent are changed, and a reason is required. The
    center cannot be changed."""

    reason: Text = Field(
        ..., min_length=1, max_length=FREE_TEXT_MAX, description="Why the record is changed."
    )
    identity: IdentityIn | None = Field(
        None, description="Identifying fields to record or replace (needs identify rights)."
    )


class PatientOut(_PatientFieldsOut):
    """A patient as every user who may view it sees it: pseudonymised."""

    id: int
    center: CenterOut
    bsa_m2: float | None = Field(
        ..., description="Body surface area (Mosteller) from weight and height, if both known."
    )
    created_at: datetime
    updated_at: datetime


class PatientDetailOut(PatientOut):
    """One patient; ``identity`` only for users of the patient's own center who may see it
    (never analysts or network administrators), else null."""

    identity: IdentityOut | None


class PatientFilters(Schema):
    """Filters and page of the patient list."""

    search: Text = Field(
        "", max_length=100, description="Part of the registry ID (case-insensitive)."
    )
    center: Text | None = Field(None, max_length=CENTER_CODE_MAX, description="A center code.")
    synthetic: bool | None = Field(None, description="Only synthetic (true) or real (false).")
    limit: int = Field(50, ge=1, le=200, description="Page size.")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="Rows to skip.")


PatientPage = page_of(PatientOut, "PatientPage")
