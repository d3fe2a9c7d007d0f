"""Body surface area (Mosteller) and the plausible ranges of weight and height.

Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317(17):1098.
doi:10.1056/NEJM198710223171717::

    BSA (m^2) = sqrt(height_cm x weight_kg / 3600)

The value is returned in double precision (reference section 0.4: compute in double precision;
rounding is for display). Weight and height outside generous plausible ranges are
``invalid_input`` naming the field; a missing one is ``cannot_compute`` listing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.units import PlausibleRange, check_range

CRITERIA = Criteria(
    name="Mosteller BSA",
    version="1987",
    citation="Mosteller RD. N Engl J Med 1987;317(17):1098. doi:10.1056/NEJM198710223171717",
)

# Mosteller 1987: BSA = sqrt(height [cm] x weight [kg] / 3600).
MOSTELLER_DIVISOR = 3600.0

# Plausibility bounds [S]: wide enough for a premature infant and an adult with severe obesity,
# narrow enough to refuse grams typed as kilograms or metres typed as centimetres.
WEIGHT_KG_RANGE = PlausibleRange(0.3, 400.0, "kg")
HEIGHT_CM_RANGE = PlausibleRange(25.0, 260.0, "cm")

REASON_MOSTELLER = "bsa.mosteller"
REASON_MISSING = "bsa.missing_input"


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyMeasurements:
    """Weight in kg and height in cm; ``None`` = unknown."""

    weight_kg: float | None = None
    height_cm: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BsaResult(RuleResult):
    """Body surface area in m^2, ``None`` unless ``status`` is ``ok``."""

    bsa_m2: float | None = None


def mosteller_bsa_m2(weight_kg: float, height_cm: float) -> float:
    """sqrt(height_cm x weight_kg / 3600), without checks (Mosteller 1987)."""
    return math.sqrt(height_cm * weight_kg / MOSTELLER_DIVISOR)


def body_surface_area(measurements: BodyMeasurements) -> BsaResult:
    """Mosteller BSA from weight and height, with plausible-range checks."""
    errors: list[InvalidObservation] = []
    values: dict[str, float] = {}
    for name, value, plausible in (
        ("weight_kg", measurements.weight_kg, WEIGHT_KG_RANGE),
        ("height_cm", measurements.height_cm, HEIGHT_CM_RANGE),
    ):
        if value is None:
            continue
        try:
            values[name] = check_range(name, value, plausible)
        except InvalidObservation as error:
            errors.append(error)
    if errors:
        return BsaResult(
            status=Status.INVALID_INPUT,
            criteria=CRITERIA,
            reasons=tuple(invalid_reason(error.problem.field) for error in errors),
            problems=invalid_results_problems(errors),
        )
    missing = tuple(name for name in ("weight_kg", "height_cm") if name not in values)
    if missing:
        return BsaResult(
            status=Status.CANNOT_COMPUTE,
            criteria=CRITERIA,
            reasons=(REASON_MISSING,),
            missing=missing,
        )
    return BsaResult(
        status=Status.OK,
        criteria=CRITERIA,
        reasons=(REASON_MOSTELLER,),
        bsa_m2=mosteller_bsa_m2(values["weight_kg"], values["height_cm"]),
    )
