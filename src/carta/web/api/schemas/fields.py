"""API fields copied from the Django model fields: type, null, bounds, length and choices.

An input schema states the same limits as the model it feeds (the plausible ranges of
:mod:`carta.clinical` that the models use as validators, the vocabulary words of the choices),
so the OpenAPI schema documents them, a bad value is a 422 naming the field before any service
runs, and the fuzzer generates values the service can take. Nothing here decides anything
clinical: the bounds are read from the models (ADR 0263).

Integer bounds come from the field's own validators and fixed column ranges, never from
``field.validators``, which adds the database backend's ranges and would make the schema differ
between SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, create_model

# Column ranges of Django's integer fields on every backend carta supports.
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "SmallIntegerField": (-32_768, 32_767),
    "PositiveSmallIntegerField": (0, 32_767),
    "IntegerField": (-2_147_483_648, 2_147_483_647),
    "PositiveIntegerField": (0, 2_147_483_647),
    "BigIntegerField": (-(2**63), 2**63 - 1),
    "BigAutoField": (1, 2**63 - 1),
}
ID_MAX = 2**63 - 1
"""The largest primary key (BigAutoField); a larger number in a path is a 422, not a crash."""
FREE_TEXT_MAX = 1000
"""Longest free text without a model column of its own (a reason for a change)."""


def _plain_text(value: str) -> str:
    """Refuse NUL characters and lone surrogates: PostgreSQL cannot store the first, no
    database driver can encode the second."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text must be valid Unicode") from error
    return value


Text = Annotated[str, AfterValidator(_plain_text)]
"""A string the database can store."""


class InputSchema(Schema):
    """A request body: a field the schema does not know is a 422 naming it, not ignored."""

    model_config = ConfigDict(extra="forbid")


def literal(values: Iterable[str]) -> Any:
    """``Literal[...]`` of ``values`` (an enum in the OpenAPI schema)."""
    return Literal.__getitem__(tuple(values))


def choice_values(field: models.Field[Any, Any]) -> list[str]:
    """The stored values of a field's choices."""
    return [str(value) for value, _label in field.flatchoices]


def _python_type(field: models.Field[Any, Any]) -> Any:
    if field.choices:
        values = choice_values(field)
        # A text choice that may be blank stores "" for "not given" (Django's convention).
        blank = field.blank and not field.null and isinstance(field, models.CharField)
        return literal(["", *values] if blank else values)
    internal = field.get_internal_type()
    if internal in INTEGER_RANGES:
        return int
    simple: dict[str, Any] = {
        "FloatField": float,
        "BooleanField": bool,
        "DateField": date,
        "DateTimeField": datetime,
        "CharField": Text,
        "TextField": Text,
    }
    if internal not in simple:
        raise TypeError(f"{field.model.__name__}.{field.name}: no API type for {internal}")
    return simple[internal]


def _bounds(field: models.Field[Any, Any]) -> dict[str, Any]:
    """``ge``/``le``/``max_length`` from the field's own validators and column."""
    bounds: dict[str, Any] = {}
    low, high = INTEGER_RANGES.get(field.get_internal_type(), (None, None))
    for validator in field._validators:  # the model's own, not the backend's ranges
        if isinstance(validator, MinValueValidator):
            low = validator.limit_value if low is None else max(low, validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            high = validator.limit_value if high is None else min(high, validator.limit_value)
    if low is not None:
        bounds["ge"] = low
    if high is not None:
        bounds["le"] = high
    if field.max_length is not None and not field.choices:
        bounds["max_length"] = field.max_length
    if not field.blank and isinstance(field, models.CharField) and not field.choices:
        bounds["min_length"] = 1
    return bounds


def _description(field: models.Field[Any, Any]) -> str:
    with translation.override("en"):  # the committed schema is in English
        text = str(field.verbose_name)
        if field.help_text:
            text = f"{text}. {field.help_text}"
    return text


def input_field(
    field: models.Field[Any, Any], *, python_type: Any = None, optional: bool | None = None
) -> tuple[Any, Any]:
    """A pydantic field definition for writing ``field``.

    Absent means unknown (``None``) for a nullable field, the model default otherwise (``""``
    for a text field that may be blank); a field without either is required. ``optional=True``
    makes every field optional (a partial update: absent = unchanged).
    """
    kind = python_type if python_type is not None else _python_type(field)
    if field.null:
        kind = kind | None
    info: dict[str, Any] = {"description": _description(field), **_bounds(field)}
    if optional or field.null:
        return kind, Field(None, **info)
    if field.has_default():
        return kind, Field(field.get_default(), **info)
    if field.blank and isinstance(field, models.CharField):
        return kind, Field("", **info)
    return kind, Field(..., **info)


def output_field(field: models.Field[Any, Any], *, python_type: Any = None) -> tuple[Any, Any]:
    """A pydantic field definition for reading ``field`` (always present, ``null`` when
    unknown)."""
    kind = python_type if python_type is not None else _python_type(field)
    if kind is Text:
        kind = str
    if field.null:
        kind = kind | None
    return kind, Field(..., description=_description(field))


def model_schema(
    name: str,
    model: type[models.Model],
    names: Iterable[str],
    *,
    direction: Literal["input", "output", "patch"],
    types: Mapping[str, Any] | None = None,
    base: type[Schema] | None = None,
) -> Any:
    """A ninja schema class named ``name`` with the fields ``names`` of ``model``.

    ``types`` overrides the Python type of some fields (a JSON list, a key given as a code).
    Returned as ``Any`` so it can serve as a base class of an explicit schema.
    """
    overrides = dict(types or {})
    definitions: dict[str, Any] = {}
    for field_name in names:
        field = model._meta.get_field(field_name)
        kind = overrides.get(field_name)
        if direction == "output":
            definitions[field_name] = output_field(field, python_type=kind)
        else:
            definitions[field_name] = input_field(
                field,
                python_type=kind,
                optional=direction == "patch",
            )
    if base is None:
        base = Schema if direction == "output" else InputSchema
    return create_model(name, __base__=base, **definitions)
