"""The audited write every registry service is made of (ADR 0201).

One function per verb: :func:`create`, :func:`update`, :func:`delete`. Each checks the actor's
permission through :mod:`carta.web.accounts.access`, validates (a ``ValidationError`` names the
field), runs in one ``transaction.atomic()`` and writes the audit event in that transaction;
an optional ``prepare`` step fills computed fields before validation and an ``after`` step
runs inside the transaction after the write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Value
from django.db.models.deletion import ProtectedError
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carta.web.accounts import access
from carta.web.audit import writer
from carta.web.audit.models import Action
from carta.web.registry.models import Patient, PatientIdentity

Hook = Callable[[Any, Any], None]
"""A step given the acting user and the row."""

# Multi-field constraints Django reports without a field: the field the user should fix.
CONSTRAINT_FIELDS: dict[str, str] = {
    "patient_registry_id_unique_in_center": "registry_id",
    "patient_year_of_birth_or_age": "year_of_birth",
    "consent_withdrawn_after_signed": "withdrawn_on",
    "bridging_ends_after_start": "ended_on",
    "lymphodepletion_days_before_infusion": "last_day",
    "infusion_number_unique_per_patient": "number",
    "assessment_one_per_infusion_day": "day",
    "assessment_day_in_range": "day",
    "response_category_belongs_to_criteria": "category",
    "visit_once_per_infusion": "visit",
}
# Fields that say whose record a row is; moving a row to another owner is not an edit.
OWNER_FIELDS = frozenset({"patient", "center"})


@dataclass(frozen=True, slots=True)
class Hooks:
    """Model-specific steps around the generic write."""

    prepare: Hook | None = None
    after: Hook | None = None


NO_HOOKS = Hooks()


def require_reason(reason: str | None) -> str:
    """Edits to clinical data take a reason (ADR 0201)."""
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("Give the reason for this change.")})
    return reason.strip()


def writable_fields(model: type[models.Model]) -> set[str]:
    """The fields a caller may set: editable concrete fields, not the primary key."""
    return {
        field.name
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key
    }


def reject_unknown(model: type[models.Model], names: set[str]) -> None:
    """Refuse field names the model does not have (or that are computed)."""
    unknown = sorted(names - writable_fields(model))
    if unknown:
        raise ValidationError({name: _("Not a field you can set.") for name in unknown})


def check_relations(model: type[models.Model], values: Mapping[str, Any]) -> None:
    """A linked record must be given as a row of the right model (or ``None``)."""
    errors = {}
    for name, value in values.items():
        field = model._meta.get_field(name)
        related = field.related_model if field.is_relation else None
        if related is not None and value is not None and not isinstance(value, related):
            errors[name] = _("Give a %(model)s.") % {"model": related._meta.verbose_name}
    if errors:
        raise ValidationError(errors)


def owner(instance: models.Model) -> Patient | None:
    """The patient a row belongs to (itself for a patient; ``None`` for a product)."""
    if isinstance(instance, Patient):
        return instance
    return getattr(instance, "patient", None)


def _check_same_patient(instance: models.Model, patient: Patient) -> None:
    """Linked rows (infusion, lot, apheresis) must belong to the same patient."""
    errors = {}
    for field in instance._meta.concrete_fields:
        if not field.is_relation or field.name == "patient":
            continue
        related = getattr(instance, field.name, None)
        related_patient_id = getattr(related, "patient_id", None)
        if related_patient_id is not None and related_patient_id != patient.pk:
            errors[field.name] = _("This belongs to another patient.")
    if errors:
        raise ValidationError(errors)


def validate(instance: models.Model) -> None:
    """``full_clean`` with every constraint error filed under the field to fix."""
    errors: dict[str, list[Any]] = {}
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as error:
        errors = dict(error.message_dict)
    if not errors:
        _validate_constraints(instance, errors)
    if errors:
        raise ValidationError(errors)
    patient = owner(instance)
    if patient is not None:
        _check_same_patient(instance, patient)


def validate_fields(instance: models.Model, *, checked: Iterable[str]) -> None:
    """The field checks of :func:`validate` (validators, choices, required) without its
    queries, for a hot write path: the linked rows named in ``checked`` were read and checked
    by the caller, and the unique and check constraints are left to the database, whose
    refusal :func:`constraint_errors` reports on the field to fix."""
    try:
        instance.full_clean(
            exclude=list(checked), validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        raise ValidationError(dict(error.message_dict)) from error


@contextmanager
def constraint_errors(model: type[models.Model]) -> Iterator[None]:
    """A constraint of ``model`` that the database refused, as a ``ValidationError`` on the
    field to fix (:data:`CONSTRAINT_FIELDS`) with Django's own message for it.

    Wrap the whole ``transaction.atomic()`` block: by the time the error arrives here the
    transaction has been rolled back, so nothing is written. Other integrity errors pass on.
    """
    try:
        yield
    except IntegrityError as error:
        constraint = _refused_constraint(model, error)
        if constraint is None:
            raise
        field = CONSTRAINT_FIELDS.get(constraint.name, NON_FIELD_ERRORS)
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            message = model().unique_error_message(model, tuple(constraint.fields))
        else:
            message = constraint.get_violation_error_message()
        raise ValidationError({field: [message]}) from error


def _refused_constraint(model: type[models.Model], error: IntegrityError) -> Any:
    """The constraint named by the database's error: PostgreSQL names it; SQLite names a check
    constraint in its message and a unique one by its columns."""
    named = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    text = str(error)
    for constraint in model._meta.constraints:
        if named == constraint.name or (named is None and constraint.name in text):
            return constraint
        if named is None and isinstance(constraint, models.UniqueConstraint):
            columns = [model._meta.get_field(name).column for name in constraint.fields]
            table = model._meta.db_table
            if text.startswith("UNIQUE constraint failed") and all(
                f"{table}.{column}" in text for column in columns
            ):
                return constraint
    return None


def _validate_constraints(instance: models.Model, errors: dict[str, list[Any]]) -> None:
    for constraint in instance._meta.constraints:
        try:
            constraint.validate(type(instance), instance)
        except ValidationError as error:
            field = CONSTRAINT_FIELDS.get(constraint.name, NON_FIELD_ERRORS)
            errors.setdefault(field, []).extend(error.messages)


def authorize(actor: Any, instance: models.Model, *, creating: bool) -> None:
    """Change permission on the owning patient (identify too for identifying fields)."""
    patient = owner(instance)
    if patient is None:
        raise ValidationError({"patient": _("This field is required.")})
    if creating and isinstance(instance, Patient):
        center = getattr(instance, "center", None)
        if center is None:
            raise ValidationError({"center": _("This field is required.")})
        access.require_center(actor, center, "change")
        return
    access.require_record(actor, patient, "change")
    if isinstance(instance, PatientIdentity):
        access.require_record(actor, patient, "identify")


def _center_id(instance: models.Model) -> Any:
    patient = owner(instance)
    return patient.center_id if patient is not None else None


def create(
    *,
    actor: Any,
    model: type[models.Model],
    values: Mapping[str, Any],
    reason: str = "",
    hooks: Hooks = NO_HOOKS,
) -> Any:
    """Insert a row of ``model`` from ``values``; one CREATE audit event with every field."""
    reject_unknown(model, set(values))
    check_relations(model, values)
    instance = model(**values)
    authorize(actor, instance, creating=True)
    with transaction.atomic():
        if hooks.prepare:
            hooks.prepare(actor, instance)
        validate(instance)
        instance.save()
        after = writer.snapshot(instance, writer.audited_fields(model))
        _audit(actor, Action.CREATE, instance, {}, after, reason)
        if hooks.after:
            hooks.after(actor, instance)
    return instance


def update(
    *,
    actor: Any,
    record: models.Model,
    changes: Mapping[str, Any],
    reason: str | None,
    hooks: Hooks = NO_HOOKS,
) -> Any:
    """Change ``changes`` on ``record``; one UPDATE event with before/after of what changed.

    Works on a fresh, locked copy of the row (the caller's object is not modified); returns it.
    A change that changes nothing writes nothing.
    """
    model = type(record)
    reject_unknown(model, set(changes))
    check_relations(model, changes)
    moved = sorted(OWNER_FIELDS & set(changes))
    if moved:
        raise ValidationError({name: _("This cannot be changed.") for name in moved})
    why = require_reason(reason)
    authorize(actor, record, creating=False)
    fields = writer.audited_fields(model)
    with transaction.atomic():
        fresh = model._default_manager.select_for_update().get(pk=record.pk)
        before = writer.snapshot(fresh, fields)
        for name, value in changes.items():
            setattr(fresh, name, value)
        if hooks.prepare:
            hooks.prepare(actor, fresh)
        validate(fresh)
        old, new = writer.difference(before, writer.snapshot(fresh, fields))
        if new:
            fresh.save()
            _audit(actor, Action.UPDATE, fresh, old, new, why)
            if hooks.after:
                hooks.after(actor, fresh)
    return fresh


def delete(
    *, actor: Any, record: models.Model, reason: str | None, hooks: Hooks = NO_HOOKS
) -> None:
    """Delete ``record``; one DELETE event holding every field it had.

    A row other rows still point at (a patient with an infusion) is refused: delete those
    first, each with its own audit event.
    """
    why = require_reason(reason)
    authorize(actor, record, creating=False)
    model = type(record)
    with transaction.atomic():
        fresh = model._default_manager.select_for_update().get(pk=record.pk)
        before = writer.snapshot(fresh, writer.audited_fields(model))
        _audit(actor, Action.DELETE, fresh, before, {}, why)
        try:
            fresh.delete()
        except ProtectedError as error:
            raise ValidationError(
                {NON_FIELD_ERRORS: [_("Delete the records that depend on this one first.")]}
            ) from error
        if hooks.after:
            hooks.after(actor, record)


def touch_patient(patient_id: Any) -> None:
    """Move the patient's revision (``updated_at``) on: called in the transaction of every
    write to the patient or one of its records, so the patient page's cached fragments, keyed
    by it, are never served after the write commits (ADR 0286).

    Strictly increasing even when the clock stands still or steps back: the later of now and
    the previous value plus one microsecond.
    """
    if patient_id is None:
        return
    now = Value(timezone.now(), output_field=models.DateTimeField())
    step = F("updated_at") + Value(timedelta(microseconds=1), output_field=models.DurationField())
    Patient.objects.filter(pk=patient_id).update(
        updated_at=Greatest(now, step, output_field=models.DateTimeField())
    )


def _audit(
    actor: Any,
    action: str,
    instance: models.Model,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reason: str,
) -> None:
    writer.record(
        actor=actor,
        action=action,
        target=instance,
        center_id=_center_id(instance),
        before=before,
        after=after,
        reason=reason,
    )
    patient = owner(instance)
    touch_patient(patient.pk if patient is not None else None)
