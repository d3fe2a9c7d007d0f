"""Every read of the registry, scoped by :func:`carta.web.accounts.access.restrict`.

A record the user may not see is reported exactly like a missing one (``DoesNotExist``), so
views turn both into a 404. Identifying fields are read only through
:func:`get_patient_identity`, which needs the ``identify`` permission.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models import QuerySet

from carta.web.accounts import access
from carta.web.accounts.models import Center
from carta.web.accounts.roles import Action
from carta.web.audit import selectors as audit_selectors
from carta.web.audit.models import AuditEvent
from carta.web.registry.models import (
    DailyAssessment,
    Infusion,
    Patient,
    PatientIdentity,
    Product,
    ToxicityTreatment,
)

ModelT = TypeVar("ModelT", bound=models.Model)


def records(user: Any, model: type[ModelT], action: Action = "view") -> QuerySet[ModelT]:
    """All rows of a patient-owned ``model`` that ``user`` may ``action``."""
    return access.restrict(model._default_manager.all(), user, action)


def get_record(user: Any, model: type[ModelT], pk: Any, action: Action = "view") -> ModelT:
    """One row by key; ``model.DoesNotExist`` if missing or not visible to ``user``.

    Asking for ``change`` on a row the user may only view raises ``DoesNotExist`` too; use
    :func:`carta.web.accounts.access.require_record` where a 403 is wanted.
    """
    return records(user, model, action).get(pk=pk)


def list_patients(
    user: Any,
    *,
    search: str = "",
    center: Center | int | None = None,
    synthetic: bool | None = None,
) -> QuerySet[Patient]:
    """The patients ``user`` may view, with their center, filtered by registry ID text,
    center (or its key) and synthetic flag: one query, the permission in it."""
    patients = records(user, Patient).select_related("center")
    return _filter_patients(patients, search, center, synthetic)


def visible_patients(
    grants: access.Grants,
    *,
    search: str = "",
    center: Center | int | None = None,
    synthetic: bool | None = None,
) -> QuerySet[Patient]:
    """:func:`list_patients` for grants already read (the request's, ADR 0290): the centers
    they may view as ``center_id IN (...)``, which PostgreSQL answers from the center index,
    where the permission subqueries of :func:`records` make it test every patient."""
    patients = Patient.objects.select_related("center")
    visible = grants.centers("view")
    if visible is not None:
        patients = patients.filter(center_id__in=sorted(visible))
    return _filter_patients(patients, search, center, synthetic)


def _filter_patients(
    patients: QuerySet[Patient],
    search: str,
    center: Center | int | None,
    synthetic: bool | None,
) -> QuerySet[Patient]:
    if search.strip():
        patients = patients.filter(registry_id__icontains=search.strip())
    if center is not None:
        patients = patients.filter(center=center)
    if synthetic is not None:
        patients = patients.filter(is_synthetic=synthetic)
    return patients


def get_patient(user: Any, pk: Any) -> Patient:
    """One patient with its center; ``Patient.DoesNotExist`` if missing or not visible."""
    return list_patients(user).get(pk=pk)


def get_patient_identity(user: Any, patient: Patient) -> PatientIdentity | None:
    """The patient's identifying fields if ``user`` may see them (a non-analyst member of the
    patient's own center) and they were recorded; else ``None``."""
    identities = records(user, PatientIdentity, "identify")
    return identities.filter(patient=patient).first()


def patient_for(grants: access.Grants, pk: Any, *related: str) -> Patient:
    """One patient with its center (and ``related``) among those ``grants`` may view;
    ``Patient.DoesNotExist`` otherwise. The same rows as :func:`get_patient`, from a query
    that needs no permission subqueries (the grants were read already)."""
    patients = Patient.objects.select_related("center", *related)
    visible = grants.centers("view")
    if visible is not None:
        patients = patients.filter(center_id__in=visible)
    return patients.get(pk=pk)


def identity_of(patient: Patient) -> PatientIdentity | None:
    """The patient's identifying fields, for a caller that has checked the ``identify``
    permission on this patient itself (``access.Grants.may``); else use
    :func:`get_patient_identity`."""
    return PatientIdentity.objects.filter(patient=patient).first()


def can_identify(user: Any, patient: Patient) -> bool:
    """May ``user`` see this patient's identifying fields?"""
    return records(user, Patient, "identify").filter(pk=patient.pk).exists()


def records_of(
    user: Any, model: type[ModelT], patient: Patient, action: Action = "view"
) -> QuerySet[ModelT]:
    """``patient``'s rows of ``model`` if ``user`` may ``action`` the patient's center (its
    records are its center's, ADR 0203), else none: the same rows as :func:`records` filtered
    by patient, asked of the user's grants (read once per request, ADR 0290) instead of a
    permission subquery in every query."""
    rows = model._default_manager.filter(patient=patient)
    return rows if access.grants(user).may(patient.center_id, action) else rows.none()


def infusions(user: Any, patient: Patient) -> QuerySet[Infusion]:
    """The patient's infusions with product and lot, first first."""
    rows = records_of(user, Infusion, patient)
    return rows.select_related("product", "product_lot").order_by("number")


def daily_assessments(
    user: Any, patient: Patient, infusion: Infusion | None = None
) -> QuerySet[DailyAssessment]:
    """The patient's daily assessments in infusion and day order."""
    rows = records_of(user, DailyAssessment, patient)
    if infusion is not None:
        rows = rows.filter(infusion=infusion)
    return rows.order_by("infusion__number", "day")


def toxicity_treatments(user: Any, patient: Patient) -> QuerySet[ToxicityTreatment]:
    """The patient's toxicity treatments in infusion and day order."""
    rows = records_of(user, ToxicityTreatment, patient)
    return rows.order_by("infusion__number", "day", "pk")


def products() -> QuerySet[Product]:
    """The CAR-T product catalogue (not patient data: visible to every user)."""
    return Product.objects.filter(in_catalogue=True)


def audit_history(user: Any, record: models.Model) -> QuerySet[AuditEvent]:
    """The audit events of ``record`` (oldest first) if ``user`` may view the record;
    ``DoesNotExist`` otherwise."""
    access.require_record(user, record, "view")
    return audit_selectors.history(user, record).select_related("actor")
