"""What every endpoint shares: the acting user, field-path prefixes, and the presenters that
turn rows and rule results into response dictionaries.

Presenters only copy stored values and call :mod:`carta.web.registry.adapters` for derived
read-only values (body surface area, agreement with a recorded grade); they never decide a
grade themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from carta.clinical.results import RuleResult
from carta.web.reasons import field_label, reason_text
from carta.web.registry import adapters, selectors
from carta.web.registry.adapters import GradedAssessment
from carta.web.registry.models import (
    DailyAssessment,
    FollowUpVisit,
    Infusion,
    Patient,
    PatientIdentity,
    Product,
    ResponseAssessment,
)


def actor(request: HttpRequest) -> Any:
    """The user the bearer token belongs to (set by :class:`carta.web.api.auth.BearerToken`)."""
    return getattr(request, "auth", None)


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Re-file a service's ``ValidationError`` under ``prefix.`` (the nested object of the
    request the fields came from, e.g. ``identity``)."""
    try:
        yield
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {
                (prefix if name == NON_FIELD_ERRORS else f"{prefix}.{name}"): messages
                for name, messages in error.message_dict.items()
            }
        ) from error


def bad_input(field: str, message: Any) -> ValidationError:
    """A 422 naming ``field``."""
    return ValidationError({field: [message]})


def patient_infusion(user: Any, patient: Patient, infusion_id: int | None) -> Infusion | None:
    """The patient's infusion with this ID (``None`` for none asked; a 422 naming
    ``infusion`` when the patient has no such infusion)."""
    if infusion_id is None:
        return None
    row = selectors.infusions(user, patient).filter(pk=infusion_id).first()
    if row is None:
        raise bad_input("infusion", _("No infusion with this ID for this patient."))
    return row


# --- reason texts ----------------------------------------------------------------------------


def reasons(codes: Iterable[str]) -> list[dict[str, Any]]:
    """Reason codes with their sentence in the active language (the code itself when the
    catalogue of :mod:`carta.web.reasons` has none)."""
    return [{"code": code, "text": reason_text(code)} for code in codes]


def missing(fields: Iterable[str]) -> list[dict[str, Any]]:
    """Missing rule inputs with their label in the active language."""
    return [{"field": name, "label": field_label(name)} for name in fields]


# --- presenters --------------------------------------------------------------------------------


def center_out(patient: Patient) -> dict[str, Any]:
    """The patient's center."""
    center = patient.center
    return {
        "code": center.code,
        "name": center.name,
        "name_zh": center.name_zh,
        "country": center.country,
        "is_synthetic": center.is_synthetic,
    }


PATIENT_FIELDS = (
    "id",
    "registry_id",
    "sex",
    "year_of_birth",
    "age_at_infusion",
    "weight_kg",
    "height_cm",
    "is_synthetic",
    "created_at",
    "updated_at",
)
IDENTITY_FIELDS = ("full_name", "national_id", "medical_record_number", "phone", "date_of_birth")


def patient_out(patient: Patient) -> dict[str, Any]:
    """A patient, pseudonymised (what every user who may view it sees)."""
    values = {name: getattr(patient, name) for name in PATIENT_FIELDS}
    bsa = adapters.patient_bsa(patient.weight_kg, patient.height_cm)
    return {**values, "center": center_out(patient), "bsa_m2": bsa.bsa_m2}


def patient_detail_out(patient: Patient, identity: PatientIdentity | None) -> dict[str, Any]:
    """A patient with its identifying fields when the caller may see them (else ``None``)."""
    shown = (
        None if identity is None else {name: getattr(identity, name) for name in IDENTITY_FIELDS}
    )
    return {**patient_out(patient), "identity": shown}


PRODUCT_FIELDS = (
    "code",
    "inn",
    "brand_name",
    "brand_name_zh",
    "company",
    "target",
    "costimulatory_domain",
    "in_catalogue",
)


def product_out(product: Product) -> dict[str, Any]:
    """A catalogue product."""
    return {name: getattr(product, name) for name in PRODUCT_FIELDS}


def infusion_out(infusion: Infusion, patient: Patient) -> dict[str, Any]:
    """An infusion with its stored dose check."""
    return {
        "id": infusion.pk,
        "patient_id": patient.pk,
        "number": infusion.number,
        "product": product_out(infusion.product),
        "product_lot": infusion.product_lot_id,
        "infused_on": infusion.infused_on,
        "cell_dose_total": infusion.cell_dose_total,
        "cell_dose_per_kg": infusion.cell_dose_per_kg,
        "dose_check": {
            "status": infusion.dose_check_status or None,
            "within_label": infusion.dose_within_label,
            "reasons": reasons(infusion.dose_check_reasons),
            "criteria": infusion.dose_check_criteria,
        },
        "is_synthetic": patient.is_synthetic,
    }


def _stored_grade(row: DailyAssessment, prefix: str) -> dict[str, Any]:
    return {
        "status": getattr(row, f"{prefix}_status"),
        "grade": getattr(row, f"{prefix}_grade"),
        "reasons": reasons(getattr(row, f"{prefix}_reasons")),
        "missing": missing(getattr(row, f"{prefix}_missing")),
        "criteria": getattr(row, f"{prefix}_criteria"),
    }


def _agreement(
    crs: Mapping[str, Any], icans: Mapping[str, Any], recorded: Mapping[str, Any]
) -> dict[str, str]:
    return {
        "crs": adapters.agreement(crs["status"], crs["grade"], recorded.get("recorded_crs_grade")),
        "icans": adapters.agreement(
            icans["status"], icans["grade"], recorded.get("recorded_icans_grade")
        ),
    }


def assessment_out(row: DailyAssessment, patient: Patient) -> dict[str, Any]:
    """A recorded day: its observations and the grades stored with it."""
    observations = {name: getattr(row, name) for name in adapters.OBSERVATION_FIELDS}
    crs = _stored_grade(row, "crs")
    icans = {
        **_stored_grade(row, "icans"),
        "ice_score": row.icans_ice_score,
        "capd_score": row.icans_capd_score,
    }
    return {
        **observations,
        "id": row.pk,
        "patient_id": patient.pk,
        "infusion_id": row.infusion_id,
        "day": row.day,
        "crs": crs,
        "icans": icans,
        "fever_waiver": {
            "crs_previously_diagnosed": row.crs_previously_diagnosed,
            "antipyretic_or_anticytokine_given": row.antipyretic_or_anticytokine_given,
        },
        "agreement": _agreement(crs, icans, observations),
        "is_synthetic": patient.is_synthetic,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _result_grade(result: RuleResult, grade: int | None) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "grade": grade,
        "reasons": reasons(result.reasons),
        "missing": missing(result.missing),
        "criteria": result.criteria.label,
    }


def preview_out(
    graded: GradedAssessment, day: int, infusion_id: int, observations: Mapping[str, Any]
) -> dict[str, Any]:
    """The grades a day would get (nothing saved)."""
    crs = _result_grade(graded.crs, graded.crs.grade)
    icans = {
        **_result_grade(graded.icans, graded.icans.grade),
        "ice_score": graded.icans.ice_score,
        "capd_score": graded.icans.capd_score,
    }
    return {
        "day": day,
        "infusion_id": infusion_id,
        "crs": crs,
        "icans": icans,
        "fever_waiver": {
            "crs_previously_diagnosed": graded.waiver.crs_previously_diagnosed,
            "antipyretic_or_anticytokine_given": graded.waiver.antipyretic_or_anticytokine_given,
        },
        "agreement": _agreement(crs, icans, observations),
        "problems": graded.problems(),
    }


RESPONSE_FIELDS = ("id", "assessed_on", "day", "criteria", "category", "mrd", "infusion_id")


def response_out(row: ResponseAssessment, patient: Patient) -> dict[str, Any]:
    """A response assessment."""
    values = {name: getattr(row, name) for name in RESPONSE_FIELDS}
    return {**values, "patient_id": patient.pk, "is_synthetic": patient.is_synthetic}


def recorded_visit_out(row: FollowUpVisit, patient: Patient) -> dict[str, Any]:
    """A recorded follow-up visit."""
    return {
        "id": row.pk,
        "patient_id": patient.pk,
        "infusion_id": row.infusion_id,
        "visit": row.visit,
        "done_on": row.done_on,
        "is_synthetic": patient.is_synthetic,
    }
