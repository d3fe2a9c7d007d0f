"""Daily assessments: grade with :mod:`carta.clinical` (through the adapters), store the
computed grades with the criteria version, audit, and keep later days' fever waiver in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from carta.web.accounts import access
from carta.web.audit import writer
from carta.web.audit.models import Action
from carta.web.registry import adapters
from carta.web.registry.adapters import DayGrade, GradedAssessment
from carta.web.registry.models import DailyAssessment, Infusion, Patient, ToxicityTreatment
from carta.web.registry.services import core


def _reject_unknown(observations: Mapping[str, Any]) -> None:
    unknown = sorted(set(observations) - set(adapters.OBSERVATION_FIELDS))
    if unknown:
        raise ValidationError({name: _("Not a field you can set.") for name in unknown})


def _normalise(observations: Mapping[str, Any]) -> dict[str, Any]:
    """Every observation field (absent = unknown); the vasopressor list as a JSON list."""
    values = {name: observations.get(name) for name in adapters.OBSERVATION_FIELDS}
    if isinstance(values["vasopressors"], tuple):
        values["vasopressors"] = list(values["vasopressors"])
    return values


def _clean_day(day: Any) -> int:
    try:
        return int(DailyAssessment._meta.get_field("day").clean(day, None))
    except ValidationError as error:
        raise ValidationError({"day": error.messages}) from error


def _infusion_for(patient: Patient, infusion: Infusion | None) -> Infusion:
    """The given infusion (it must be this patient's), else the patient's latest one."""
    if infusion is None:
        latest = patient.infusions.order_by("-number").first()
        if latest is None:
            raise ValidationError({"infusion": _("Record the infusion first.")})
        return latest
    if infusion.patient_id != patient.pk:
        raise ValidationError({"infusion": _("This belongs to another patient.")})
    return infusion


def _history(infusion: Infusion) -> list[DayGrade]:
    rows = DailyAssessment.objects.filter(infusion=infusion).order_by("day")
    fields = ("day", "crs_status", "crs_grade", *adapters.CRS_FIELDS)
    return [
        adapters.day_grade(row["day"], row["crs_status"], row["crs_grade"], row)
        for row in rows.values(*fields)
    ]


def _therapy_days(infusion: Infusion) -> list[int]:
    treatments = ToxicityTreatment.objects.filter(
        infusion=infusion, agent__in=adapters.WAIVER_AGENTS
    )
    return list(treatments.values_list("day", flat=True))


def _grade(
    patient: Patient,
    infusion: Infusion,
    day: int,
    values: Mapping[str, Any],
    history: Sequence[DayGrade],
    therapy_days: Sequence[int],
) -> GradedAssessment:
    age = adapters.age_for_icans(
        patient.age_at_infusion, patient.year_of_birth, infusion.infused_on.year
    )
    waiver = adapters.derive_fever_waiver(history, therapy_days, day)
    return adapters.grade_assessment(values, age_years=age, waiver=waiver)


def preview_daily_assessment(
    *, actor: Any, patient: Patient, day: int, infusion: Infusion | None = None, **observations: Any
) -> GradedAssessment:
    """The grades a day's observations would get, without saving anything (the live form).

    Invalid inputs are not raised: they are in ``result.crs.problems`` / ``.icans.problems``
    (and :meth:`GradedAssessment.problems` by model field).
    """
    access.require_record(actor, patient, "change")
    _reject_unknown(observations)
    day = _clean_day(day)
    infusion = _infusion_for(patient, infusion)
    values = _normalise(observations)
    return _grade(patient, infusion, day, values, _history(infusion), _therapy_days(infusion))


def record_daily_assessment(
    *,
    actor: Any,
    patient: Patient,
    day: int,
    infusion: Infusion | None = None,
    reason: str | None = None,
    **observations: Any,
) -> DailyAssessment:
    """Record (or re-record) the assessment of ``day`` after ``infusion`` (default: latest).

    ``observations`` are the Appendix A fields, labs and recorded grades of
    :data:`adapters.OBSERVATION_FIELDS`; an absent one is unknown. They replace the day's
    previous observations; re-recording a day is an edit and needs a ``reason``. The computed
    CRS and ICANS results are stored with their criteria version; later days are regraded when
    this day's CRS result changes (their fever waiver depends on it). One audit event per row
    written, all in one transaction.
    """
    access.require_record(actor, patient, "change")
    _reject_unknown(observations)
    day = _clean_day(day)
    infusion = _infusion_for(patient, infusion)
    values = _normalise(observations)
    # A day stored by someone else between the read of ``existing`` and the insert: the
    # database's unique constraint refuses it, reported on "day" (nothing written).
    with core.constraint_errors(DailyAssessment), transaction.atomic():
        history = _history(infusion)
        # Read (and lock) the stored row only when the day is among the stored ones: a new
        # day, the usual save, needs no second query (ADR 0290).
        stored = any(earlier.day == day for earlier in history)
        existing = _existing(infusion, day) if stored else None
        why = core.require_reason(reason) if existing else (reason or "")
        graded = _grade(patient, infusion, day, values, history, _therapy_days(infusion))
        if graded.problems():
            raise ValidationError(graded.problems())
        row = existing or DailyAssessment(patient=patient, infusion=infusion, day=day)
        crs_before = (row.crs_status, row.crs_grade)
        _write(actor, row, {**values, **graded.fields()}, why, creating=existing is None)
        # Later days' fever waiver depends on this day's CRS result; with no later day (the
        # usual case: today's assessment) there is nothing to regrade.
        later = any(earlier.day > day for earlier in history)
        if later and (row.crs_status, row.crs_grade) != crs_before:
            regrade_from(actor=actor, infusion=infusion, from_day=day + 1, cause=f"day {day}")
    return row


def _existing(infusion: Infusion, day: int) -> DailyAssessment | None:
    """The stored row of ``day`` (locked for the rest of the transaction), if any."""
    return DailyAssessment.objects.select_for_update().filter(infusion=infusion, day=day).first()


def _write(
    actor: Any, row: DailyAssessment, values: Mapping[str, Any], reason: str, *, creating: bool
) -> None:
    fields = writer.audited_fields(DailyAssessment)
    before = {} if creating else writer.snapshot(row, fields)
    for name, value in values.items():
        setattr(row, name, value)
    # Patient and infusion were read and matched by the caller; the day's uniqueness and the
    # range checks (also field validators) are enforced by the database (constraint_errors).
    core.validate_fields(row, checked=("patient", "infusion"))
    after = writer.snapshot(row, fields)
    old, new = (before, after) if creating else writer.difference(before, after)
    if creating or new:
        row.save()
        action = Action.CREATE if creating else Action.UPDATE
        writer.record(
            actor=actor,
            action=action,
            target=row,
            center_id=row.patient.center_id,
            before=old,
            after=new,
            reason=reason,
        )
        core.touch_patient(row.patient_id)


def regrade_from(*, actor: Any, infusion: Infusion, from_day: int | None, cause: str) -> int:
    """Regrade the infusion's days from ``from_day`` on (``None``: all), in day order, each with the waiver
    derived from the days before it; audit each row whose computed fields change.

    Called inside the transaction of the write that caused it. Returns the rows changed.
    """
    rows = list(
        DailyAssessment.objects.select_for_update()
        .filter(infusion=infusion)
        .select_related("patient")
        .order_by("day")
    )
    therapy_days = _therapy_days(infusion)
    history: list[DayGrade] = []
    changed = 0
    for row in rows:
        if from_day is None or row.day >= from_day:
            values = {name: getattr(row, name) for name in adapters.OBSERVATION_FIELDS}
            graded = _grade(row.patient, infusion, row.day, values, history, therapy_days)
            changed += _store_regrade(actor, row, graded.fields(), cause)
        values = {name: getattr(row, name) for name in adapters.CRS_FIELDS}
        history.append(adapters.day_grade(row.day, row.crs_status, row.crs_grade, values))
    return changed


def _store_regrade(
    actor: Any, row: DailyAssessment, computed: Mapping[str, Any], cause: str
) -> int:
    old, new = writer.difference(writer.snapshot(row, computed), writer.json_value(dict(computed)))
    if not new:
        return 0
    for name, value in computed.items():
        setattr(row, name, value)
    row.save(update_fields=[*computed, "updated_at"])
    writer.record(
        actor=actor,
        action=Action.UPDATE,
        target=row,
        center_id=row.patient.center_id,
        before=old,
        after=new,
        reason=f"regraded: {cause} changed",
    )
    core.touch_patient(row.patient_id)
    return 1


def regrade_patient(*, actor: Any, patient: Patient, reason: str | None) -> int:
    """Regrade every stored day of the patient (after an age edit or a criteria update)."""
    access.require_record(actor, patient, "change")
    why = core.require_reason(reason)
    with transaction.atomic():
        return sum(
            regrade_from(actor=actor, infusion=infusion, from_day=None, cause=why)
            for infusion in patient.infusions.all()
        )
