"""The canonical patient-day columns the forecast reads, their units and plausible ranges.

One row per patient and day after infusion (day 0 = infusion; negative days are baseline and
lymphodepletion days). Names follow the reference's Appendix A and section 0.1 units where it
has them; the inflammation markers it does not name (IL-6, WBC, procalcitonin) follow the same
pattern (``<quantity>_<unit>``). ``docs/forecast.md`` lists every column with its meaning.

This module holds constants only (no Polars, no scikit-learn), so the importers in
:mod:`carta.io` can name the columns without loading the models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# --- identifiers ---------------------------------------------------------------------------
PATIENT_ID = "patient_id"
DAY = "day"
# The person a course belongs to, when one person has several courses (patient_id) in a file.
# Cross-validation keeps every course of a person in the same fold; absent = patient_id.
PERSON_ID = "person_id"

# --- daily measurements, canonical units -----------------------------------------------------
TEMPERATURE_C = "temperature_c"  # the day's maximum, degC
CRP_MG_DL = "crp_mg_dL"
FERRITIN_NG_ML = "ferritin_ng_mL"
IL6_PG_ML = "il6_pg_mL"
WBC_PER_UL = "wbc_per_uL"
PROCALCITONIN_NG_ML = "procalcitonin_ng_mL"
MEASUREMENTS: tuple[str, ...] = (
    TEMPERATURE_C,
    CRP_MG_DL,
    FERRITIN_NG_ML,
    IL6_PG_ML,
    WBC_PER_UL,
    PROCALCITONIN_NG_ML,
)

# --- daily grades and therapy ------------------------------------------------------------------
RECORDED_ICANS_GRADE = "recorded_icans_grade"  # 0-5, the day's grade as recorded
RECORDED_CRS_GRADE = "recorded_crs_grade"  # 0-5
TOCILIZUMAB_GIVEN = "tocilizumab_given"  # boolean: given on this day
CORTICOSTEROID_GIVEN = "corticosteroid_given"  # boolean: given on this day (for CRS or ICANS)
THERAPIES: tuple[str, ...] = (TOCILIZUMAB_GIVEN, CORTICOSTEROID_GIVEN)

# --- per patient (may be repeated on every row, or given on some rows only) ------------------
AGE_YEARS = "age_years"
DISEASE = "disease"  # a word of DISEASES
PRODUCT_CODE = "product_code"  # carta.clinical.products codes (tisa-cel, axi-cel, ...)
BASELINE_CAR_HEMATOTOX = "baseline_car_hematotox_score"
BASELINE_EASIX = "baseline_easix"  # the EASIX value (not its log2)
BASELINE_M_EASIX = "baseline_m_easix"
BASELINE_SCORES: tuple[str, ...] = (BASELINE_CAR_HEMATOTOX, BASELINE_EASIX, BASELINE_M_EASIX)
# A CRS summary for sources without daily CRS grades (the BWH cohort): the peak grade, the day
# CRS began and the day of its peak. Used for the CRS label and the "CRS so far" features only
# from the day each fact became known (docs/forecast.md, ADR 0405).
CRS_PEAK_GRADE = "crs_peak_grade"
CRS_ONSET_DAY = "crs_onset_day"
CRS_PEAK_DAY = "crs_peak_day"
CRS_SUMMARY: tuple[str, ...] = (CRS_PEAK_GRADE, CRS_ONSET_DAY, CRS_PEAK_DAY)

# The registry's disease words (carta.clinical.products.Disease plus "other").
DISEASES: tuple[str, ...] = ("lbcl", "fl", "mcl", "mzl", "cll", "b_all", "mm", "other")

# Accepted alternates: column -> (canonical column, multiply by), reference section 0.1.
FAHRENHEIT = "temperature_f"  # converted with (F - 32) x 5/9, not a factor
ALTERNATE_UNITS: Mapping[str, tuple[str, float]] = {
    "crp_mg_L": (CRP_MG_DL, 0.1),
    "ferritin_ug_L": (FERRITIN_NG_ML, 1.0),
    "wbc_10e9_L": (WBC_PER_UL, 1000.0),
}


@dataclass(frozen=True, slots=True)
class Bounds:
    """Inclusive plausible range of a canonical column; a value outside it is refused."""

    low: float
    high: float
    unit: str

    def describe(self) -> str:
        """What was expected, for an error message."""
        return f"a number from {self.low:g} to {self.high:g} {self.unit}".rstrip()


# Plausibility [S]: wide enough for real extremes, narrow enough to catch a unit mix-up (a
# temperature in degF in the degC column, a CRP in mg/L in the mg/dL column above 200).
BOUNDS: Mapping[str, Bounds] = {
    DAY: Bounds(-60, 36_500, "days after infusion"),
    TEMPERATURE_C: Bounds(30.0, 45.0, "degC"),
    CRP_MG_DL: Bounds(0.0, 200.0, "mg/dL"),
    FERRITIN_NG_ML: Bounds(0.0, 1_000_000.0, "ng/mL"),
    IL6_PG_ML: Bounds(0.0, 1_000_000.0, "pg/mL"),
    WBC_PER_UL: Bounds(0.0, 1_000_000.0, "cells/uL"),
    PROCALCITONIN_NG_ML: Bounds(0.0, 10_000.0, "ng/mL"),
    RECORDED_ICANS_GRADE: Bounds(0, 5, ""),
    RECORDED_CRS_GRADE: Bounds(0, 5, ""),
    AGE_YEARS: Bounds(0.0, 120.0, "years"),
    BASELINE_CAR_HEMATOTOX: Bounds(0.0, 10.0, "points"),
    BASELINE_EASIX: Bounds(0.0, 1_000_000.0, ""),
    BASELINE_M_EASIX: Bounds(0.0, 1_000_000.0, ""),
    CRS_PEAK_GRADE: Bounds(0, 5, ""),
    CRS_ONSET_DAY: Bounds(-60, 36_500, "days after infusion"),
    CRS_PEAK_DAY: Bounds(-60, 36_500, "days after infusion"),
}

# --- forecast targets --------------------------------------------------------------------------
HORIZON_DAYS = 5
ICANS_ANY = "icans_5d"  # ICANS grade >= 1 on any of the next 5 days
ICANS_SEVERE = "severe_icans_5d"  # ICANS grade >= 3 on any of the next 5 days
CRS_2 = "crs2_5d"  # CRS grade >= 2 on any of the next 5 days
TARGETS: tuple[str, ...] = (ICANS_ANY, ICANS_SEVERE, CRS_2)
# The probability column each target's forecast is written to.
PROBABILITY_COLUMNS: Mapping[str, str] = {
    ICANS_ANY: "p_icans_5d",
    ICANS_SEVERE: "p_severe_icans_5d",
    CRS_2: "p_crs2_5d",
}
GRADE_THRESHOLDS: Mapping[str, int] = {ICANS_ANY: 1, ICANS_SEVERE: 3, CRS_2: 2}
