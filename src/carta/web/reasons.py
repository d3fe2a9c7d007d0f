"""The reason codes of :mod:`carta.clinical` results in words, in English and Simplified Chinese.

Every rule returns machine-readable reason codes (``crs.fever``, ``icans.ice.2``,
``dose.above_label_max`` ...; ``docs/criteria/*.md`` lists them). The web layer shows them as
sentences through :func:`reason_text`; the sentences are gettext messages, so the Chinese text
lives in the ``zh_Hans`` catalogue with the rest of the interface (ADR 0234). Codes built from
parts - ``invalid:<field>`` and ``ctcae.<term>.<band>`` - are put together from translated
parts. A code without a sentence is shown as the code itself, never hidden; a test asserts
that every code the rules can emit has one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

INVALID_PREFIX = "invalid:"
CTCAE_PREFIX = "ctcae."

REASON_TEXT: dict[str, Promise] = {
    # --- CRS, ASTCT 2019 (docs/criteria/crs.md) -------------------------------------------------
    "crs.died": _("Death due to CRS (grade 5)."),
    "crs.fever": _("Fever of 38.0 °C or more, not attributed to another cause."),
    "crs.fever.other_cause": _("Fever attributed to another cause: not counted."),
    "crs.fever_waiver": _(
        "No fever now, but CRS was present before and antipyretic or anti-cytokine therapy "
        "was given: graded on hypotension and hypoxia."
    ),
    "crs.no_fever": _("No qualifying fever: no CRS (grade 0)."),
    "crs.hypotension.fluids": _("Hypotension not requiring vasopressors (grade 2)."),
    "crs.hypotension.one_vasopressor": _(
        "Hypotension requiring one vasopressor, with or without vasopressin (grade 3)."
    ),
    "crs.hypotension.multiple_vasopressors": _(
        "Hypotension requiring several vasopressors, excluding vasopressin (grade 4)."
    ),
    "crs.hypotension.other_cause": _("Hypotension attributed to another cause: not counted."),
    "crs.hypoxia.low_flow": _(
        "Hypoxia requiring low-flow nasal cannula (up to 6 L/min) or blow-by oxygen (grade 2)."
    ),
    "crs.hypoxia.high_flow": _(
        "Hypoxia requiring high-flow nasal cannula, face mask, non-rebreather or Venturi mask "
        "(grade 3)."
    ),
    "crs.hypoxia.positive_pressure": _(
        "Hypoxia requiring positive pressure: CPAP, BiPAP or mechanical ventilation (grade 4)."
    ),
    "crs.hypoxia.other_cause": _("Oxygen given for hypoxia of another cause: not counted."),
    # --- ICANS, ASTCT 2019 ---------------------------------------------------------------------
    "icans.died": _("Death due to ICANS (grade 5)."),
    "icans.ice.1": _("ICE score 7-9 (grade 1)."),
    "icans.ice.2": _("ICE score 3-6 (grade 2)."),
    "icans.ice.3": _("ICE score 0-2 (grade 3)."),
    "icans.ice.4": _("Unarousable: ICE cannot be performed (grade 4)."),
    "icans.capd.1": _("CAPD score 1-8 (grade 1)."),
    "icans.capd.3": _("CAPD score 9 or more (grade 3)."),
    "icans.capd.4": _("Unarousable: CAPD cannot be performed (grade 4)."),
    "icans.consciousness.spontaneous": _("Awakens spontaneously (grade 1)."),
    "icans.consciousness.voice": _("Awakens to voice (grade 2)."),
    "icans.consciousness.tactile": _("Awakens only to tactile stimulus (grade 3)."),
    "icans.consciousness.unarousable": _(
        "Unarousable or needs vigorous or repetitive stimuli; stupor or coma (grade 4)."
    ),
    "icans.consciousness.other_cause": _(
        "Depressed consciousness attributed to another cause: not counted."
    ),
    "icans.seizure.rapidly_resolving": _(
        "Seizure resolving rapidly, or non-convulsive seizure on EEG resolving with "
        "intervention (grade 3)."
    ),
    "icans.seizure.prolonged": _(
        "Prolonged seizure (over 5 minutes) or repetitive seizures without return to baseline "
        "(grade 4)."
    ),
    "icans.motor.tremor_or_myoclonus_not_counted": _(
        "Tremor or myoclonus only: not counted for ICANS."
    ),
    "icans.motor.deep_focal_weakness": _(
        "Deep focal motor weakness such as hemiparesis or paraparesis (grade 4)."
    ),
    "icans.edema.focal": _("Focal or local edema on neuroimaging (grade 3)."),
    "icans.edema.diffuse": _(
        "Diffuse cerebral edema, posturing, cranial nerve VI palsy, papilledema or Cushing's "
        "triad (grade 4)."
    ),
    "icans.edema.hemorrhage_not_counted": _(
        "Intracranial hemorrhage without edema: not counted for ICANS."
    ),
    # --- labelled cell dose (docs/products.md) ---------------------------------------------------
    "dose.within_label": _("Cell dose within the labelled range."),
    "dose.above_label_max": _("Cell dose above the labelled maximum."),
    "dose.below_label_min": _("Cell dose below the labelled minimum."),
    "dose.per_kg_cap_applied": _(
        "The per-kg maximum exceeds the label's cap for this weight: the cap was applied."
    ),
    "dose.weight_band.per_kg": _("The label's weight band for this patient doses per kg."),
    "dose.weight_band.flat": _("The label's weight band for this patient is a flat dose."),
    "dose.label_minimum_not_stated": _("The label states no minimum dose."),
    "dose.below_target": _("Cell dose below the label's target dose."),
    "dose.label_unverified": _(
        "The labelled dose for this product and region is not verified: not checked."
    ),
    "dose.no_label": _("No label for this product, indication and region: not checked."),
    "dose.label_overall_range_only": _(
        "Only the label's overall range is known, not this indication's."
    ),
    "dose.weight_required": _("The patient's weight is needed to check a per-kg dose."),
    "dose.dose_required": _("No cell dose was entered: not checked."),
    "dose.split_unverified": _("The per-infusion amounts of the split dose are not verified."),
    "dose.infusion_count_outside_label": _("The number of infusions differs from the label."),
    "dose.infusion_day_outside_label": _("The second infusion is outside the label's schedule."),
    "dose.superseded_label": _("Checked against the label edition in force on the infusion date."),
    "dose.disease_unknown": _("The indication is not known (record the diagnosis): not checked."),
    "dose.region_unknown": _("No regulatory label applies in the center's country: not checked."),
    # --- body surface area ---------------------------------------------------------------------
    "bsa.mosteller": _("Body surface area by the Mosteller formula."),
    "bsa.missing_input": _("Weight and height are needed for the body surface area."),
    # --- CAR-HEMATOTOX (docs/criteria/car-hematotox.md) --------------------------------------
    "car_hematotox.platelets_75000_to_175000": _("Platelets 75 000-175 000/µL: 1 point."),
    "car_hematotox.platelets_lt_75000": _("Platelets below 75 000/µL: 2 points."),
    "car_hematotox.anc_lt_1200": _("ANC below 1200/µL: 1 point."),
    "car_hematotox.hemoglobin_lt_9_0": _("Hemoglobin below 9.0 g/dL: 1 point."),
    "car_hematotox.crp_gt_3_0": _("CRP above 3.0 mg/dL: 1 point."),
    "car_hematotox.ferritin_650_to_2000": _("Ferritin 650-2000 ng/mL: 1 point."),
    "car_hematotox.ferritin_gt_2000": _("Ferritin above 2000 ng/mL: 2 points."),
    # --- EASIX and m-EASIX (docs/criteria/easix.md) ------------------------------------------
    "easix.platelets_zero": _("Platelets are 0: EASIX is undefined."),
    "easix.log2_undefined": _("EASIX is 0: its log2 is undefined."),
    "easix.above_korell_4_67": _(
        "EASIX above 4.67: associated with severe CRS or ICANS (Korell 2022)."
    ),
    "m_easix.platelets_zero": _("Platelets are 0: m-EASIX is undefined."),
    "m_easix.log2_undefined": _("m-EASIX is 0: its log2 is undefined."),
    # --- CTCAE v5 fever and febrile neutropenia, IgG (docs/criteria/ctcae.md) -----------------
    "ctcae.fever.lt_38_0": _("Maximum temperature below 38.0 °C (grade 0)."),
    "ctcae.fever.from_38_0_to_39_0": _("Temperature 38.0-39.0 °C (grade 1)."),
    "ctcae.fever.gt_39_0_to_40_0": _("Temperature above 39.0 up to 40.0 °C (grade 2)."),
    "ctcae.fever.gt_40_0_le_24_h": _("Temperature above 40.0 °C for 24 hours or less (grade 3)."),
    "ctcae.fever.gt_40_0_gt_24_h": _("Temperature above 40.0 °C for more than 24 hours (grade 4)."),
    "ctcae.febrile_neutropenia.anc_lt_1000": _("ANC below 1000/µL."),
    "ctcae.febrile_neutropenia.single_temperature_gt_38_3": _(
        "A single temperature above 38.3 °C."
    ),
    "ctcae.febrile_neutropenia.sustained_ge_38_0_gt_60_min": _(
        "Temperature of 38.0 °C or more for over an hour."
    ),
    "ctcae.febrile_neutropenia.anc_ge_1000": _("ANC 1000/µL or more: no febrile neutropenia."),
    "ctcae.febrile_neutropenia.no_qualifying_fever": _(
        "No qualifying fever: no febrile neutropenia."
    ),
    "igg.le_400_mg_dl": _("IgG 400 mg/dL or less: severe hypogammaglobulinemia."),
    "igg.gt_400_mg_dl": _("IgG above 400 mg/dL."),
    # --- ICAHT (docs/criteria/icaht.md) ------------------------------------------------------
    "icaht.early.no_day_le_500": _("No day with ANC 500/µL or less (grade 0)."),
    "icaht.early.d500_ge_1": _("1-6 days with ANC 500/µL or less."),
    "icaht.early.d500_ge_7": _("7-13 days with ANC 500/µL or less."),
    "icaht.early.d500_ge_14": _("14 days or more with ANC 500/µL or less."),
    "icaht.early.d100_ge_7": _("7-13 days with ANC 100/µL or less (grade 3)."),
    "icaht.early.d100_ge_14": _("14 days or more with ANC 100/µL or less (grade 4)."),
    "icaht.early.never_recovered": _(
        "ANC 500/µL or less from day 3 or earlier and never recovered (grade 4)."
    ),
    "icaht.early.non_stable_recovery": _("A recovery of only 1-2 days was counted as still low."),
    "icaht.early.unmeasured_days_do_not_change_grade": _(
        "Some days were not measured, but they cannot change the grade."
    ),
    "icaht.early.grade_depends_on_unmeasured_days": _(
        "The grade depends on days that were not measured."
    ),
    "icaht.late.other_cause": _("Cytopenia attributed to another cause: not ICAHT (grade 0)."),
    "icaht.late.ignored_day_le_30": _("Measurements on days 0-30 are left to early ICAHT."),
    "icaht.late.anc_le_100_on_2_days": _("ANC 100/µL or less on 2 days after day 30 (grade 4)."),
    "icaht.late.anc_le_500_on_2_days": _("ANC 500/µL or less on 2 days after day 30 (grade 3)."),
    "icaht.late.anc_le_1000_on_2_days": _("ANC 1000/µL or less on 2 days after day 30 (grade 2)."),
    "icaht.late.anc_le_1500_on_2_days": _("ANC 1500/µL or less on 2 days after day 30 (grade 1)."),
    "icaht.late.anc_le_1500_on_fewer_than_2_days": _(
        "ANC 1500/µL or less on fewer than 2 days after day 30 (grade 0)."
    ),
    "icaht.late.lowest_of_day_used": _("Where a day had several values, its lowest was used."),
    "icaht.late.unknown_values_do_not_change_grade": _(
        "Some values are unknown, but they cannot change the grade."
    ),
    "icaht.late.fewer_than_2_days_after_day_30": _("Fewer than 2 days measured after day 30."),
    "icaht.late.grade_depends_on_unknown_values": _("The grade depends on unknown values."),
    "icaht.late.attribution_unknown": _("Whether another cause explains the cytopenia is unknown."),
    # --- cellular kinetics (docs/criteria/kinetics.md) ----------------------------------------
    "kinetics.blq_set_to_zero": _("Levels below the quantification limit were counted as 0."),
    "kinetics.tmax.earliest_of_ties": _("The peak was reached on several days: the earliest."),
    "kinetics.auc.linear": _("AUC by the linear trapezoidal rule."),
    "kinetics.auc.linear_up_log_down": _("AUC by the linear-up, log-down trapezoidal rule."),
    "kinetics.auc.day_0_level_taken_as_0": _("No day-0 sample: the curve starts from 0."),
    "kinetics.auc.no_sample_at_window_end": _(
        "No sample at the end of the window: AUC to day 28 not computed."
    ),
    "kinetics.tlast.no_quantifiable_level": _("No quantifiable level."),
    "kinetics.no_samples": _("No samples."),
    "kinetics.unknown_sample_values": _("Some sample values are unknown."),
    "kinetics.no_sample_in_window": _("No sample inside the window."),
}

# CTCAE laboratory codes are ``ctcae.<term>.<band>``: a term and a band, each translated.
CTCAE_TERM_TEXT: dict[str, Promise] = {
    "neutrophil_count_decreased": _("Neutrophil count decreased"),
    "platelet_count_decreased": _("Platelet count decreased"),
    "anemia": _("Anemia"),
    "white_blood_cell_decreased": _("White blood cell decreased"),
    "lymphocyte_count_decreased": _("Lymphocyte count decreased"),
}
CTCAE_BAND_TEXT: dict[str, Promise] = {
    "below_grade_4_cutoff": _("below the grade 4 cut-off (grade 4)"),
    "below_grade_3_cutoff": _("below the grade 3 cut-off (grade 3)"),
    "below_grade_2_cutoff": _("below the grade 2 cut-off (grade 2)"),
    "below_lln": _("below the lower limit of normal (grade 1)"),
    "not_below_lln": _("not below the lower limit of normal (grade 0)"),
}

# Names of rule inputs that are not fields of a registry model (Appendix A spellings and the
# inputs the services derive), for "missing" lists and ``invalid:<field>`` codes.
FIELD_TEXT: dict[str, Promise] = {
    "age_years": _("age"),
    "temperature_f": _("temperature (°F)"),
    "crs_previously_diagnosed": _("CRS met on an earlier day"),
    "antipyretic_or_anticytokine_given": _("antipyretic or anti-cytokine therapy given after CRS"),
    "ice_items": _("ICE items"),
    "capd_items": _("CAPD items"),
    "product": _("product"),
    "disease": _("disease"),
    "region": _("regulatory region"),
    "total_cells": _("cell dose, total"),
    "cells_per_kg": _("cell dose per kg"),
    "weight_kg": _("weight (kg)"),
    "height_cm": _("height (cm)"),
    "infusion_days": _("infusion days"),
    "infusion_cells": _("cells per infusion"),
    "infusion_date": _("infusion date"),
    "platelets_per_uL": _("platelets (/µL)"),
    "platelets_10e9_L": _("platelets (×10⁹/L)"),
    "anc_per_uL": _("ANC (/µL)"),
    "anc_10e9_L": _("ANC (×10⁹/L)"),
    "hemoglobin_g_dL": _("hemoglobin (g/dL)"),
    "hemoglobin_g_L": _("hemoglobin (g/L)"),
    "crp_mg_dL": _("CRP (mg/dL)"),
    "crp_mg_L": _("CRP (mg/L)"),
    "ferritin_ng_mL": _("ferritin (ng/mL)"),
    "ferritin_ug_L": _("ferritin (µg/L)"),
    "ldh_U_L": _("LDH (U/L)"),
    "creatinine_mg_dL": _("creatinine (mg/dL)"),
    "creatinine_umol_L": _("creatinine (µmol/L)"),
}

# Words of other clinical results the pages show.
AGREEMENT_TEXT: dict[str, Promise] = {
    "agree": _("agrees"),
    "disagree": _("differs from the computed grade"),
    "not_recorded": _("not recorded"),
    "not_determinable": _("cannot be compared"),
}
VISIT_STATUS_TEXT: dict[str, Promise] = {
    "done": _("done"),
    "due": _("due"),
    "overdue": _("overdue"),
    "upcoming": _("upcoming"),
    "not_applicable": _("not applicable"),
}
RISK_GROUP_TEXT: dict[str, Promise] = {"low": _("low risk"), "high": _("high risk")}


def field_label(name: str) -> str:
    """A rule input or model field name in words: the daily assessment's field label where
    the rule input is one (``ice_items.orientation_year`` -> "ICE: oriented to year")."""
    from carta.web.registry import adapters
    from carta.web.registry.models import DailyAssessment

    if name in FIELD_TEXT:
        return str(FIELD_TEXT[name])
    model_name = adapters.MODEL_FIELDS.get(name, name)
    try:
        return str(DailyAssessment._meta.get_field(model_name).verbose_name)
    except FieldDoesNotExist:  # shown as it is, never hidden
        return name


def _ctcae_text(code: str) -> str | None:
    term, _sep, band = code.removeprefix(CTCAE_PREFIX).rpartition(".")
    if term in CTCAE_TERM_TEXT and band in CTCAE_BAND_TEXT:
        return f"{CTCAE_TERM_TEXT[term]}: {CTCAE_BAND_TEXT[band]}"
    return None


def known(code: str) -> bool:
    """Does ``code`` have a sentence (or is it built from parts that do)?"""
    if code in REASON_TEXT:
        return True
    if code.startswith(INVALID_PREFIX):
        return True
    return code.startswith(CTCAE_PREFIX) and _ctcae_text(code) is not None


def reason_text(code: str) -> str:
    """The sentence for one reason code in the active language (the code when unknown)."""
    return _reason_text(get_language() or "", code)


@functools.lru_cache(maxsize=4096)
def _reason_text(language: str, code: str) -> str:
    """:func:`reason_text` for one language (``language`` keys the cache; a page shows the
    same few codes dozens of times)."""
    if code in REASON_TEXT:
        return str(REASON_TEXT[code])
    if code.startswith(INVALID_PREFIX):
        field = field_label(code.removeprefix(INVALID_PREFIX))
        return gettext("Invalid value: %(field)s.") % {"field": field}
    if code.startswith(CTCAE_PREFIX):
        text = _ctcae_text(code)
        if text is not None:
            return text
    return code


def reason_texts(codes: Iterable[Any]) -> list[str]:
    """:func:`reason_text` of each code, in order."""
    return [reason_text(str(code)) for code in codes or ()]


def missing_texts(fields: Iterable[Any]) -> list[str]:
    """The labels of the inputs a result lists as missing."""
    return [field_label(str(name)) for name in fields or ()]
