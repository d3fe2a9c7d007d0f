"""The daily post-infusion assessment: Appendix A observations, labs, recorded and computed
grades (CIBMTR form 4100 toxicity section; reference Appendix A for the field names)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from carta.clinical import units
from carta.clinical.scores.capd import CAPD_MAX_SCORE
from carta.clinical.scores.ice import BINARY_ITEM_MAX, ICE_MAX_SCORE, NAMING_ITEM_MAX
from carta.web.registry import choices
from carta.web.registry.models.patient import Patient
from carta.web.registry.models.treatment import Infusion
from carta.web.registry.validators import between, validate_vasopressors, within

FIRST_DAY = -30  # baseline labs before lymphodepletion are recorded as negative days
LAST_DAY = int(units.DAY_AFTER_INFUSION_RANGE.high)
MAX_GRADE = 5
IL6_MAX_PG_ML = 1_000_000.0


def _flag(label: Any, **kwargs: Any) -> Any:
    """A yes/no observation; ``None`` = unknown."""
    return models.BooleanField(label, null=True, blank=True, **kwargs)


def _word(label: Any, options: choices.Choices, **kwargs: Any) -> Any:
    """An Appendix A word; ``None`` = unknown (the empty string is not a word)."""
    return models.CharField(label, max_length=64, choices=options, null=True, blank=True, **kwargs)


def _count(label: Any, maximum: int, **kwargs: Any) -> Any:
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=between(0, maximum), **kwargs
    )


def _lab(label: Any, bounds: units.PlausibleRange | None = None) -> Any:
    validators = within(bounds) if bounds else between(0, IL6_MAX_PG_ML)
    return models.FloatField(label, null=True, blank=True, validators=validators)


def _computed(field: Any) -> Any:
    field.editable = False
    return field


class DailyAssessment(models.Model):
    """One patient-day after an infusion: what was observed, and the grades.

    Observation fields use the reference's Appendix A names (ICE and CAPD items prefixed
    ``ice_`` / ``capd_``); ``None`` means unknown, never "normal". ``vasopressors`` is a JSON
    list (``[]`` = none). The ``crs_*`` and ``icans_*`` fields are computed by the service
    with :mod:`carta.clinical` and stored with the criteria version; the ``recorded_*`` grades
    are what a clinician wrote, kept to show disagreement. ``crs_previously_diagnosed`` and
    ``antipyretic_or_anticytokine_given`` are derived from the patient's earlier days and
    treatments (the fever waiver, reference a.2), not entered.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("patient")
    )
    infusion = models.ForeignKey(
        Infusion, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("infusion")
    )
    day = models.SmallIntegerField(_("day after infusion"), validators=between(FIRST_DAY, LAST_DAY))

    # --- CRS (reference section a) ---------------------------------------------------------
    temperature_c = models.FloatField(
        _("temperature (°C)"), null=True, blank=True, validators=within(units.TEMPERATURE_C_RANGE)
    )
    fever_attributable_to_other_cause = _flag(_("fever due to another cause"))
    hypotension = _word(_("hypotension"), choices.HYPOTENSION)
    vasopressors = models.JSONField(
        _("vasopressors"), null=True, blank=True, validators=[validate_vasopressors]
    )
    hypotension_attributable_to_other_cause = _flag(_("hypotension due to another cause"))
    oxygen_device = _word(_("oxygen device"), choices.OXYGEN_DEVICES)
    oxygen_flow_l_min = models.FloatField(
        _("oxygen flow (L/min)"), null=True, blank=True, validators=within(units.OXYGEN_FLOW_RANGE)
    )
    hypoxia_attributable_to_other_cause = _flag(_("hypoxia due to another cause"))
    died_due_to_crs = _flag(_("died due to CRS"))

    # --- ICANS (reference section b) -------------------------------------------------------
    developmental_delay = _flag(_("developmental delay"))
    tool = _word(_("encephalopathy tool"), choices.ICANS_TOOLS)
    ice_score = _count(_("ICE score"), ICE_MAX_SCORE)
    ice_orientation_year = _count(_("ICE: oriented to year"), BINARY_ITEM_MAX)
    ice_orientation_month = _count(_("ICE: oriented to month"), BINARY_ITEM_MAX)
    ice_orientation_city = _count(_("ICE: oriented to city"), BINARY_ITEM_MAX)
    ice_orientation_hospital = _count(_("ICE: oriented to hospital"), BINARY_ITEM_MAX)
    ice_naming_objects_correct = _count(_("ICE: objects named (0-3)"), NAMING_ITEM_MAX)
    ice_follows_commands = _count(_("ICE: follows commands"), BINARY_ITEM_MAX)
    ice_writes_sentence = _count(_("ICE: writes a sentence"), BINARY_ITEM_MAX)
    ice_counts_back_by_10 = _count(_("ICE: counts back by 10"), BINARY_ITEM_MAX)
    ice_not_performable_reason = _word(
        _("ICE not performed because"), choices.NOT_PERFORMABLE_REASONS
    )
    capd_score = _count(_("CAPD score"), CAPD_MAX_SCORE)
    capd_eye_contact = _word(_("CAPD: eye contact"), choices.CAPD_FREQUENCIES)
    capd_purposeful_actions = _word(_("CAPD: purposeful actions"), choices.CAPD_FREQUENCIES)
    capd_aware_of_surroundings = _word(_("CAPD: aware of surroundings"), choices.CAPD_FREQUENCIES)
    capd_communicates_needs = _word(_("CAPD: communicates needs"), choices.CAPD_FREQUENCIES)
    capd_restless = _word(_("CAPD: restless"), choices.CAPD_FREQUENCIES)
    capd_inconsolable = _word(_("CAPD: inconsolable"), choices.CAPD_FREQUENCIES)
    capd_underactive = _word(_("CAPD: underactive"), choices.CAPD_FREQUENCIES)
    capd_slow_to_respond = _word(_("CAPD: slow to respond"), choices.CAPD_FREQUENCIES)
    capd_not_performable_reason = _word(
        _("CAPD not performed because"), choices.NOT_PERFORMABLE_REASONS
    )
    consciousness = _word(_("level of consciousness"), choices.CONSCIOUSNESS)
    consciousness_attributable_to_other_cause = _flag(
        _("depressed consciousness due to another cause")
    )
    seizure = _word(_("seizure"), choices.SEIZURE)
    motor = _word(_("motor findings"), choices.MOTOR)
    icp_edema = _word(_("raised ICP / cerebral edema"), choices.ICP_EDEMA)
    died_due_to_icans = _flag(_("died due to ICANS"))

    # --- labs (canonical units, reference section 0.1) -------------------------------------
    anc_per_ul = _lab(_("ANC (/µL)"), units.CELL_COUNT_RANGE)
    platelets_per_ul = _lab(_("platelets (/µL)"), units.PLATELET_RANGE)
    hemoglobin_g_dl = _lab(_("hemoglobin (g/dL)"), units.HEMOGLOBIN_RANGE)
    crp_mg_dl = _lab(_("CRP (mg/dL)"), units.CRP_RANGE)
    ferritin_ng_ml = _lab(_("ferritin (ng/mL)"), units.FERRITIN_RANGE)
    ldh_u_l = _lab(_("LDH (U/L)"), units.LDH_RANGE)
    creatinine_mg_dl = _lab(_("creatinine (mg/dL)"), units.CREATININE_RANGE)
    il6_pg_ml = _lab(_("IL-6 (pg/mL)"))

    # --- grades a clinician recorded --------------------------------------------------------
    recorded_crs_grade = _count(_("recorded CRS grade"), MAX_GRADE)
    recorded_icans_grade = _count(_("recorded ICANS grade"), MAX_GRADE)

    # --- derived and computed by the service (never entered) -------------------------------
    crs_previously_diagnosed = _computed(_flag(_("CRS met on an earlier day")))
    antipyretic_or_anticytokine_given = _computed(
        _flag(_("antipyretic or anti-cytokine therapy given after CRS"))
    )
    crs_status = _computed(_word(_("CRS grading status"), choices.GradeStatus.choices))
    crs_grade = _computed(_count(_("computed CRS grade"), MAX_GRADE))
    crs_reasons = _computed(models.JSONField(_("CRS reasons"), default=list, blank=True))
    crs_missing = _computed(models.JSONField(_("CRS missing inputs"), default=list, blank=True))
    crs_criteria = _computed(models.CharField(_("CRS criteria"), max_length=64, blank=True))
    icans_status = _computed(_word(_("ICANS grading status"), choices.GradeStatus.choices))
    icans_grade = _computed(_count(_("computed ICANS grade"), MAX_GRADE))
    icans_ice_score = _computed(_count(_("ICE score used"), ICE_MAX_SCORE))
    icans_capd_score = _computed(_count(_("CAPD score used"), CAPD_MAX_SCORE))
    icans_reasons = _computed(models.JSONField(_("ICANS reasons"), default=list, blank=True))
    icans_missing = _computed(models.JSONField(_("ICANS missing inputs"), default=list, blank=True))
    icans_criteria = _computed(models.CharField(_("ICANS criteria"), max_length=64, blank=True))

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("daily assessment")
        verbose_name_plural = _("daily assessments")
        ordering = ("infusion_id", "day")
        constraints = (
            models.UniqueConstraint(
                fields=["patient", "infusion", "day"], name="assessment_one_per_infusion_day"
            ),
            models.CheckConstraint(
                condition=Q(day__gte=FIRST_DAY) & Q(day__lte=LAST_DAY),
                name="assessment_day_in_range",
            ),
            models.CheckConstraint(
                condition=(Q(crs_grade__isnull=True) | Q(crs_grade__lte=MAX_GRADE))
                & (Q(icans_grade__isnull=True) | Q(icans_grade__lte=MAX_GRADE)),
                name="assessment_computed_grades_0_to_5",
            ),
        )

    def __str__(self) -> str:
        return f"day {self.day}"
