"""CAR-T cellular kinetics endpoints: Cmax, Tmax, AUC0-28, Tlast and Clast.

Reference section j (definitions [C]; computation rules [S]) with the global conventions of
section 0 (status words 0.2: a numeric endpoint lacking an input is ``cannot_compute``) and the
field names of Appendix A. Sources: Awasthi R et al. Blood Adv 2020;4(3):560-572 (JULIET
kinetics); liso-cel population kinetics, Clin Pharmacokinet 2021.

* Cmax: highest level observed from day 0 to ``window_days`` (28 by default); Tmax its day, the
  earliest on ties.
* AUC from day 0 to ``window_days``: trapezoids over the samples in the window, starting from
  level 0 at day 0 when no day-0 sample is given (pre-infusion level = 0). ``linear``:
  (C1 + C2) / 2 x dt. ``linear_up_log_down``: linear when C2 >= C1 or either is 0, else
  (C1 - C2) / ln(C1 / C2) x dt. A sample at ``window_days`` itself is required.
* Levels below the LLOQ (BLQ) count as 0.
* Tlast: last day with a quantifiable level (> 0 after BLQ = 0) over all follow-up; Clast its
  level.

The vectorised twin is :mod:`carta.analytics.rules.kinetics`. Reason codes and the [S] choices
are documented in ``docs/criteria/kinetics.md`` and ADRs 0146-0148.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from carta.clinical.citations import KINETICS
from carta.clinical.errors import InvalidObservation, invalid_results_problems, run_checks
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.units import DAY_AFTER_INFUSION_RANGE, PlausibleRange, check_range
from carta.clinical.vocabulary import AUC_METHODS

CRITERIA: Criteria = KINETICS

AUC_LINEAR = "linear"  # section j: linear trapezoid
AUC_LINEAR_UP_LOG_DOWN = "linear_up_log_down"  # section j: log trapezoid on declining segments
DEFAULT_AUC_METHOD = AUC_LINEAR  # section j: default ``linear``
DEFAULT_WINDOW_DAYS = 28.0  # section j: analysis window = first 28 days (labels)
PRE_INFUSION_LEVEL = 0.0  # section j [S]: day-0 pre-infusion level = 0
BLQ_LEVEL = 0.0  # section j [S]: a value below the LLOQ counts as 0
TRAPEZOID_DIVISOR = 2.0  # section j: (C1 + C2) / 2 x dt
# Plausibility bound [S]: qPCR peaks reach about 10^5-10^6 copies/ug, flow about 10^4 cells/uL;
# 10^10 refuses only typos and non-numbers.
LEVEL_RANGE = PlausibleRange(0.0, 1e10, "copies/ug or cells/uL")

FIELD_TIMES = "times_days"
FIELD_LEVELS = "levels"
FIELD_UNIT = "unit"
FIELD_AUC_METHOD = "auc_method"
FIELD_WINDOW = "window_days"
FIELD_LLOQ = "lloq"

# --- reason codes, in the fixed order they appear in ``reasons`` -----------------------------
REASON_BLQ = "kinetics.blq_set_to_zero"
REASON_TMAX_TIE = "kinetics.tmax.earliest_of_ties"
REASON_AUC_LINEAR = "kinetics.auc.linear"
REASON_AUC_LOG_DOWN = "kinetics.auc.linear_up_log_down"
REASON_AUC_DAY_0 = "kinetics.auc.day_0_level_taken_as_0"
REASON_AUC_NO_END_SAMPLE = "kinetics.auc.no_sample_at_window_end"
REASON_NO_QUANTIFIABLE = "kinetics.tlast.no_quantifiable_level"
REASON_NO_SAMPLES = "kinetics.no_samples"
REASON_UNKNOWN_VALUES = "kinetics.unknown_sample_values"
REASON_NO_SAMPLE_IN_WINDOW = "kinetics.no_sample_in_window"
REASON_CODES = (
    REASON_BLQ,
    REASON_TMAX_TIE,
    REASON_AUC_LINEAR,
    REASON_AUC_LOG_DOWN,
    REASON_AUC_DAY_0,
    REASON_AUC_NO_END_SAMPLE,
    REASON_NO_QUANTIFIABLE,
    REASON_NO_SAMPLES,
    REASON_UNKNOWN_VALUES,
    REASON_NO_SAMPLE_IN_WINDOW,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class KineticsObservation:
    """One patient's CAR-T level series.

    ``times_days``: days after infusion (>= 0, strictly increasing); ``levels``: one level per
    time, in ``unit`` (copies/ug genomic DNA or CAR+ cells/uL; 0 = below LLOQ); ``auc_method``:
    ``linear`` (default) or ``linear_up_log_down``; ``window_days``: analysis window (default
    28); ``lloq``: lower limit of quantification in the same unit (levels below it count as 0).
    """

    times_days: tuple[float | None, ...] | None = None
    levels: tuple[float | None, ...] | None = None
    unit: str | None = None
    auc_method: str | None = None
    window_days: float | None = None
    lloq: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class KineticsResult(RuleResult):
    """Kinetics endpoints; ``auc_0_28`` is the AUC from day 0 to ``window_days`` (ADR 0146)."""

    cmax: float | None = None
    tmax_day: float | None = None
    auc_0_28: float | None = None
    tlast_day: float | None = None
    clast: float | None = None


# --- checking the observation ----------------------------------------------------------------
def _checked_list(
    field: str, values: object, plausible: PlausibleRange
) -> list[float | None] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes) or not isinstance(values, tuple | list):
        raise InvalidObservation(field, values, "a list of numbers")
    return [None if item is None else check_range(field, item, plausible) for item in values]


def _check_increasing(times: Sequence[float | None]) -> None:
    known = [time for time in times if time is not None]
    for earlier, later in itertools.pairwise(known):
        if later <= earlier:
            raise InvalidObservation(FIELD_TIMES, later, "strictly increasing days (no repeats)")


def _checked_times(observation: KineticsObservation) -> list[float | None] | None:
    times = _checked_list(FIELD_TIMES, observation.times_days, DAY_AFTER_INFUSION_RANGE)
    if times is not None:
        _check_increasing(times)
    return times


def _checked_levels(observation: KineticsObservation) -> list[float | None] | None:
    levels = _checked_list(FIELD_LEVELS, observation.levels, LEVEL_RANGE)
    times = observation.times_days
    if levels is not None and isinstance(times, tuple | list) and len(times) != len(levels):
        raise InvalidObservation(
            FIELD_LEVELS, observation.levels, f"one level per time ({len(times)} levels)"
        )
    return levels


def _checked_unit(observation: KineticsObservation) -> str | None:
    unit = observation.unit
    if unit is not None and not isinstance(unit, str):
        raise InvalidObservation(FIELD_UNIT, unit, "a unit name such as copies/ug or cells/uL")
    return unit


def _checked_method(observation: KineticsObservation) -> str:
    method = observation.auc_method
    if method is None:
        return DEFAULT_AUC_METHOD
    if method not in AUC_METHODS:
        raise InvalidObservation(FIELD_AUC_METHOD, method, f"one of {', '.join(AUC_METHODS)}")
    return method


def _checked_window(observation: KineticsObservation) -> float:
    window = observation.window_days
    if window is None:
        return DEFAULT_WINDOW_DAYS
    checked = check_range(FIELD_WINDOW, window, DAY_AFTER_INFUSION_RANGE)
    if checked <= 0:
        raise InvalidObservation(FIELD_WINDOW, window, "a number of days greater than 0")
    return checked


def _checked_lloq(observation: KineticsObservation) -> float | None:
    lloq = observation.lloq
    return None if lloq is None else check_range(FIELD_LLOQ, lloq, LEVEL_RANGE)


@dataclass(frozen=True, slots=True)
class _Checked:
    times: list[float | None] | None
    levels: list[float | None] | None
    unit: str | None
    method: str
    window: float
    lloq: float | None


_CHECKERS = (
    _checked_times,
    _checked_levels,
    _checked_unit,
    _checked_method,
    _checked_window,
    _checked_lloq,
)


def _check(observation: KineticsObservation) -> _Checked | list[InvalidObservation]:
    """The checked observation, or every problem found (one per field, Appendix A order)."""
    values, errors = run_checks(observation, _CHECKERS)
    if errors:
        return errors
    return _Checked(*values)  # type: ignore[arg-type]


# --- computing -------------------------------------------------------------------------------
def segment_area(c1: float, c2: float, dt: float, method: str) -> float:
    """Area of one segment (section j): linear, or log-down when the level falls and both > 0."""
    if method == AUC_LINEAR_UP_LOG_DOWN and c1 > c2 > 0:
        return (c1 - c2) / math.log(c1 / c2) * dt
    return (c1 + c2) / TRAPEZOID_DIVISOR * dt


def auc(times: Sequence[float], levels: Sequence[float], method: str) -> float:
    """Sum of the segment areas, left to right (the caller prepends the day-0 point)."""
    total = 0.0
    for index in range(1, len(times)):
        dt = times[index] - times[index - 1]
        total += segment_area(levels[index - 1], levels[index], dt, method)
    return total


def _censored(levels: Sequence[float], lloq: float | None) -> list[float]:
    """Section j: BLQ (below the LLOQ) = 0."""
    if lloq is None:
        return list(levels)
    return [BLQ_LEVEL if level < lloq else level for level in levels]


@dataclass(frozen=True, slots=True)
class _Endpoints:
    cmax: float
    tmax_day: float
    tie: bool
    auc: float | None
    day_0_added: bool
    tlast_day: float | None
    clast: float | None


def _window_auc(times: list[float], levels: list[float], checked: _Checked) -> float | None:
    if times[-1] != checked.window:
        return None
    return auc(times, levels, checked.method)


def _endpoints(times: list[float], levels: list[float], checked: _Checked) -> _Endpoints | None:
    inside = [index for index, time in enumerate(times) if time <= checked.window]
    if not inside:
        return None
    window_times = [times[index] for index in inside]
    window_levels = [levels[index] for index in inside]
    cmax = max(window_levels)
    peak = window_levels.index(cmax)
    tie = window_levels.count(cmax) > 1
    day_0_added = window_times[0] > 0
    if day_0_added:
        window_times.insert(0, 0.0)
        window_levels.insert(0, PRE_INFUSION_LEVEL)
    quantifiable = [index for index, level in enumerate(levels) if level > 0]
    last = quantifiable[-1] if quantifiable else None
    return _Endpoints(
        cmax=cmax,
        tmax_day=times[inside[peak]],
        tie=tie,
        auc=_window_auc(window_times, window_levels, checked),
        day_0_added=day_0_added,
        tlast_day=None if last is None else times[last],
        clast=None if last is None else levels[last],
    )


def _reasons(endpoints: _Endpoints, checked: _Checked, censored: bool) -> tuple[str, ...]:
    reasons: list[str] = []
    if censored:
        reasons.append(REASON_BLQ)
    if endpoints.tie:
        reasons.append(REASON_TMAX_TIE)
    if endpoints.auc is None:
        reasons.append(REASON_AUC_NO_END_SAMPLE)
    else:
        reasons.append(REASON_AUC_LINEAR if checked.method == AUC_LINEAR else REASON_AUC_LOG_DOWN)
        if endpoints.day_0_added:
            reasons.append(REASON_AUC_DAY_0)
    if endpoints.tlast_day is None:
        reasons.append(REASON_NO_QUANTIFIABLE)
    return tuple(reasons)


def _unknown(checked: _Checked) -> tuple[tuple[str, ...], str] | None:
    """(missing fields, reason) when the samples are unknown, empty or incomplete."""
    fields = (FIELD_TIMES, FIELD_LEVELS)
    lists = (checked.times, checked.levels)
    missing = tuple(f for f, v in zip(fields, lists, strict=True) if not v or None in v)
    if not missing:
        return None
    no_samples = any(not values for values in lists)
    return missing, REASON_NO_SAMPLES if no_samples else REASON_UNKNOWN_VALUES


def _cannot(missing: tuple[str, ...], reason: str) -> KineticsResult:
    return KineticsResult(
        status=Status.CANNOT_COMPUTE, criteria=CRITERIA, reasons=(reason,), missing=missing
    )


def compute_kinetics(observation: KineticsObservation) -> KineticsResult:
    """Kinetics endpoints (reference section j), or why they cannot be computed."""
    checked = _check(observation)
    if isinstance(checked, list):
        return KineticsResult(
            status=Status.INVALID_INPUT,
            criteria=CRITERIA,
            reasons=tuple(invalid_reason(error.problem.field) for error in checked),
            problems=invalid_results_problems(checked),
        )
    unknown = _unknown(checked)
    if unknown is not None:
        return _cannot(*unknown)
    times = [time for time in checked.times or () if time is not None]
    raw = [level for level in checked.levels or () if level is not None]
    levels = _censored(raw, checked.lloq)
    endpoints = _endpoints(times, levels, checked)
    if endpoints is None:
        return _cannot((FIELD_TIMES,), REASON_NO_SAMPLE_IN_WINDOW)
    return KineticsResult(
        status=Status.OK,
        criteria=CRITERIA,
        cmax=endpoints.cmax,
        tmax_day=endpoints.tmax_day,
        auc_0_28=endpoints.auc,
        tlast_day=endpoints.tlast_day,
        clast=endpoints.clast,
        reasons=_reasons(endpoints, checked, levels != raw),
    )
