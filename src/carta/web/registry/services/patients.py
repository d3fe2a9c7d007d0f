"""Creating patients and recording their identifying fields."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from carta.web.accounts.models import Center
from carta.web.registry.models import Patient, PatientIdentity
from carta.web.registry.services import core, records


def create_patient(
    *,
    actor: Any,
    center: Center,
    registry_id: str,
    sex: str,
    year_of_birth: int | None = None,
    age_at_infusion: int | None = None,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    is_synthetic: bool = False,
    identity: dict[str, Any] | None = None,
) -> Patient:
    """Register a patient at ``center`` (the actor must be allowed to change its records).

    ``identity`` optionally holds the identifying fields (``full_name``, ``national_id``,
    ``medical_record_number``, ``phone``, ``date_of_birth``), stored apart in
    :class:`PatientIdentity`; it needs the ``identify`` permission. Patient and identity are
    written in one transaction, each with its audit event.
    """
    values = {
        "center": center,
        "registry_id": registry_id,
        "sex": sex,
        "year_of_birth": year_of_birth,
        "age_at_infusion": age_at_infusion,
        "weight_kg": weight_kg,
        "height_cm": height_cm,
        "is_synthetic": is_synthetic,
    }
    with transaction.atomic():
        patient: Patient = core.create(actor=actor, model=Patient, values=values)
        if identity:
            set_patient_identity(actor=actor, patient=patient, **identity)
    return patient


def update_patient(*, actor: Any, patient: Patient, reason: str | None, **changes: Any) -> Patient:
    """Change the patient's pseudonymous fields (not its center); needs a ``reason``.

    The patient's daily assessments are regraded (the age decides the valid ICANS tool).
    """
    updated: Patient = records.update_record(actor=actor, record=patient, reason=reason, **changes)
    return updated


def set_patient_identity(
    *, actor: Any, patient: Patient, reason: str | None = None, **fields: Any
) -> PatientIdentity:
    """Record the patient's identifying fields, or change them (a change needs a ``reason``).

    Requires change and identify permission on the patient's center.
    """
    existing = PatientIdentity.objects.filter(patient=patient).first()
    if existing is None:
        created: PatientIdentity = core.create(
            actor=actor,
            model=PatientIdentity,
            values={"patient": patient, **fields},
            reason=reason or "",
        )
        return created
    changed: PatientIdentity = core.update(
        actor=actor, record=existing, changes=fields, reason=reason
    )
    return changed
