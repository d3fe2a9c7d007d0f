"""Response assessments, follow-up visits and death (CIBMTR form 4100)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from carta.clinical.followup import VISIT_KEYS
from carta.web.registry.models.assessment import FIRST_DAY, LAST_DAY
from carta.web.registry.models.patient import Patient
from carta.web.registry.models.treatment import Infusion
from carta.web.registry.validators import between


class ResponseCriteria(models.TextChoices):
    """The response criteria system used (reference section i)."""

    LUGANO_2014 = "lugano_2014", _("Lugano 2014 (lymphoma)")
    IMWG_2016 = "imwg_2016", _("IMWG 2016 (myeloma)")
    B_ALL = "b_all", _("B-ALL")
    IWCLL_2018 = "iwcll_2018", _("iwCLL 2018")


class ResponseCategory(models.TextChoices):
    """Response categories of every system; :data:`CATEGORIES_BY_CRITERIA` says which apply."""

    CMR = "cmr", _("complete metabolic response")
    PMR = "pmr", _("partial metabolic response")
    NMR = "nmr", _("no metabolic response")
    PMD = "pmd", _("progressive metabolic disease")
    SCR = "scr", _("stringent complete response")
    CR = "cr", _("complete response")
    CRI = "cri", _("complete response with incomplete count recovery")
    CRH = "crh", _("complete response with partial haematological recovery")
    VGPR = "vgpr", _("very good partial response")
    PR = "pr", _("partial response")
    MR = "mr", _("minimal response")
    SD = "sd", _("stable disease")
    NR = "nr", _("no response")
    PD = "pd", _("progressive disease or relapse")


CATEGORIES_BY_CRITERIA: dict[str, tuple[str, ...]] = {
    "lugano_2014": ("cmr", "pmr", "nmr", "pmd", "cr", "pr", "sd", "pd"),
    "imwg_2016": ("scr", "cr", "vgpr", "pr", "mr", "sd", "pd"),
    "b_all": ("cr", "cri", "crh", "nr", "pd"),
    "iwcll_2018": ("cr", "cri", "pr", "sd", "pd"),
}


class MrdStatus(models.TextChoices):
    """Measurable residual disease at the assessment."""

    NEGATIVE = "negative", _("negative")
    POSITIVE = "positive", _("positive")
    NOT_DONE = "not_done", _("not done")


def _category_matches_criteria() -> Q:
    condition = Q(pk__in=[])
    for criteria, categories in CATEGORIES_BY_CRITERIA.items():
        condition |= Q(criteria=criteria, category__in=categories)
    return condition


class ResponseAssessment(models.Model):
    """A disease response assessment after the infusion, by one criteria system.

    The database refuses a category that does not belong to the criteria (a VGPR under
    Lugano).
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="responses", verbose_name=_("patient")
    )
    infusion = models.ForeignKey(
        Infusion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
        verbose_name=_("infusion"),
    )
    assessed_on = models.DateField(_("assessed on"))
    day = models.SmallIntegerField(
        _("day after infusion"), null=True, blank=True, validators=between(FIRST_DAY, LAST_DAY)
    )
    criteria = models.CharField(_("criteria"), max_length=12, choices=ResponseCriteria.choices)
    category = models.CharField(_("response"), max_length=4, choices=ResponseCategory.choices)
    mrd = models.CharField(_("MRD"), max_length=8, choices=MrdStatus.choices, blank=True)

    class Meta:
        verbose_name = _("response assessment")
        verbose_name_plural = _("response assessments")
        ordering = ("assessed_on", "pk")
        constraints = (
            models.CheckConstraint(
                condition=_category_matches_criteria(),
                name="response_category_belongs_to_criteria",
                violation_error_message=_("This response category is not one of these criteria."),
            ),
        )

    def __str__(self) -> str:
        return f"{self.criteria} {self.category} {self.assessed_on}"


def _visit_label(key: str) -> object:
    fixed = {"day_28": _("Day 28"), "day_100": _("Day 100"), "month_6": _("6 months")}
    if key in fixed:
        return fixed[key]
    years = int(key.removeprefix("year_"))
    return _("1 year") if years == 1 else format_lazy(_("{years} years"), years=years)


VISIT_CHOICES = [(key, _visit_label(key)) for key in VISIT_KEYS]


class FollowUpVisit(models.Model):
    """A scheduled follow-up visit (CIBMTR schedule: day 28, day 100, 6 months, yearly to 15
    years) and the date it was done. Due and overdue visits are computed, not stored."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="visits", verbose_name=_("patient")
    )
    infusion = models.ForeignKey(
        Infusion, on_delete=models.PROTECT, related_name="visits", verbose_name=_("infusion")
    )
    visit = models.CharField(_("visit"), max_length=8, choices=VISIT_CHOICES)
    done_on = models.DateField(_("done on"))

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ("infusion_id", "done_on")
        constraints = (
            models.UniqueConstraint(fields=["infusion", "visit"], name="visit_once_per_infusion"),
        )

    def __str__(self) -> str:
        return f"{self.visit} {self.done_on}"


class DeathCause(models.TextChoices):
    """Primary cause of death (CIBMTR 4100 cause-of-death groups, simplified)."""

    CRS = "crs", _("cytokine release syndrome")
    ICANS = "icans", _("ICANS")
    IEC_HS = "iec_hs", _("IEC-HS")
    INFECTION = "infection", _("infection")
    PROGRESSION = "progression", _("disease progression or relapse")
    SECOND_MALIGNANCY = "second_malignancy", _("second malignancy")
    OTHER = "other", _("other")
    UNKNOWN = "unknown", _("unknown")


class Death(models.Model):
    """The patient's death: date and primary cause."""

    patient = models.OneToOneField(
        Patient, on_delete=models.PROTECT, related_name="death", verbose_name=_("patient")
    )
    died_on = models.DateField(_("date of death"))
    cause = models.CharField(_("cause"), max_length=20, choices=DeathCause.choices)
    cause_detail = models.CharField(_("details"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("death")
        verbose_name_plural = _("deaths")

    def __str__(self) -> str:
        return f"died {self.died_on}"
