"""The disease treated (CIBMTR form 4000, primary disease for the cellular therapy)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from carta.web.registry.models.patient import Patient
from carta.web.registry.validators import between

MAX_PRIOR_LINES = 30


class Disease(models.TextChoices):
    """Indication groups; the values are those of :class:`carta.clinical.products.Disease`."""

    LBCL = "lbcl", _("large B-cell lymphoma")
    FL = "fl", _("follicular lymphoma")
    MCL = "mcl", _("mantle cell lymphoma")
    MZL = "mzl", _("marginal zone lymphoma")
    CLL = "cll", _("chronic lymphocytic leukaemia / SLL")
    B_ALL = "b_all", _("B-cell acute lymphoblastic leukaemia")
    MM = "mm", _("multiple myeloma")
    OTHER = "other", _("other")


class Subtype(models.TextChoices):
    """Histological or genetic subtype, where the disease has one that matters for CAR-T."""

    DLBCL_NOS = "dlbcl_nos", _("DLBCL, not otherwise specified")
    HGBCL = "hgbcl", _("high-grade B-cell lymphoma")
    PMBCL = "pmbcl", _("primary mediastinal B-cell lymphoma")
    TRANSFORMED_FL = "transformed_fl", _("transformed follicular lymphoma")
    FL_GRADE_3B = "fl_grade_3b", _("follicular lymphoma grade 3B")
    FL_GRADE_1_3A = "fl_grade_1_3a", _("follicular lymphoma grade 1-3A")
    MCL_CLASSIC = "mcl_classic", _("classic mantle cell lymphoma")
    MCL_BLASTOID = "mcl_blastoid", _("blastoid or pleomorphic mantle cell lymphoma")
    PH_POSITIVE = "ph_positive", _("Philadelphia-positive")
    PH_NEGATIVE = "ph_negative", _("Philadelphia-negative")
    HIGH_RISK_CYTOGENETICS = "high_risk_cytogenetics", _("high-risk cytogenetics")
    OTHER = "other", _("other")


class Stage(models.TextChoices):
    """Ann Arbor stage (lymphoma) or ISS/R-ISS stage (myeloma) at the cellular therapy."""

    I = "I", _("I")  # noqa: E741 - the stage's own name
    II = "II", _("II")
    III = "III", _("III")
    IV = "IV", _("IV")


class Antigen(models.TextChoices):
    """The CAR target antigen."""

    CD19 = "cd19", _("CD19")
    BCMA = "bcma", _("BCMA")
    CD22 = "cd22", _("CD22")
    OTHER = "other", _("other")


class AntigenStatus(models.TextChoices):
    """Expression of the target antigen on the tumour before infusion."""

    POSITIVE = "positive", _("positive")
    DIM = "dim", _("dim")
    NEGATIVE = "negative", _("negative")
    NOT_TESTED = "not_tested", _("not tested")


class Diagnosis(models.Model):
    """The disease for which the patient receives CAR-T, with prior therapy.

    ``None`` in a yes/no field means not known. ``prior_lines`` counts lines of therapy before
    the cellular therapy (CIBMTR 4000).
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="diagnoses", verbose_name=_("patient")
    )
    disease = models.CharField(_("disease"), max_length=8, choices=Disease.choices)
    subtype = models.CharField(_("subtype"), max_length=24, choices=Subtype.choices, blank=True)
    diagnosed_on = models.DateField(_("diagnosed on"), null=True, blank=True)
    stage = models.CharField(_("stage"), max_length=4, choices=Stage.choices, blank=True)
    prior_lines = models.PositiveSmallIntegerField(
        _("prior lines of therapy"), null=True, blank=True, validators=between(0, MAX_PRIOR_LINES)
    )
    prior_autologous_hct = models.BooleanField(_("prior autologous HCT"), null=True, blank=True)
    prior_allogeneic_hct = models.BooleanField(_("prior allogeneic HCT"), null=True, blank=True)
    prior_car_t = models.BooleanField(_("prior CAR-T therapy"), null=True, blank=True)
    target_antigen = models.CharField(
        _("target antigen"), max_length=8, choices=Antigen.choices, blank=True
    )
    target_antigen_status = models.CharField(
        _("target antigen status"), max_length=12, choices=AntigenStatus.choices, blank=True
    )

    class Meta:
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        ordering = ("pk",)

    def __str__(self) -> str:
        return str(self.get_disease_display())
