"""Shapes shared by every resource: errors, pages, reason codes, computed grades."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field, create_model


class ErrorOut(Schema):
    """A request that failed for a reason other than its fields (400, 401, 403, 404)."""

    detail: str = Field(..., description="What went wrong, in the request's language.")


class FieldErrorItem(Schema):
    """One problem with one input field."""

    field: str | None = Field(
        ...,
        description=(
            "Dotted path of the field in the request (`temperature_c`, `identity.phone`, "
            "`vasopressors.0`, a query parameter's name); null for a problem with the request "
            "as a whole."
        ),
    )
    loc: list[str | int] = Field(
        ..., description="Where the field is: `body`, `query` or `path`, then the field path."
    )
    msg: str = Field(..., description="The problem, in the request's language where translated.")
    type: str = Field(..., description="A machine-readable error code.")


class ValidationErrorOut(Schema):
    """422: the request names fields that are missing or invalid; nothing was saved."""

    detail: list[FieldErrorItem]


class ReasonOut(Schema):
    """A reason code of a computed result, with its text in the request's language."""

    code: str = Field(..., description="Stable reason code, e.g. `crs.fever`.")
    text: str = Field(
        ..., description="The reason in the request's language (the code when it has no text)."
    )


class MissingOut(Schema):
    """An unknown input that blocks a grade."""

    field: str = Field(
        ..., description="The input's name, e.g. `fever_attributable_to_other_cause`."
    )
    label: str = Field(..., description="The input's label in the request's language.")


class GradeOut(Schema):
    """A computed grade (ASTCT 2019) as stored with the assessment, or as previewed."""

    status: str | None = Field(
        ...,
        description=(
            "`ok` (graded), `cannot_grade` (missing inputs decide the grade), "
            "`invalid_input`; null if never graded."
        ),
    )
    grade: int | None = Field(..., description="0-5 when `status` is `ok`, else null.")
    reasons: list[ReasonOut] = Field(..., description="Why this grade, in rule order.")
    missing: list[MissingOut] = Field(..., description="Unknown inputs that block the grade.")
    criteria: str = Field(..., description="Criteria and version, e.g. `ASTCT CRS 2019`.")


class IcansGradeOut(GradeOut):
    """The ICANS grade and the encephalopathy score it used."""

    ice_score: int | None = Field(..., description="ICE total used (0-10), if any.")
    capd_score: int | None = Field(..., description="CAPD total used (0-32), if any.")


def page_of(item: type[Schema], name: str) -> Any:
    """A page schema ``{count, limit, offset, items}`` of ``item``."""
    return create_model(
        name,
        __base__=Schema,
        count=(int, Field(..., description="Rows matching the filters, over all pages.")),
        limit=(int, Field(..., description="Page size asked for.")),
        offset=(int, Field(..., description="Rows skipped before this page.")),
        items=(list[item], Field(...)),  # type: ignore[valid-type]
    )


ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}
"""The error responses every authenticated operation documents (400: a body that is not
JSON)."""
