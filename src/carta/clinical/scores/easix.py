"""EASIX and modified EASIX (m-EASIX), one observation at a time.

Reference section g, with the global conventions of section 0 (units 0.1, status words 0.2,
every input of a numeric score required 0.3, published decimal cut-offs compared after
rounding half-up 0.4) and the field names of Appendix A::

    EASIX   = LDH (U/L) x creatinine (mg/dL) / platelets (x10^9/L)   (Luft 2017)
    m-EASIX = LDH (U/L) x CRP (mg/dL)        / platelets (x10^9/L)   (Pennisi 2021)

Both report the raw ``value`` and ``log2_value`` (``None`` unless value > 0 [S]). EASIX also
reports ``above_korell_4_67``: EASIX rounded half-up to 2 decimals is > 4.67 (Korell 2022,
before lymphodepletion). Platelets = 0 (also after conversion) or a missing input gives
``cannot_compute`` [S].

The products are evaluated left to right, ``(LDH x creatinine) / platelets``, and
``log2_value`` as ``ln(value) / ln(2)``: the vectorised twins in
:mod:`carta.analytics.rules.easix` and :mod:`carta.analytics.rules.m_easix` apply the same
operations in the same order, so the floats agree bit for bit. Reason codes and [S] choices
are documented in ``docs/criteria/easix.md`` and ADRs 0164-0166.
"""

# The input fields keep the unit spelling of Appendix A (``ldh_U_L``, ``creatinine_mg_dL``).
# ruff: noqa: N815

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from carta.clinical import units
from carta.clinical.citations import EASIX, M_EASIX
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, Problem, RuleResult, Status, invalid_reason

EASIX_CRITERIA: Criteria = EASIX
M_EASIX_CRITERIA: Criteria = M_EASIX

# --- thresholds -------------------------------------------------------------------------------
# Korell 2022 [C]: EASIX before lymphodepletion > 4.67 is associated with grade >= 3 CRS and/or
# ICANS. Section 0.4 [S]: round EASIX half-up to the cut-off's 2 decimals, then compare; done
# in hundredths: above <=> floor(EASIX x 100 + 0.5) > 467. The epsilon of units (as for
# temperatures) keeps a value such as 4.675, stored a hair below the decimal, rounding up.
HUNDREDTHS = 100.0
KORELL_CUTOFF_HUNDREDTHS = 467
HALF = 0.5
PLATELETS_UNDEFINED = 0.0  # section g [S]: platelets = 0 -> cannot_compute

# --- reason codes, in the fixed order they appear in ``reasons`` -----------------------------
REASON_EASIX_PLATELETS_ZERO = "easix.platelets_zero"
REASON_EASIX_LOG2_UNDEFINED = "easix.log2_undefined"
REASON_EASIX_ABOVE_KORELL = "easix.above_korell_4_67"
REASON_M_EASIX_PLATELETS_ZERO = "m_easix.platelets_zero"
REASON_M_EASIX_LOG2_UNDEFINED = "m_easix.log2_undefined"


def _identity(value: float) -> float:
    return value


@dataclass(frozen=True, slots=True)
class Input:
    """One input quantity: its first (canonical) field and its alternate, ranges, conversion."""

    canonical_field: str
    alternate_field: str | None
    canonical_range: units.PlausibleRange
    alternate_range: units.PlausibleRange | None
    alternate_to_canonical: Callable[[float], float]


# The EASIX family takes platelets in x10^9/L (section 0.1); cells/uL is the alternate.
LDH = Input("ldh_U_L", None, units.LDH_RANGE, None, _identity)
CREATININE = Input(
    "creatinine_mg_dL",
    "creatinine_umol_L",
    units.CREATININE_RANGE,
    units.CREATININE_UMOL_L_RANGE,
    units.creatinine_umol_l_to_mg_dl,
)
CRP = Input(
    "crp_mg_dL",
    "crp_mg_L",
    units.CRP_RANGE,
    units.CRP_MG_L_RANGE,
    units.crp_mg_l_to_mg_dl,
)
PLATELETS = Input(
    "platelets_10e9_L",
    "platelets_per_uL",
    units.PLATELET_10E9_L_RANGE,
    units.PLATELET_RANGE,
    units.per_ul_to_10e9_l,
)
EASIX_INPUTS = (LDH, CREATININE, PLATELETS)
M_EASIX_INPUTS = (LDH, CRP, PLATELETS)


@dataclass(frozen=True, slots=True, kw_only=True)
class EASIXObservation:
    """LDH, creatinine and platelets (Appendix A names); ``None`` = unknown."""

    ldh_U_L: float | None = None
    creatinine_mg_dL: float | None = None
    creatinine_umol_L: float | None = None
    platelets_10e9_L: float | None = None
    platelets_per_uL: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MEASIXObservation:
    """LDH, CRP and platelets (Appendix A names); ``None`` = unknown."""

    ldh_U_L: float | None = None
    crp_mg_dL: float | None = None
    crp_mg_L: float | None = None
    platelets_10e9_L: float | None = None
    platelets_per_uL: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EASIXResult(RuleResult):
    """EASIX ``value``, ``log2_value`` and the Korell flag, ``None`` unless ok."""

    value: float | None = None
    log2_value: float | None = None
    above_korell_4_67: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MEASIXResult(RuleResult):
    """m-EASIX ``value`` and ``log2_value``, ``None`` unless ok."""

    value: float | None = None
    log2_value: float | None = None


def _input_value(item: Input, observation: object) -> float | None:
    """The input in its canonical unit, ``None`` if unknown; raises if both or out of range."""
    canonical = getattr(observation, item.canonical_field)
    if item.alternate_field is None or item.alternate_range is None:
        if canonical is None:
            return None
        return units.check_range(item.canonical_field, canonical, item.canonical_range)
    alternate = getattr(observation, item.alternate_field)
    picked = units.pick_one(item.canonical_field, canonical, item.alternate_field, alternate)
    if picked is None:
        return None
    field, value = picked
    if field == item.canonical_field:
        return units.check_range(field, value, item.canonical_range)
    return item.alternate_to_canonical(units.check_range(field, value, item.alternate_range))


@dataclass(frozen=True, slots=True)
class _Inputs:
    """The three inputs after validation: values (canonical units) or the problems found."""

    values: tuple[float | None, ...]
    errors: tuple[InvalidObservation, ...]


def _read(inputs: tuple[Input, ...], observation: object) -> _Inputs:
    values: list[float | None] = []
    errors: list[InvalidObservation] = []
    for item in inputs:
        try:
            values.append(_input_value(item, observation))
        except InvalidObservation as error:
            values.append(None)
            errors.append(error)
    return _Inputs(tuple(values), tuple(errors))


def log2_of(value: float) -> float | None:
    """``log2(value)`` as ``ln(value) / ln(2)``, ``None`` unless value > 0 (section g [S])."""
    return math.log(value) / math.log(2.0) if value > 0 else None


def above_korell(easix: float) -> bool:
    """EASIX rounded half-up to 2 decimals > 4.67 (Korell 2022; rounding per section 0.4)."""
    if math.isinf(easix):
        return True
    hundredths = math.floor(easix * HUNDREDTHS + HALF + units.ROUNDING_EPSILON)
    return hundredths > KORELL_CUTOFF_HUNDREDTHS


@dataclass(frozen=True, slots=True)
class _Ratio:
    """Outcome of LDH x factor / platelets: a value, or the status and codes saying why not."""

    status: Status
    value: float | None = None
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


def _ratio(inputs: tuple[Input, ...], observation: object, platelets_zero_reason: str) -> _Ratio:
    """``(LDH x factor) / platelets`` with the status rules of section g."""
    read = _read(inputs, observation)
    if read.errors:
        return _Ratio(
            Status.INVALID_INPUT,
            reasons=tuple(invalid_reason(error.problem.field) for error in read.errors),
            problems=invalid_results_problems(list(read.errors)),
        )
    ldh, factor, platelets = read.values
    if ldh is None or factor is None or platelets is None or platelets == PLATELETS_UNDEFINED:
        zero = platelets is not None and platelets == PLATELETS_UNDEFINED
        return _Ratio(
            Status.CANNOT_COMPUTE,
            reasons=(platelets_zero_reason,) if zero else (),
            missing=tuple(
                item.canonical_field
                for item, value in zip(inputs, read.values, strict=True)
                if value is None
            ),
        )
    return _Ratio(Status.OK, value=ldh * factor / platelets)


def compute_easix(observation: EASIXObservation) -> EASIXResult:
    """EASIX = LDH x creatinine (mg/dL) / platelets (x10^9/L) (reference section g); never raises.

    ``invalid_input`` for an out-of-range input or one given in both units; ``cannot_compute``
    when an input is unknown (``missing``: ``ldh_U_L``, ``creatinine_mg_dL``,
    ``platelets_10e9_L``) or platelets = 0 (reason ``easix.platelets_zero``).
    """
    ratio = _ratio(EASIX_INPUTS, observation, REASON_EASIX_PLATELETS_ZERO)
    if ratio.value is None:
        return EASIXResult(
            status=ratio.status,
            criteria=EASIX_CRITERIA,
            reasons=ratio.reasons,
            missing=ratio.missing,
            problems=ratio.problems,
        )
    log2_value = log2_of(ratio.value)
    above = above_korell(ratio.value)
    reasons: tuple[str, ...] = (REASON_EASIX_LOG2_UNDEFINED,) if log2_value is None else ()
    reasons += (REASON_EASIX_ABOVE_KORELL,) if above else ()
    return EASIXResult(
        status=Status.OK,
        criteria=EASIX_CRITERIA,
        value=ratio.value,
        log2_value=log2_value,
        above_korell_4_67=above,
        reasons=reasons,
    )


def compute_m_easix(observation: MEASIXObservation) -> MEASIXResult:
    """m-EASIX = LDH x CRP (mg/dL) / platelets (x10^9/L) (reference section g); never raises.

    ``invalid_input`` for an out-of-range input or one given in both units; ``cannot_compute``
    when an input is unknown (``missing``: ``ldh_U_L``, ``crp_mg_dL``, ``platelets_10e9_L``)
    or platelets = 0 (reason ``m_easix.platelets_zero``). No CAR-T cut-off is confirmed for
    m-EASIX, so it has no flag.
    """
    ratio = _ratio(M_EASIX_INPUTS, observation, REASON_M_EASIX_PLATELETS_ZERO)
    if ratio.value is None:
        return MEASIXResult(
            status=ratio.status,
            criteria=M_EASIX_CRITERIA,
            reasons=ratio.reasons,
            missing=ratio.missing,
            problems=ratio.problems,
        )
    log2_value = log2_of(ratio.value)
    return MEASIXResult(
        status=Status.OK,
        criteria=M_EASIX_CRITERIA,
        value=ratio.value,
        log2_value=log2_value,
        reasons=(REASON_M_EASIX_LOG2_UNDEFINED,) if log2_value is None else (),
    )
