"""Writing the records of a patient's journey: generic create/update/delete with the
model-specific steps (dose check, regrading), and one named service per record type.

The named services take the record's fields as keyword arguments (see each model in
:mod:`carta.web.registry.models`); a field the model does not have is a ``ValidationError``
naming it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models

from carta.web.registry import adapters
from carta.web.registry.models import (
    Apheresis,
    BridgingTherapy,
    Consent,
    DailyAssessment,
    Death,
    Diagnosis,
    FollowUpVisit,
    Infusion,
    Lymphodepletion,
    Patient,
    ProductLot,
    ResponseAssessment,
    ToxicityTreatment,
)
from carta.web.registry.services import assessments, core


def _apply_dose_check(actor: Any, infusion: Infusion) -> None:
    """Store the labelled-dose check of the infusion (a warning, never a refusal)."""
    if infusion.product_id is None or infusion.patient_id is None:
        return  # validation reports the missing field
    patient = infusion.patient
    diagnosis = patient.diagnoses.order_by("-pk").first()
    checked = adapters.check_infusion_dose(
        product_code=infusion.product.code,
        disease=diagnosis.disease if diagnosis else None,
        country=patient.center.country,
        weight_kg=patient.weight_kg,
        total_cells=infusion.cell_dose_total,
        cells_per_kg=infusion.cell_dose_per_kg,
        infused_on=infusion.infused_on if isinstance(infusion.infused_on, date) else None,
    )
    for name, value in checked.items():
        setattr(infusion, name, value)


def _regrade_after_treatment(actor: Any, treatment: ToxicityTreatment) -> None:
    """A treatment can start or stop the fever waiver from its day on; its day may have
    moved, so the whole infusion is regraded (a few dozen rows)."""
    assessments.regrade_from(
        actor=actor,
        infusion=treatment.infusion,
        from_day=None,
        cause=f"treatment on day {treatment.day}",
    )


def _regrade_after_assessment(actor: Any, row: DailyAssessment) -> None:
    """A deleted day no longer counts as an earlier day of the later ones."""
    assessments.regrade_from(
        actor=actor, infusion=row.infusion, from_day=row.day, cause=f"day {row.day}"
    )


def _regrade_after_patient_edit(actor: Any, patient: Patient) -> None:
    """The age decides which encephalopathy tool is valid (ICANS b.5): regrade the days."""
    for infusion in patient.infusions.filter(assessments__isnull=False).distinct():
        assessments.regrade_from(
            actor=actor, infusion=infusion, from_day=None, cause="the patient's record"
        )


HOOKS: dict[type[models.Model], core.Hooks] = {
    Patient: core.Hooks(after=_regrade_after_patient_edit),
    Infusion: core.Hooks(prepare=_apply_dose_check),
    ToxicityTreatment: core.Hooks(after=_regrade_after_treatment),
}


def _hooks(model: type[models.Model]) -> core.Hooks:
    return HOOKS.get(model, core.NO_HOOKS)


def create_record(*, actor: Any, model: type[models.Model], reason: str = "", **fields: Any) -> Any:
    """Create a record of ``model`` (any patient-owned registry model) from ``fields``."""
    if model is DailyAssessment:
        return assessments.record_daily_assessment(actor=actor, reason=reason, **fields)
    return core.create(actor=actor, model=model, values=fields, reason=reason, hooks=_hooks(model))


def update_record(*, actor: Any, record: models.Model, reason: str | None, **changes: Any) -> Any:
    """Change fields of ``record``; returns the updated row. Edits need a ``reason``.

    A daily assessment is re-recorded with the changes merged into its observations (so its
    grades are recomputed).
    """
    if isinstance(record, DailyAssessment):
        current = {name: getattr(record, name) for name in adapters.OBSERVATION_FIELDS}
        return assessments.record_daily_assessment(
            actor=actor,
            patient=record.patient,
            day=record.day,
            infusion=record.infusion,
            reason=reason,
            **{**current, **changes},
        )
    return core.update(
        actor=actor, record=record, changes=changes, reason=reason, hooks=_hooks(type(record))
    )


def delete_record(*, actor: Any, record: models.Model, reason: str | None) -> None:
    """Delete ``record`` with a ``reason``; later days are regraded when it fed the waiver."""
    hooks = _hooks(type(record))
    if isinstance(record, DailyAssessment):
        hooks = core.Hooks(after=_regrade_after_assessment)
    elif isinstance(record, ToxicityTreatment):
        hooks = core.Hooks(after=_regrade_after_treatment)
    core.delete(actor=actor, record=record, reason=reason, hooks=hooks)


# --- named services, one per record type --------------------------------------------------------


def record_consent(*, actor: Any, patient: Patient, **fields: Any) -> Consent:
    """A consent: ``consent_type``, ``signed_on``, optional ``withdrawn_on``."""
    return create_record(actor=actor, model=Consent, patient=patient, **fields)


def record_diagnosis(*, actor: Any, patient: Patient, **fields: Any) -> Diagnosis:
    """The disease: ``disease``, ``subtype``, ``stage``, ``prior_lines``, prior HCT/CAR-T,
    target antigen and its status."""
    return create_record(actor=actor, model=Diagnosis, patient=patient, **fields)


def record_apheresis(*, actor: Any, patient: Patient, **fields: Any) -> Apheresis:
    """A collection: ``collected_on``, optional collection ``center``."""
    return create_record(actor=actor, model=Apheresis, patient=patient, **fields)


def record_product_lot(*, actor: Any, patient: Patient, **fields: Any) -> ProductLot:
    """A manufactured lot: ``product``, ``lot_number``, ``chain_of_identity``, ..."""
    return create_record(actor=actor, model=ProductLot, patient=patient, **fields)


def record_bridging_therapy(*, actor: Any, patient: Patient, **fields: Any) -> BridgingTherapy:
    """Bridging: ``kind``, ``regimen``, ``started_on``, ``ended_on``."""
    return create_record(actor=actor, model=BridgingTherapy, patient=patient, **fields)


def record_lymphodepletion(*, actor: Any, patient: Patient, **fields: Any) -> Lymphodepletion:
    """Lymphodepletion: ``regimen``, doses in mg/m2/day, ``first_day``..``last_day``."""
    return create_record(actor=actor, model=Lymphodepletion, patient=patient, **fields)


def record_infusion(*, actor: Any, patient: Patient, **fields: Any) -> Infusion:
    """An infusion: ``product``, ``product_lot``, ``infused_on``, ``number``, cell doses.

    The labelled-dose check is stored on the row (``dose_check_status``,
    ``dose_within_label``, ``dose_check_reasons``): a warning, not a refusal.
    """
    return create_record(actor=actor, model=Infusion, patient=patient, **fields)


def record_toxicity_treatment(*, actor: Any, patient: Patient, **fields: Any) -> ToxicityTreatment:
    """A treatment: ``infusion``, ``day``, ``agent``, dose; later days are regraded."""
    return create_record(actor=actor, model=ToxicityTreatment, patient=patient, **fields)


def record_response(*, actor: Any, patient: Patient, **fields: Any) -> ResponseAssessment:
    """A response: ``assessed_on``, ``criteria``, ``category`` (of those criteria), ``mrd``."""
    return create_record(actor=actor, model=ResponseAssessment, patient=patient, **fields)


def record_follow_up_visit(*, actor: Any, patient: Patient, **fields: Any) -> FollowUpVisit:
    """A visit done: ``infusion``, ``visit`` (``day_28`` .. ``year_15``), ``done_on``."""
    return create_record(actor=actor, model=FollowUpVisit, patient=patient, **fields)


def record_death(*, actor: Any, patient: Patient, **fields: Any) -> Death:
    """The death: ``died_on``, ``cause``, ``cause_detail``."""
    return create_record(actor=actor, model=Death, patient=patient, **fields)
