"""Every write to the registry: ``verb_noun(*, actor, ...)`` functions (ADR 0201).

Each checks the actor's permission (:mod:`carta.web.accounts.access`), validates (a
``django.core.exceptions.ValidationError`` names the field), runs in one transaction and writes
its audit events in it. Edits and deletions take a ``reason``.
"""

from carta.web.registry.services.assessments import (
    preview_daily_assessment,
    record_daily_assessment,
    regrade_patient,
)
from carta.web.registry.services.patients import (
    create_patient,
    set_patient_identity,
    update_patient,
)
from carta.web.registry.services.records import (
    create_record,
    delete_record,
    record_apheresis,
    record_bridging_therapy,
    record_consent,
    record_death,
    record_diagnosis,
    record_follow_up_visit,
    record_infusion,
    record_lymphodepletion,
    record_product_lot,
    record_response,
    record_toxicity_treatment,
    update_record,
)

__all__ = [
    "create_patient",
    "create_record",
    "delete_record",
    "preview_daily_assessment",
    "record_apheresis",
    "record_bridging_therapy",
    "record_consent",
    "record_daily_assessment",
    "record_death",
    "record_diagnosis",
    "record_follow_up_visit",
    "record_infusion",
    "record_lymphodepletion",
    "record_product_lot",
    "record_response",
    "record_toxicity_treatment",
    "regrade_patient",
    "set_patient_identity",
    "update_patient",
    "update_record",
]
