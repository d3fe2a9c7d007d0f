"""Daily assessments: the Appendix A observations in, the computed CRS and ICANS grades out."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ninja import Schema
from pydantic import Field

from carta.clinical.vocabulary import VASOPRESSORS
from carta.web.api.schemas.common import GradeOut, IcansGradeOut
from carta.web.api.schemas.fields import (
    FREE_TEXT_MAX,
    ID_MAX,
    InputSchema,
    Text,
    literal,
    model_schema,
)
from carta.web.registry.adapters import OBSERVATION_FIELDS
from carta.web.registry.models import DailyAssessment

# mypy sees the base classes; the running code builds them from the model's fields.
if TYPE_CHECKING:
    _ObservationsIn = InputSchema
    _ObservationsOut = Schema
else:
    OBSERVATION_TYPES = {"vasopressors": list[literal(VASOPRESSORS)]}
    _ObservationsIn = model_schema(
        "ObservationsIn",
        DailyAssessment,
        ("day", *OBSERVATION_FIELDS),
        direction="input",
        types=OBSERVATION_TYPES,
    )
    _ObservationsOut = model_schema(
        "ObservationsOut",
        DailyAssessment,
        ("day", *OBSERVATION_FIELDS),
        direction="output",
        types=OBSERVATION_TYPES,
    )


class AssessmentPreviewIn(_ObservationsIn):
    """One day's observations to grade. An absent observation is unknown (null), never
    normal."""

    infusion: int | None = Field(
        None, ge=1, le=ID_MAX, description="ID of the infusion; default: the patient's latest."
    )


class AssessmentIn(AssessmentPreviewIn):
    """One day's observations to record. Recording a day already recorded replaces its
    observations and needs a ``reason``."""

    reason: Text | None = Field(
        None, max_length=FREE_TEXT_MAX, description="Why, when re-recording a day."
    )


class FeverWaiverOut(Schema):
    """The CRS fever-waiver inputs derived from the infusion's earlier days and treatments
    (reference a.2); null = unknown."""

    crs_previously_diagnosed: bool | None
    antipyretic_or_anticytokine_given: bool | None


class AgreementOut(Schema):
    """How the grade a clinician recorded compares with the computed one:
    `agree`, `disagree`, `not_recorded` or `not_determinable`."""

    crs: str
    icans: str


class AssessmentOut(_ObservationsOut):
    """A recorded day with the grades computed when it was saved."""

    id: int
    patient_id: int
    infusion_id: int
    crs: GradeOut
    icans: IcansGradeOut
    fever_waiver: FeverWaiverOut
    agreement: AgreementOut
    is_synthetic: bool = Field(..., description="The patient is a synthetic (demo/test) record.")
    created_at: datetime
    updated_at: datetime


class AssessmentPreviewOut(Schema):
    """The grades the observations would get; nothing is saved."""

    day: int
    infusion_id: int
    crs: GradeOut
    icans: IcansGradeOut
    fever_waiver: FeverWaiverOut
    agreement: AgreementOut
    problems: dict[str, list[str]] = Field(
        ..., description="Observations the rules refused, by field (empty when all are valid)."
    )
