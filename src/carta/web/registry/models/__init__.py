"""The registry's models, one module per concept (CIBMTR forms 4000/4003/4006/4100).

Models hold persistence and database constraints only; clinical computation happens in
:mod:`carta.clinical`, reached through :mod:`carta.web.registry.adapters` by the services.
See ``docs/registry-model.md``.
"""

from carta.web.registry.models.assessment import DailyAssessment
from carta.web.registry.models.diagnosis import Diagnosis
from carta.web.registry.models.outcome import Death, FollowUpVisit, ResponseAssessment
from carta.web.registry.models.patient import Consent, Patient, PatientIdentity
from carta.web.registry.models.product import Apheresis, Product, ProductLot
from carta.web.registry.models.toxicity import ToxicityTreatment
from carta.web.registry.models.treatment import (
    BridgingTherapy,
    Infusion,
    Lymphodepletion,
)

__all__ = [
    "Apheresis",
    "BridgingTherapy",
    "Consent",
    "DailyAssessment",
    "Death",
    "Diagnosis",
    "FollowUpVisit",
    "Infusion",
    "Lymphodepletion",
    "Patient",
    "PatientIdentity",
    "Product",
    "ProductLot",
    "ResponseAssessment",
    "ToxicityTreatment",
]
