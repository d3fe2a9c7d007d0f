"""CTCAE v5.0 items used by the registry, one assessment at a time, and the IgG flag.

Reference section h (U.S. DHHS/NCI, CTCAE v5.0, 27 Nov 2017; lab thresholds as in the
pharmaverse *admiral* v5 grading metadata), with the global conventions of section 0 (units
0.1, status words 0.2, the determinacy rule 0.3, temperatures rounded half-up to 0.1 degC 0.4).

One :class:`CTCAEObservation` is one assessment: ``term`` says which item it grades.

* Lab terms (``neutrophil_count_decreased``, ``platelet_count_decreased``, ``anemia``,
  ``white_blood_cell_decreased``, ``lymphocyte_count_decreased``) read ``value`` in ``unit``
  and the laboratory's lower limit of normal ``lln`` (same unit). Every band's upper bound is
  strict: value < G4 cut -> 4, < G3 cut -> 3, < G2 cut -> 2 (no LLN needed), else < LLN -> 1,
  else 0; without the LLN a value not below the grade-2 cut cannot be graded. Anemia stops at
  grade 3 (grade 4 needs clinical data).
* ``fever`` reads ``max_temperature_c`` and ``hours_above_40``.
* ``febrile_neutropenia`` reads ``anc_per_uL``, ``max_single_temperature_c`` and
  ``longest_continuous_minutes_ge_38``; only grade 3 (or 0) is derivable from data.

:func:`flag_igg` sets ``igg_severe`` (serum IgG <= 400 mg/dL, Hill 2019; section h [S]).

The vectorised twin is :mod:`carta.analytics.rules.ctcae`; reason codes, units and [S] choices
are documented in ``docs/criteria/ctcae.md`` and ADRs 0167-0172.
"""

# The input fields keep the unit spelling of Appendix A (``anc_per_uL``, ``igg_mg_dL``).
# ruff: noqa: N815

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from carta.clinical import units
from carta.clinical.citations import CTCAE
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.vocabulary import CTCAE_LAB_TERMS

CRITERIA: Criteria = CTCAE
IGG_CRITERIA = Criteria(
    name="IgG severe hypogammaglobulinemia",
    version="carta-1",
    citation=(
        "Hill JA et al. Blood Rev 2019 (IgG replacement after CAR-T cell therapy); "
        "carta reference section h (the <= 400 mg/dL flag is a software convention)"
    ),
)

# --- vocabulary ---------------------------------------------------------------------------------
TERM_FEVER = "fever"
TERM_FEBRILE_NEUTROPENIA = "febrile_neutropenia"
# Every term an assessment row may carry, in a fixed order (the batch types ``term`` as an Enum
# in this order).
CTCAE_TERMS: tuple[str, ...] = (*CTCAE_LAB_TERMS, TERM_FEVER, TERM_FEBRILE_NEUTROPENIA)

# Units a lab row may carry [S] (section 0.1): counts in cells/uL (= /mm3) or x10^9/L
# (= x10^3/uL); hemoglobin in g/dL, g/L or mmol/L. "G/L" is not accepted: it differs from the
# hemoglobin unit "g/L" only by case.
UNIT_CELLS_PER_UL = "cells/uL"
UNIT_CELLS_PER_MM3 = "cells/mm3"
UNIT_10E9_PER_L = "10^9/L"
UNIT_10E3_PER_UL = "10^3/uL"
UNIT_G_DL = "g/dL"
UNIT_G_L = "g/L"
UNIT_MMOL_L = "mmol/L"
CTCAE_UNITS: tuple[str, ...] = (
    UNIT_CELLS_PER_UL,
    UNIT_CELLS_PER_MM3,
    UNIT_10E9_PER_L,
    UNIT_10E3_PER_UL,
    UNIT_G_DL,
    UNIT_G_L,
    UNIT_MMOL_L,
)

# --- thresholds (reference section h) -----------------------------------------------------------
# Lab bands [C] (admiral CTCAE v5 metadata); canonical units; each cut is a strict "<" bound.
ANC_GRADE_2_BELOW = 1500.0  # cells/uL
ANC_GRADE_3_BELOW = 1000.0
ANC_GRADE_4_BELOW = 500.0
PLATELETS_GRADE_2_BELOW = 75_000.0  # cells/uL
PLATELETS_GRADE_3_BELOW = 50_000.0
PLATELETS_GRADE_4_BELOW = 25_000.0
HEMOGLOBIN_GRADE_2_BELOW = 10.0  # g/dL
HEMOGLOBIN_GRADE_3_BELOW = 8.0  # lab-derived maximum is grade 3
WBC_GRADE_2_BELOW = 3000.0  # cells/uL
WBC_GRADE_3_BELOW = 2000.0
WBC_GRADE_4_BELOW = 1000.0
LYMPHOCYTES_GRADE_2_BELOW = 800.0  # cells/uL [P]
LYMPHOCYTES_GRADE_3_BELOW = 500.0
LYMPHOCYTES_GRADE_4_BELOW = 200.0
# Fever [P], in tenths of a degree after rounding half-up (section 0.4): < 38.0 -> no fever AE;
# 38.0-39.0 -> 1; > 39.0-40.0 -> 2; > 40.0 for <= 24 h -> 3; > 40.0 for > 24 h -> 4.
FEVER_FROM_DECI_C = 380
FEVER_GRADE_1_UP_TO_DECI_C = 390
FEVER_GRADE_2_UP_TO_DECI_C = 400
FEVER_GRADE_3_UP_TO_HOURS = 24.0
# Febrile neutropenia [P]: ANC < 1000/uL and either a single temperature > 38.3 degC or a
# temperature >= 38.0 degC sustained for more than 60 minutes. 38.3 exactly is not enough.
FEBRILE_NEUTROPENIA_ANC_BELOW = 1000.0
FEBRILE_NEUTROPENIA_SINGLE_ABOVE_DECI_C = 383
FEBRILE_NEUTROPENIA_SUSTAINED_ABOVE_MINUTES = 60.0
# Hypogammaglobulinemia (section h [S], Hill 2019): IgG <= 400 mg/dL is severe.
IGG_SEVERE_UP_TO_MG_DL = 400.0

GRADE_0 = 0
GRADE_1 = 1
GRADE_2 = 2
GRADE_3 = 3
GRADE_4 = 4

# Plausibility bounds [S] for the durations (a month; longer episodes are typos).
HOURS_ABOVE_40_RANGE = units.PlausibleRange(0.0, 744.0, "h")
MINUTES_GE_38_RANGE = units.PlausibleRange(0.0, 44_640.0, "min")

# --- reason codes ------------------------------------------------------------------------------
# Lab rows: ``ctcae.<term>.<band>``, one code.
LAB_BANDS = (
    "below_grade_4_cutoff",
    "below_grade_3_cutoff",
    "below_grade_2_cutoff",
    "below_lln",
    "not_below_lln",
)
# Fever: one code per grade.
REASON_FEVER = {
    GRADE_0: "ctcae.fever.lt_38_0",
    GRADE_1: "ctcae.fever.from_38_0_to_39_0",
    GRADE_2: "ctcae.fever.gt_39_0_to_40_0",
    GRADE_3: "ctcae.fever.gt_40_0_le_24_h",
    GRADE_4: "ctcae.fever.gt_40_0_gt_24_h",
}
# Febrile neutropenia, in this order: grade 3 lists the ANC code then each fever criterion
# met; grade 0 lists each finding that rules it out.
REASON_FN_ANC_LOW = "ctcae.febrile_neutropenia.anc_lt_1000"
REASON_FN_SINGLE = "ctcae.febrile_neutropenia.single_temperature_gt_38_3"
REASON_FN_SUSTAINED = "ctcae.febrile_neutropenia.sustained_ge_38_0_gt_60_min"
REASON_FN_ANC_NOT_LOW = "ctcae.febrile_neutropenia.anc_ge_1000"
REASON_FN_NO_FEVER = "ctcae.febrile_neutropenia.no_qualifying_fever"
REASON_IGG_SEVERE = "igg.le_400_mg_dl"
REASON_IGG_NOT_SEVERE = "igg.gt_400_mg_dl"


def lab_reason(term: str, band: str) -> str:
    """``ctcae.<term>.<band>``, e.g. ``ctcae.anemia.below_grade_2_cutoff``."""
    return f"ctcae.{term}.{band}"


def _identity(value: float) -> float:
    return value


@dataclass(frozen=True, slots=True)
class LabUnit:
    """A unit a lab value may be given in: conversion to the canonical unit, plausible range."""

    to_canonical: Callable[[float], float]
    plausible: units.PlausibleRange


@dataclass(frozen=True, slots=True)
class LabTerm:
    """One lab term: its strict cut-offs (canonical unit) and the units it accepts."""

    term: str
    grade_2_below: float
    grade_3_below: float
    grade_4_below: float | None  # None: grade 4 is not lab-derivable (anemia)
    units: Mapping[str, LabUnit]


def _count_units(
    plausible: units.PlausibleRange, plausible_10e9_l: units.PlausibleRange
) -> dict[str, LabUnit]:
    return {
        UNIT_CELLS_PER_UL: LabUnit(_identity, plausible),
        UNIT_CELLS_PER_MM3: LabUnit(_identity, plausible),
        UNIT_10E9_PER_L: LabUnit(units.per_10e9_l_to_per_ul, plausible_10e9_l),
        UNIT_10E3_PER_UL: LabUnit(units.per_10e9_l_to_per_ul, plausible_10e9_l),
    }


CELL_COUNT_UNITS = _count_units(units.CELL_COUNT_RANGE, units.CELL_COUNT_10E9_L_RANGE)
PLATELET_UNITS = _count_units(units.PLATELET_RANGE, units.PLATELET_10E9_L_RANGE)
HEMOGLOBIN_UNITS = {
    UNIT_G_DL: LabUnit(_identity, units.HEMOGLOBIN_RANGE),
    UNIT_G_L: LabUnit(units.hemoglobin_g_l_to_g_dl, units.HEMOGLOBIN_G_L_RANGE),
    UNIT_MMOL_L: LabUnit(units.hemoglobin_mmol_l_to_g_dl, units.HEMOGLOBIN_MMOL_L_RANGE),
}
LAB_TERMS: dict[str, LabTerm] = {
    spec.term: spec
    for spec in (
        LabTerm(
            "neutrophil_count_decreased",
            ANC_GRADE_2_BELOW,
            ANC_GRADE_3_BELOW,
            ANC_GRADE_4_BELOW,
            CELL_COUNT_UNITS,
        ),
        LabTerm(
            "platelet_count_decreased",
            PLATELETS_GRADE_2_BELOW,
            PLATELETS_GRADE_3_BELOW,
            PLATELETS_GRADE_4_BELOW,
            PLATELET_UNITS,
        ),
        LabTerm(
            "anemia", HEMOGLOBIN_GRADE_2_BELOW, HEMOGLOBIN_GRADE_3_BELOW, None, HEMOGLOBIN_UNITS
        ),
        LabTerm(
            "white_blood_cell_decreased",
            WBC_GRADE_2_BELOW,
            WBC_GRADE_3_BELOW,
            WBC_GRADE_4_BELOW,
            CELL_COUNT_UNITS,
        ),
        LabTerm(
            "lymphocyte_count_decreased",
            LYMPHOCYTES_GRADE_2_BELOW,
            LYMPHOCYTES_GRADE_3_BELOW,
            LYMPHOCYTES_GRADE_4_BELOW,
            CELL_COUNT_UNITS,
        ),
    )
}
# A value or LLN whose unit is unknown or not accepted for the term is checked against the
# widest range of any lab unit [S].
LAB_VALUE_RANGE = units.PlausibleRange(
    0.0,
    max(unit.plausible.high for spec in LAB_TERMS.values() for unit in spec.units.values()),
    "in the row's unit",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CTCAEObservation:
    """One CTCAE assessment (Appendix A names); ``None`` = unknown.

    ``lln`` is in the same ``unit`` as ``value``.
    """

    term: str | None = None
    value: float | None = None
    unit: str | None = None
    lln: float | None = None
    max_temperature_c: float | None = None
    hours_above_40: float | None = None
    anc_per_uL: float | None = None
    max_single_temperature_c: float | None = None
    longest_continuous_minutes_ge_38: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CTCAEResult(RuleResult):
    """The CTCAE v5 ``grade`` of the assessment, ``None`` unless ok."""

    grade: int | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    grade: int | None
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


# --- validation ---------------------------------------------------------------------------------


def _lab_term(term: object) -> LabTerm | None:
    return LAB_TERMS.get(term) if isinstance(term, str) else None


def _lab_unit(term: object, unit: object) -> LabUnit | None:
    """The unit of a lab row if the term is a lab term and accepts it, else ``None``."""
    spec = _lab_term(term)
    if spec is None or not isinstance(unit, str):
        return None
    return spec.units.get(unit)


def _check_term(observation: CTCAEObservation) -> None:
    term = observation.term
    if term is not None and not (isinstance(term, str) and term in CTCAE_TERMS):
        raise InvalidObservation("term", term, f"one of {', '.join(CTCAE_TERMS)}")


def _check_unit(observation: CTCAEObservation) -> None:
    unit = observation.unit
    if unit is None:
        return
    spec = _lab_term(observation.term)
    accepted = tuple(spec.units) if spec is not None else CTCAE_UNITS
    if not (isinstance(unit, str) and unit in accepted):
        raise InvalidObservation("unit", unit, f"one of {', '.join(accepted)}")


def _lab_number_checker(field: str) -> Callable[[CTCAEObservation], None]:
    def check(observation: CTCAEObservation) -> None:
        number = getattr(observation, field)
        if number is None:
            return
        lab_unit = _lab_unit(observation.term, observation.unit)
        plausible = lab_unit.plausible if lab_unit is not None else LAB_VALUE_RANGE
        units.check_range(field, number, plausible)

    return check


def _range_checker(
    field: str, plausible: units.PlausibleRange
) -> Callable[[CTCAEObservation], None]:
    def check(observation: CTCAEObservation) -> None:
        number = getattr(observation, field)
        if number is not None:
            units.check_range(field, number, plausible)

    return check


# One check per field, in field order (the order of ``invalid:`` reasons).
_CHECKS: tuple[Callable[[CTCAEObservation], None], ...] = (
    _check_term,
    _lab_number_checker("value"),
    _check_unit,
    _lab_number_checker("lln"),
    _range_checker("max_temperature_c", units.TEMPERATURE_C_RANGE),
    _range_checker("hours_above_40", HOURS_ABOVE_40_RANGE),
    _range_checker("anc_per_uL", units.CELL_COUNT_RANGE),
    _range_checker("max_single_temperature_c", units.TEMPERATURE_C_RANGE),
    _range_checker("longest_continuous_minutes_ge_38", MINUTES_GE_38_RANGE),
)


def _errors(observation: CTCAEObservation) -> list[InvalidObservation]:
    errors: list[InvalidObservation] = []
    for check in _CHECKS:
        try:
            check(observation)
        except InvalidObservation as error:
            errors.append(error)
    return errors


# --- grading ------------------------------------------------------------------------------------


def _grade_lab(spec: LabTerm, observation: CTCAEObservation) -> _Outcome:
    """Section h lab bands; strict "<" bounds; LLN needed only at or above the grade-2 cut."""
    value, unit, lln = observation.value, observation.unit, observation.lln
    if value is None or unit is None:
        # [S] without its unit the value is not a known quantity (ADR 0168).
        names = ("value", "unit", "lln")
        return _Outcome(None, missing=tuple(n for n in names if getattr(observation, n) is None))
    canonical = spec.units[unit].to_canonical(float(value))
    cutoffs = (
        (GRADE_4, spec.grade_4_below),
        (GRADE_3, spec.grade_3_below),
        (GRADE_2, spec.grade_2_below),
    )
    for (grade, cutoff), band in zip(cutoffs, LAB_BANDS, strict=False):
        if cutoff is not None and canonical < cutoff:
            return _Outcome(grade, (lab_reason(spec.term, band),))
    if lln is None:
        return _Outcome(None, missing=("lln",))
    # value and LLN share the row's unit, so they are compared as given.
    if float(value) < float(lln):
        return _Outcome(GRADE_1, (lab_reason(spec.term, "below_lln"),))
    return _Outcome(GRADE_0, (lab_reason(spec.term, "not_below_lln"),))


def _grade_fever(observation: CTCAEObservation) -> _Outcome:
    """Section h fever [P], after rounding the temperature half-up to 0.1 degC."""
    temperature, hours = observation.max_temperature_c, observation.hours_above_40
    if temperature is None:
        blocked = ("max_temperature_c",) + (("hours_above_40",) if hours is None else ())
        return _Outcome(None, missing=blocked)
    deci = units.deci_celsius(float(temperature))
    if deci < FEVER_FROM_DECI_C:
        grade = GRADE_0
    elif deci <= FEVER_GRADE_1_UP_TO_DECI_C:
        grade = GRADE_1
    elif deci <= FEVER_GRADE_2_UP_TO_DECI_C:
        grade = GRADE_2
    elif hours is None:
        return _Outcome(None, missing=("hours_above_40",))
    else:
        grade = GRADE_3 if float(hours) <= FEVER_GRADE_3_UP_TO_HOURS else GRADE_4
    return _Outcome(grade, (REASON_FEVER[grade],))


def _or(left: bool | None, right: bool | None) -> bool | None:
    """Three-valued (Kleene) or: ``None`` is unknown."""
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def _and(left: bool | None, right: bool | None) -> bool | None:
    """Three-valued (Kleene) and: ``None`` is unknown."""
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


@dataclass(frozen=True, slots=True)
class _NeutropeniaFindings:
    anc_low: bool | None
    single: bool | None
    sustained: bool | None

    @property
    def fever(self) -> bool | None:
        return _or(self.single, self.sustained)


def _sustained(minutes: float | None, single_deci: int | None) -> bool | None:
    """>= 38.0 degC for more than 60 minutes; unknown minutes are ruled out [S] when the highest
    single reading is below 38.0 (no reading reached 38.0), else unknown."""
    if minutes is not None:
        return float(minutes) > FEBRILE_NEUTROPENIA_SUSTAINED_ABOVE_MINUTES
    if single_deci is not None and single_deci < FEVER_FROM_DECI_C:
        return False
    return None


def _neutropenia_findings(observation: CTCAEObservation) -> _NeutropeniaFindings:
    anc = observation.anc_per_uL
    single = observation.max_single_temperature_c
    single_deci = None if single is None else units.deci_celsius(float(single))
    return _NeutropeniaFindings(
        anc_low=None if anc is None else float(anc) < FEBRILE_NEUTROPENIA_ANC_BELOW,
        single=None
        if single_deci is None
        else single_deci > FEBRILE_NEUTROPENIA_SINGLE_ABOVE_DECI_C,
        sustained=_sustained(observation.longest_continuous_minutes_ge_38, single_deci),
    )


def _neutropenia_missing(found: _NeutropeniaFindings) -> tuple[str, ...]:
    """The unknown inputs that could still change the grade, in field order."""
    missing: list[str] = []
    if found.anc_low is None and found.fever is not False:
        missing.append("anc_per_uL")
    if found.anc_low is not False:
        if found.single is None and found.sustained is not True:
            missing.append("max_single_temperature_c")
        if found.sustained is None and found.single is not True:
            missing.append("longest_continuous_minutes_ge_38")
    return tuple(missing)


def _grade_febrile_neutropenia(observation: CTCAEObservation) -> _Outcome:
    """Section h febrile neutropenia [P]: grade 3 or 0 (grades 4-5 need clinical data)."""
    found = _neutropenia_findings(observation)
    grade_3 = _and(found.anc_low, found.fever)
    if grade_3 is None:
        return _Outcome(None, missing=_neutropenia_missing(found))
    if grade_3:
        reasons: tuple[str, ...] = (REASON_FN_ANC_LOW,)
        reasons += (REASON_FN_SINGLE,) if found.single else ()
        reasons += (REASON_FN_SUSTAINED,) if found.sustained else ()
        return _Outcome(GRADE_3, reasons)
    ruled_out: tuple[str, ...] = (REASON_FN_ANC_NOT_LOW,) if found.anc_low is False else ()
    ruled_out += (REASON_FN_NO_FEVER,) if found.fever is False else ()
    return _Outcome(GRADE_0, ruled_out)


def _grade(observation: CTCAEObservation) -> _Outcome:
    term = observation.term
    if term is None:
        return _Outcome(None, missing=("term",))
    if term == TERM_FEVER:
        return _grade_fever(observation)
    if term == TERM_FEBRILE_NEUTROPENIA:
        return _grade_febrile_neutropenia(observation)
    return _grade_lab(LAB_TERMS[term], observation)


def grade_ctcae(observation: CTCAEObservation) -> CTCAEResult:
    """Grade one CTCAE v5 assessment (reference section h); never raises.

    ``invalid_input`` names each field outside its domain (an unknown term, a unit not accepted
    for the term, a negative count, a temperature outside 30-45 degC ...); ``cannot_grade``
    when the unknown inputs leave the grade open (``missing`` lists them); otherwise ``ok``.
    """
    errors = _errors(observation)
    if errors:
        return CTCAEResult(
            status=Status.INVALID_INPUT,
            criteria=CRITERIA,
            reasons=tuple(invalid_reason(error.problem.field) for error in errors),
            problems=invalid_results_problems(errors),
        )
    outcome = _grade(observation)
    if outcome.grade is None:
        return CTCAEResult(status=Status.CANNOT_GRADE, criteria=CRITERIA, missing=outcome.missing)
    return CTCAEResult(
        status=Status.OK, criteria=CRITERIA, grade=outcome.grade, reasons=outcome.reasons
    )


# --- IgG ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IgGObservation:
    """Serum IgG in mg/dL or g/L (x 100 -> mg/dL, section 0.1); ``None`` = unknown."""

    igg_mg_dL: float | None = None
    igg_g_L: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IgGResult(RuleResult):
    """``igg_severe`` (IgG <= 400 mg/dL), ``None`` unless ok."""

    igg_severe: bool | None = None


def _igg_mg_dl(observation: IgGObservation) -> float | None:
    picked = units.pick_one("igg_mg_dL", observation.igg_mg_dL, "igg_g_L", observation.igg_g_L)
    if picked is None:
        return None
    field, value = picked
    if field == "igg_mg_dL":
        return units.check_range(field, value, units.IGG_RANGE)
    return units.igg_g_l_to_mg_dl(units.check_range(field, value, units.IGG_G_L_RANGE))


def flag_igg(observation: IgGObservation) -> IgGResult:
    """``igg_severe``: serum IgG <= 400 mg/dL (reference section h [S], Hill 2019); never raises.

    ``invalid_input`` if IgG is out of range or given in both units; ``cannot_grade`` if
    unknown (``missing``: ``igg_mg_dL``).
    """
    try:
        igg = _igg_mg_dl(observation)
    except InvalidObservation as error:
        return IgGResult(
            status=Status.INVALID_INPUT,
            criteria=IGG_CRITERIA,
            reasons=(invalid_reason(error.problem.field),),
            problems=(error.problem,),
        )
    if igg is None:
        return IgGResult(status=Status.CANNOT_GRADE, criteria=IGG_CRITERIA, missing=("igg_mg_dL",))
    severe = igg <= IGG_SEVERE_UP_TO_MG_DL
    return IgGResult(
        status=Status.OK,
        criteria=IGG_CRITERIA,
        igg_severe=severe,
        reasons=(REASON_IGG_SEVERE if severe else REASON_IGG_NOT_SEVERE,),
    )
