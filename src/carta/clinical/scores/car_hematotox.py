"""CAR-HEMATOTOX score: risk of CAR T-cell-related hematotoxicity, one observation at a time.

Reference section f (Rejeski K et al., Blood 2021;138(24):2499-2513), with the global
conventions of section 0 (units 0.1, status words 0.2, every input of a numeric score required
0.3, counts compared as given in canonical units 0.4) and the field names of Appendix A.

Five markers measured before lymphodepletion (about day -5) earn points::

    platelets   > 175 000/uL -> 0 | 75 000-175 000 -> 1 | < 75 000 -> 2
    ANC         >= 1200/uL   -> 0 | < 1200         -> 1
    hemoglobin  >= 9.0 g/dL  -> 0 | < 9.0          -> 1
    CRP         <= 3.0 mg/dL -> 0 | > 3.0          -> 1
    ferritin    < 650 ng/mL  -> 0 | 650-2000       -> 1 | > 2000 -> 2

The score (0-7) is their sum; 0-1 is low risk, >= 2 high risk. Each marker may be given in its
canonical unit or in the alternate unit of section 0.1 (never both: that is ``invalid_input``).

The vectorised twin is :mod:`carta.analytics.rules.car_hematotox`; reason codes and [S] choices
are documented in ``docs/criteria/car-hematotox.md`` and ADRs 0161-0163.
"""

# The input fields keep the unit spelling of Appendix A (``hemoglobin_g_dL``, ``anc_per_uL``).
# ruff: noqa: N815

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carta.clinical import units
from carta.clinical.citations import CAR_HEMATOTOX
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason

CRITERIA: Criteria = CAR_HEMATOTOX

# --- thresholds (reference section f, Rejeski 2021 Table 1 [P]) -------------------------------
# Platelets: > 175 000/uL -> 0; 75 000-175 000 (both ends included [S]) -> 1; < 75 000 -> 2.
PLATELETS_ZERO_POINTS_ABOVE_PER_UL = 175_000.0
PLATELETS_ONE_POINT_FROM_PER_UL = 75_000.0
# ANC: >= 1200/uL -> 0 (1200 itself gives 0 [S]); < 1200 -> 1.
ANC_ZERO_POINTS_FROM_PER_UL = 1200.0
# Hemoglobin: >= 9.0 g/dL -> 0 (9.0 itself gives 0 [S]); < 9.0 -> 1.
HEMOGLOBIN_ZERO_POINTS_FROM_G_DL = 9.0
# CRP: <= 3.0 mg/dL -> 0 (3.0 itself gives 0 [S]; 3.0 mg/dL = 30 mg/L); > 3.0 -> 1.
CRP_ZERO_POINTS_UP_TO_MG_DL = 3.0
# Ferritin: < 650 ng/mL -> 0; 650-2000 (both ends included [S]) -> 1; > 2000 -> 2.
FERRITIN_ONE_POINT_FROM_NG_ML = 650.0
FERRITIN_ONE_POINT_UP_TO_NG_ML = 2000.0
# Risk groups [C]: low 0-1, high >= 2.
HIGH_RISK_MIN_SCORE = 2
RISK_LOW = "low"
RISK_HIGH = "high"
RISK_GROUPS = (RISK_LOW, RISK_HIGH)

# --- reason codes, in the fixed order they appear in ``reasons`` -----------------------------
# One code per marker that earns points (a marker earning 0 points contributes no code).
REASON_PLATELETS_1 = "car_hematotox.platelets_75000_to_175000"
REASON_PLATELETS_2 = "car_hematotox.platelets_lt_75000"
REASON_ANC_1 = "car_hematotox.anc_lt_1200"
REASON_HEMOGLOBIN_1 = "car_hematotox.hemoglobin_lt_9_0"
REASON_CRP_1 = "car_hematotox.crp_gt_3_0"
REASON_FERRITIN_1 = "car_hematotox.ferritin_650_to_2000"
REASON_FERRITIN_2 = "car_hematotox.ferritin_gt_2000"
REASON_CODES = (
    REASON_PLATELETS_1,
    REASON_PLATELETS_2,
    REASON_ANC_1,
    REASON_HEMOGLOBIN_1,
    REASON_CRP_1,
    REASON_FERRITIN_1,
    REASON_FERRITIN_2,
)


def _identity(value: float) -> float:
    return value


@dataclass(frozen=True, slots=True)
class Marker:
    """One of the five markers: its canonical and alternate fields, units and plausible ranges."""

    name: str
    canonical_field: str
    alternate_field: str
    canonical_range: units.PlausibleRange
    alternate_range: units.PlausibleRange
    to_canonical: Callable[[float], float]


# Section 0.1 alternates (Appendix A): checked in their own unit, then converted.
MARKERS: tuple[Marker, ...] = (
    Marker(
        "platelets",
        "platelets_per_uL",
        "platelets_10e9_L",
        units.PLATELET_RANGE,
        units.PLATELET_10E9_L_RANGE,
        units.per_10e9_l_to_per_ul,
    ),
    Marker(
        "anc",
        "anc_per_uL",
        "anc_10e9_L",
        units.CELL_COUNT_RANGE,
        units.CELL_COUNT_10E9_L_RANGE,
        units.per_10e9_l_to_per_ul,
    ),
    Marker(
        "hemoglobin",
        "hemoglobin_g_dL",
        "hemoglobin_g_L",
        units.HEMOGLOBIN_RANGE,
        units.HEMOGLOBIN_G_L_RANGE,
        units.hemoglobin_g_l_to_g_dl,
    ),
    Marker(
        "crp",
        "crp_mg_dL",
        "crp_mg_L",
        units.CRP_RANGE,
        units.CRP_MG_L_RANGE,
        units.crp_mg_l_to_mg_dl,
    ),
    Marker(
        "ferritin",
        "ferritin_ng_mL",
        "ferritin_ug_L",
        units.FERRITIN_RANGE,
        units.FERRITIN_UG_L_RANGE,
        _identity,  # ug/L and ng/mL are the same unit (section 0.1)
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CARHematotoxObservation:
    """Pre-lymphodepletion labs (Appendix A names); ``None`` = unknown."""

    platelets_per_uL: float | None = None
    platelets_10e9_L: float | None = None
    anc_per_uL: float | None = None
    anc_10e9_L: float | None = None
    hemoglobin_g_dL: float | None = None
    hemoglobin_g_L: float | None = None
    crp_mg_dL: float | None = None
    crp_mg_L: float | None = None
    ferritin_ng_mL: float | None = None
    ferritin_ug_L: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CARHematotoxResult(RuleResult):
    """``score`` (0-7) and ``risk_group`` (``low`` 0-1, ``high`` >= 2), ``None`` unless ok."""

    score: int | None = None
    risk_group: str | None = None


def _marker_value(marker: Marker, observation: CARHematotoxObservation) -> float | None:
    """The marker in its canonical unit, ``None`` if unknown; raises if both or out of range."""
    canonical = getattr(observation, marker.canonical_field)
    alternate = getattr(observation, marker.alternate_field)
    picked = units.pick_one(marker.canonical_field, canonical, marker.alternate_field, alternate)
    if picked is None:
        return None
    field, value = picked
    if field == marker.canonical_field:
        return units.check_range(field, value, marker.canonical_range)
    return marker.to_canonical(units.check_range(field, value, marker.alternate_range))


def platelet_points(platelets: float) -> int:
    """Platelets (cells/uL), section f: > 175 000 -> 0; 75 000-175 000 -> 1; < 75 000 -> 2."""
    if platelets > PLATELETS_ZERO_POINTS_ABOVE_PER_UL:
        return 0
    if platelets >= PLATELETS_ONE_POINT_FROM_PER_UL:
        return 1
    return 2


def anc_points(anc: float) -> int:
    """ANC (cells/uL), section f: >= 1200 -> 0; < 1200 -> 1."""
    return 0 if anc >= ANC_ZERO_POINTS_FROM_PER_UL else 1


def hemoglobin_points(hemoglobin: float) -> int:
    """Hemoglobin, section f: >= 9.0 g/dL -> 0; < 9.0 -> 1."""
    return 0 if hemoglobin >= HEMOGLOBIN_ZERO_POINTS_FROM_G_DL else 1


def crp_points(crp: float) -> int:
    """CRP, section f: <= 3.0 mg/dL -> 0; > 3.0 -> 1."""
    return 0 if crp <= CRP_ZERO_POINTS_UP_TO_MG_DL else 1


def ferritin_points(ferritin: float) -> int:
    """Ferritin (ng/mL), section f: < 650 -> 0; 650-2000 -> 1; > 2000 -> 2."""
    if ferritin < FERRITIN_ONE_POINT_FROM_NG_ML:
        return 0
    if ferritin <= FERRITIN_ONE_POINT_UP_TO_NG_ML:
        return 1
    return 2


# Per marker: its points function and the reason code for 1 and 2 points.
_POINTS: dict[str, tuple[Callable[[float], int], dict[int, str]]] = {
    "platelets": (platelet_points, {1: REASON_PLATELETS_1, 2: REASON_PLATELETS_2}),
    "anc": (anc_points, {1: REASON_ANC_1}),
    "hemoglobin": (hemoglobin_points, {1: REASON_HEMOGLOBIN_1}),
    "crp": (crp_points, {1: REASON_CRP_1}),
    "ferritin": (ferritin_points, {1: REASON_FERRITIN_1, 2: REASON_FERRITIN_2}),
}


def risk_group(score: int) -> str:
    """Section f [C]: 0-1 low, >= 2 high."""
    return RISK_HIGH if score >= HIGH_RISK_MIN_SCORE else RISK_LOW


def score_car_hematotox(observation: CARHematotoxObservation) -> CARHematotoxResult:
    """Score CAR-HEMATOTOX (reference section f); never raises.

    ``invalid_input`` if a marker is out of range or given in both units; otherwise
    ``cannot_compute`` if any marker is unknown (``missing`` names the canonical fields, in
    the order platelets, ANC, hemoglobin, CRP, ferritin); otherwise ``ok``.
    """
    errors: list[InvalidObservation] = []
    values: dict[str, float | None] = {}
    for marker in MARKERS:
        try:
            values[marker.name] = _marker_value(marker, observation)
        except InvalidObservation as error:
            errors.append(error)
    if errors:
        return CARHematotoxResult(
            status=Status.INVALID_INPUT,
            criteria=CRITERIA,
            reasons=tuple(invalid_reason(error.problem.field) for error in errors),
            problems=invalid_results_problems(errors),
        )
    missing = tuple(marker.canonical_field for marker in MARKERS if values[marker.name] is None)
    if missing:
        return CARHematotoxResult(status=Status.CANNOT_COMPUTE, criteria=CRITERIA, missing=missing)
    known = {name: value for name, value in values.items() if value is not None}
    score = 0
    reasons: list[str] = []
    for marker in MARKERS:
        points_of, codes = _POINTS[marker.name]
        points = points_of(known[marker.name])
        score += points
        if points:
            reasons.append(codes[points])
    return CARHematotoxResult(
        status=Status.OK,
        criteria=CRITERIA,
        score=score,
        risk_group=risk_group(score),
        reasons=tuple(reasons),
    )
