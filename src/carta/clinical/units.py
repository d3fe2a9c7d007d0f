"""Canonical units, the accepted alternates, and the plausible range of each quantity.

Reference section 0.1 (canonical units and conversions, a software convention) and 0.4
(temperatures are compared after rounding half-up to 0.1 degC).

Each conversion is written as plain arithmetic so that the vectorised implementation in
:mod:`carta.analytics` can apply the *same* operations in the *same* order and get bit-identical
floating-point results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from carta.clinical.errors import InvalidObservation

# Rounding temperatures half-up to 0.1 degC: a tiny epsilon keeps values such as 37.95, whose
# binary form is a hair below the decimal, on the side a person reading the chart expects.
ROUNDING_EPSILON = 1e-9
DECI = 10

FAHRENHEIT_OFFSET = 32.0
FAHRENHEIT_SCALE_NUMERATOR = 5.0
FAHRENHEIT_SCALE_DENOMINATOR = 9.0
PER_10E9_L_TO_PER_UL = 1000.0  # x10^9/L -> cells/uL (section 0.1)
HEMOGLOBIN_G_L_PER_G_DL = 10.0  # g/L -> g/dL: divide
HEMOGLOBIN_MMOL_L_FACTOR = 0.6206  # mmol/L -> g/dL: divide
CRP_MG_L_PER_MG_DL = 10.0  # mg/L -> mg/dL: divide
CREATININE_UMOL_L_PER_MG_DL = 88.4  # umol/L -> mg/dL: divide
IGG_G_L_TO_MG_DL = 100.0  # g/L -> mg/dL: multiply


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    """Inclusive bounds outside which a value is ``invalid_input`` (not physiological)."""

    low: float
    high: float
    unit: str

    def describe(self) -> str:
        """What was expected, for an error message."""
        return f"a number from {self.low:g} to {self.high:g} {self.unit}"


# Plausibility bounds [S]: generous, so that a real but extreme value is graded, while a typo
# (25 or 50 degC, a negative count) is refused with the field named.
TEMPERATURE_C_RANGE = PlausibleRange(30.0, 45.0, "degC")
OXYGEN_FLOW_RANGE = PlausibleRange(0.0, 80.0, "L/min")
AGE_YEARS_RANGE = PlausibleRange(0.0, 120.0, "years")
CELL_COUNT_RANGE = PlausibleRange(0.0, 1_000_000.0, "cells/uL")
PLATELET_RANGE = PlausibleRange(0.0, 5_000_000.0, "cells/uL")
HEMOGLOBIN_RANGE = PlausibleRange(0.0, 30.0, "g/dL")
CRP_RANGE = PlausibleRange(0.0, 200.0, "mg/dL")
FERRITIN_RANGE = PlausibleRange(0.0, 1_000_000.0, "ng/mL")
LDH_RANGE = PlausibleRange(0.0, 100_000.0, "U/L")
CREATININE_RANGE = PlausibleRange(0.0, 40.0, "mg/dL")
IGG_RANGE = PlausibleRange(0.0, 30_000.0, "mg/dL")
# The same bounds in the accepted alternate units (section 0.1), for values checked as given.
CELL_COUNT_10E9_L_RANGE = PlausibleRange(0.0, 1_000.0, "x10^9/L")
PLATELET_10E9_L_RANGE = PlausibleRange(0.0, 5_000.0, "x10^9/L")
HEMOGLOBIN_G_L_RANGE = PlausibleRange(0.0, 300.0, "g/L")
HEMOGLOBIN_MMOL_L_RANGE = PlausibleRange(0.0, 30.0 * HEMOGLOBIN_MMOL_L_FACTOR, "mmol/L")
CRP_MG_L_RANGE = PlausibleRange(0.0, 2_000.0, "mg/L")
FERRITIN_UG_L_RANGE = PlausibleRange(0.0, 1_000_000.0, "ug/L")
CREATININE_UMOL_L_RANGE = PlausibleRange(0.0, 40.0 * CREATININE_UMOL_L_PER_MG_DL, "umol/L")
IGG_G_L_RANGE = PlausibleRange(0.0, 300.0, "g/L")
# Days after infusion (day 0 = infusion day): late ICAHT measurements, kinetics sample times.
DAY_AFTER_INFUSION_RANGE = PlausibleRange(0.0, 36_500.0, "days after infusion")


def fahrenheit_to_celsius(temperature_f: float) -> float:
    """degF -> degC, (F - 32) x 5/9."""
    return (
        (temperature_f - FAHRENHEIT_OFFSET)
        * FAHRENHEIT_SCALE_NUMERATOR
        / FAHRENHEIT_SCALE_DENOMINATOR
    )


def deci_celsius(temperature_c: float) -> int:
    """Temperature in tenths of a degree, rounded half-up (section 0.4): 37.95 -> 380."""
    return math.floor(temperature_c * DECI + 0.5 + ROUNDING_EPSILON)


def per_10e9_l_to_per_ul(count_10e9_l: float) -> float:
    """x10^9/L (= G/L = x10^3/uL) -> cells/uL."""
    return count_10e9_l * PER_10E9_L_TO_PER_UL


def per_ul_to_10e9_l(count_per_ul: float) -> float:
    """cells/uL -> x10^9/L (the EASIX family defines platelets this way)."""
    return count_per_ul / PER_10E9_L_TO_PER_UL


def hemoglobin_g_l_to_g_dl(hemoglobin_g_l: float) -> float:
    """g/L -> g/dL."""
    return hemoglobin_g_l / HEMOGLOBIN_G_L_PER_G_DL


def hemoglobin_mmol_l_to_g_dl(hemoglobin_mmol_l: float) -> float:
    """mmol/L -> g/dL (only when a laboratory insists on mmol/L)."""
    return hemoglobin_mmol_l / HEMOGLOBIN_MMOL_L_FACTOR


def crp_mg_l_to_mg_dl(crp_mg_l: float) -> float:
    """CRP mg/L -> mg/dL (3.0 mg/dL = 30 mg/L: a common unit trap)."""
    return crp_mg_l / CRP_MG_L_PER_MG_DL


def creatinine_umol_l_to_mg_dl(creatinine_umol_l: float) -> float:
    """Creatinine umol/L -> mg/dL (divide by 88.4; they are not numerically equivalent)."""
    return creatinine_umol_l / CREATININE_UMOL_L_PER_MG_DL


def igg_g_l_to_mg_dl(igg_g_l: float) -> float:
    """IgG g/L -> mg/dL."""
    return igg_g_l * IGG_G_L_TO_MG_DL


def check_range(field: str, value: float, plausible: PlausibleRange) -> float:
    """Return ``value`` if it is a finite number inside ``plausible``, else raise naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidObservation(field, value, plausible.describe())
    if not math.isfinite(value) or not plausible.low <= value <= plausible.high:
        raise InvalidObservation(field, value, plausible.describe())
    return float(value)


def pick_one(
    canonical_field: str,
    canonical: float | None,
    alternate_field: str,
    alternate: float | None,
) -> tuple[str, float] | None:
    """The one value given among a canonical field and its unit alternate.

    Both given is ambiguous and refused; neither given is ``None`` (unknown).
    """
    if canonical is not None and alternate is not None:
        raise InvalidObservation(
            alternate_field, alternate, f"only one of {canonical_field} and {alternate_field}"
        )
    if canonical is not None:
        return canonical_field, canonical
    if alternate is not None:
        return alternate_field, alternate
    return None
