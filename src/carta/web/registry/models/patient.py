"""The patient (pseudonymous), their identifying fields (kept apart) and their consents.

CIBMTR form 4000 (pre-cellular therapy essential data), recipient section.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from carta.clinical.body import HEIGHT_CM_RANGE, WEIGHT_KG_RANGE
from carta.clinical.units import AGE_YEARS_RANGE
from carta.web.accounts.models import Center
from carta.web.registry.choices import Sex
from carta.web.registry.validators import between, within

EARLIEST_YEAR_OF_BIRTH = 1900
LATEST_YEAR_OF_BIRTH = 2100
REGISTRY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Patient(models.Model):
    """A patient of one center, known to the registry only by a pseudonymous ``registry_id``.

    Holds no identifying field (those live in :class:`PatientIdentity`): year of birth or age
    at infusion instead of the birth date. ``is_synthetic`` marks generated demo/test records,
    shown wherever the patient appears.
    """

    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="patients", verbose_name=_("center")
    )
    registry_id = models.CharField(
        _("registry ID"),
        max_length=32,
        validators=[RegexValidator(REGISTRY_ID_PATTERN)],
        help_text=_("Pseudonymous identifier, unique within the center."),
    )
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    year_of_birth = models.PositiveSmallIntegerField(
        _("year of birth"),
        null=True,
        blank=True,
        validators=between(EARLIEST_YEAR_OF_BIRTH, LATEST_YEAR_OF_BIRTH),
    )
    age_at_infusion = models.PositiveSmallIntegerField(
        _("age at infusion (years)"), null=True, blank=True, validators=within(AGE_YEARS_RANGE)
    )
    weight_kg = models.FloatField(
        _("weight (kg)"), null=True, blank=True, validators=within(WEIGHT_KG_RANGE)
    )
    height_cm = models.FloatField(
        _("height (cm)"), null=True, blank=True, validators=within(HEIGHT_CM_RANGE)
    )
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ("center_id", "registry_id")
        constraints = (
            models.UniqueConstraint(
                fields=["center", "registry_id"], name="patient_registry_id_unique_in_center"
            ),
            models.CheckConstraint(
                condition=Q(year_of_birth__isnull=False) | Q(age_at_infusion__isnull=False),
                name="patient_year_of_birth_or_age",
                violation_error_message=_("Give the year of birth or the age at infusion."),
            ),
        )

    def __str__(self) -> str:
        marker = " [synthetic]" if self.is_synthetic else ""
        return f"{self.registry_id}{marker}"


class PatientIdentity(models.Model):
    """The identifying fields of a patient, shown only to non-analyst members of the patient's
    own center (ADR 0205). One row per patient, absent when none were recorded."""

    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="identity", verbose_name=_("patient")
    )
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    national_id = models.CharField(_("national ID"), max_length=64, blank=True)
    medical_record_number = models.CharField(_("medical record number"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)

    class Meta:
        verbose_name = _("patient identity")
        verbose_name_plural = _("patient identities")

    def __str__(self) -> str:
        return f"identity of patient {self.patient_id}"


class ConsentType(models.TextChoices):
    """What a consent covers."""

    REGISTRY = "registry", _("registry participation")
    DATA_SHARING = "data_sharing", _("data sharing (CIBMTR/EBMT)")
    RESEARCH = "research", _("research use")
    LONG_TERM_FOLLOW_UP = "long_term_follow_up", _("15-year follow-up")


class Consent(models.Model):
    """A consent the patient signed, and its withdrawal if any."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="consents", verbose_name=_("patient")
    )
    consent_type = models.CharField(_("consent"), max_length=24, choices=ConsentType.choices)
    signed_on = models.DateField(_("signed on"))
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ("signed_on", "pk")
        constraints = (
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("signed_on")),
                name="consent_withdrawn_after_signed",
                violation_error_message=_("A consent is withdrawn on or after it was signed."),
            ),
        )

    def __str__(self) -> str:
        return f"{self.consent_type} {self.signed_on}"
