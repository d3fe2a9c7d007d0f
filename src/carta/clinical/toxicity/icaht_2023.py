"""ICAHT - immune effector cell-associated hematotoxicity (EHA/EBMT consensus 2023).

Reference section e (e.1 early ICAHT, e.2 late ICAHT, e.3 disagreements), with the global
conventions of section 0 (status words 0.2, the determinacy rule and its extreme completions
0.3, counts compared as given 0.4, attribution 0.5) and the field names of Appendix A.
Citation: Rejeski K et al. Blood 2023;142(10):865-877. doi:10.1182/blood.2023020578.

Early ICAHT (day 0-30), neutrophil based, both thresholds inclusive::

    grade 1   1-6 days with ANC <= 500/uL
    grade 2   7-13 days <= 500
    grade 3   >= 14 days <= 500            or >= 7 days <= 100
    grade 4   never recovered above 500    or >= 14 days <= 100

Day counting [S]: the lowest ANC of each calendar day; a run of 1 or 2 days above the threshold
with low days on both sides (inside the window) is a non-stable recovery and counts as low; the
day counts are cumulative over the window; "never recovered" means the first day <= 500 is on or
before day 3 and every later day is low after relabelling. Unmeasured days: the grade is given
only if both extreme completions (every unmeasured ANC = 0, and = 10 000/uL) agree.

Late ICAHT (from day 31): grade 1/2/3/4 at ANC <= 1500/1000/500/100, the threshold met on at
least two measurements on different days (the grade of the second-lowest daily value).

The vectorised twins are :mod:`carta.analytics.rules.icaht_early` and
:mod:`carta.analytics.rules.icaht_late`. Reason codes and the [S] choices are documented in
``docs/criteria/icaht.md`` and ADRs 0141-0145 and 0148.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from carta.clinical.citations import ICAHT
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.units import CELL_COUNT_RANGE, DAY_AFTER_INFUSION_RANGE, check_range

CRITERIA: Criteria = ICAHT

# --- early ICAHT thresholds (reference section e.1) ------------------------------------------
EARLY_FIRST_DAY = 0  # e.1 step 1: the window starts on the infusion day (day 0)
EARLY_LAST_DAY = 30  # e.1 step 1: ... and ends on day 30 inclusive (31 daily values)
EARLY_DAYS = tuple(range(EARLY_FIRST_DAY, EARLY_LAST_DAY + 1))
ANC_LOW_500 = 500.0  # e.1 table: ANC <= 500/uL, boundary included (500 counts as low)
ANC_LOW_100 = 100.0  # e.1 table: ANC <= 100/uL, boundary included (100 counts as low)
NON_STABLE_RECOVERY_MAX_DAYS = 2  # e.1 step 3: a run of 1 or 2 days above T is not stable
D500_GRADE_1_DAYS = 1  # e.1 table: 1-6 days <= 500 -> grade 1
D500_GRADE_2_DAYS = 7  # e.1 table: 7-13 days <= 500 -> grade 2
D500_GRADE_3_DAYS = 14  # e.1 table: >= 14 days <= 500 -> grade 3
D100_GRADE_3_DAYS = 7  # e.1 table: >= 7 days <= 100 -> grade 3
D100_GRADE_4_DAYS = 14  # e.1 table: >= 14 days <= 100 -> grade 4
NEVER_RECOVERED_FIRST_LOW_BY_DAY = 3  # e.1 step 5: first day <= 500 on or before day 3
# Section 0.3: the two extreme completions of an ICAHT day series.
COMPLETION_LOW_ANC = 0.0
COMPLETION_HIGH_ANC = 10_000.0

# --- late ICAHT thresholds (reference section e.2) -------------------------------------------
LATE_FIRST_DAY = 31  # e.2: counts only from day 31 onward
LATE_MIN_DAYS = 2  # e.2: threshold met on >= 2 measurements, on different days
LATE_GRADE_1_ANC = 1500.0  # e.2 table: <= 1500/uL, inclusive
LATE_GRADE_2_ANC = 1000.0  # e.2 table: <= 1000/uL, inclusive
LATE_GRADE_3_ANC = 500.0  # e.2 table: <= 500/uL, inclusive
LATE_GRADE_4_ANC = 100.0  # e.2 table: <= 100/uL, inclusive

GRADE_0 = 0
GRADE_1 = 1
GRADE_2 = 2
GRADE_3 = 3
GRADE_4 = 4
# Highest grade first: the late grade is the first whose threshold the second-lowest day meets.
LATE_THRESHOLDS = (
    (GRADE_4, LATE_GRADE_4_ANC),
    (GRADE_3, LATE_GRADE_3_ANC),
    (GRADE_2, LATE_GRADE_2_ANC),
    (GRADE_1, LATE_GRADE_1_ANC),
)

# --- field names (Appendix A) ----------------------------------------------------------------
FIELD_ANC_BY_DAY = "anc_by_day"
FIELD_ANC_MEASUREMENTS = "anc_measurements"
FIELD_MEASUREMENT_DAY = "anc_measurements.day"
FIELD_MEASUREMENT_ANC = "anc_measurements.anc"
FIELD_ATTRIBUTABLE = "attributable_to_other_cause"


def day_field(day: object) -> str:
    """The field name of one day of the early series: ``anc_by_day.12``."""
    return f"{FIELD_ANC_BY_DAY}.{day}"


# --- early reason codes, in the fixed order they appear in ``reasons`` -----------------------
# ok: one code for the days <= 500 (the highest threshold certainly reached), one for the days
# <= 100 when >= 7, then the never-recovered finding, the relabelling, and a note that unmeasured
# days could not change the grade. cannot_grade: one code.
REASON_EARLY_NO_DAY_LE_500 = "icaht.early.no_day_le_500"
REASON_EARLY_D500_GE_1 = "icaht.early.d500_ge_1"
REASON_EARLY_D500_GE_7 = "icaht.early.d500_ge_7"
REASON_EARLY_D500_GE_14 = "icaht.early.d500_ge_14"
REASON_EARLY_D100_GE_7 = "icaht.early.d100_ge_7"
REASON_EARLY_D100_GE_14 = "icaht.early.d100_ge_14"
REASON_EARLY_NEVER_RECOVERED = "icaht.early.never_recovered"
REASON_EARLY_NON_STABLE_RECOVERY = "icaht.early.non_stable_recovery"
REASON_EARLY_UNMEASURED_IRRELEVANT = "icaht.early.unmeasured_days_do_not_change_grade"
REASON_EARLY_UNDETERMINED = "icaht.early.grade_depends_on_unmeasured_days"
EARLY_REASON_CODES = (
    REASON_EARLY_NO_DAY_LE_500,
    REASON_EARLY_D500_GE_1,
    REASON_EARLY_D500_GE_7,
    REASON_EARLY_D500_GE_14,
    REASON_EARLY_D100_GE_7,
    REASON_EARLY_D100_GE_14,
    REASON_EARLY_NEVER_RECOVERED,
    REASON_EARLY_NON_STABLE_RECOVERY,
    REASON_EARLY_UNMEASURED_IRRELEVANT,
    REASON_EARLY_UNDETERMINED,
)

# --- late reason codes, in the fixed order they appear in ``reasons`` ------------------------
REASON_LATE_OTHER_CAUSE = "icaht.late.other_cause"
REASON_LATE_IGNORED_EARLY_DAYS = "icaht.late.ignored_day_le_30"
REASON_LATE_LE_100 = "icaht.late.anc_le_100_on_2_days"
REASON_LATE_LE_500 = "icaht.late.anc_le_500_on_2_days"
REASON_LATE_LE_1000 = "icaht.late.anc_le_1000_on_2_days"
REASON_LATE_LE_1500 = "icaht.late.anc_le_1500_on_2_days"
REASON_LATE_NOT_LE_1500 = "icaht.late.anc_le_1500_on_fewer_than_2_days"
REASON_LATE_LOWEST_OF_DAY = "icaht.late.lowest_of_day_used"
REASON_LATE_UNKNOWN_IRRELEVANT = "icaht.late.unknown_values_do_not_change_grade"
REASON_LATE_TOO_FEW = "icaht.late.fewer_than_2_days_after_day_30"
REASON_LATE_UNDETERMINED = "icaht.late.grade_depends_on_unknown_values"
REASON_LATE_ATTRIBUTION_UNKNOWN = "icaht.late.attribution_unknown"
LATE_GRADE_REASONS = {
    GRADE_4: REASON_LATE_LE_100,
    GRADE_3: REASON_LATE_LE_500,
    GRADE_2: REASON_LATE_LE_1000,
    GRADE_1: REASON_LATE_LE_1500,
    GRADE_0: REASON_LATE_NOT_LE_1500,
}


# --- inputs and results ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ICAHTEarlyObservation:
    """The day 0-30 neutrophil series: day -> lowest ANC of that day (cells/uL).

    Keys are day numbers as ``int`` or as their decimal string (``"12"``, the JSON form); an
    absent day or a ``None`` value is an unmeasured day. ``None`` for the whole mapping means no
    day is known.
    """

    anc_by_day: Mapping[int | str, float | None] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ICAHTEarlyResult(RuleResult):
    """Early ICAHT grade and the cumulative low-day counts after relabelling.

    ``days_le_500`` / ``days_le_100`` are given when the grade is ``ok`` and the count is the
    same whatever the unmeasured days hold (otherwise ``None``, ADR 0141).
    """

    grade: int | None = None
    days_le_500: int | None = None
    days_le_100: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ANCMeasurement:
    """One ANC measurement after day 30: day after infusion and ANC (cells/uL)."""

    day: float | None = None
    anc: float | None = None


# An entry of ``anc_measurements``: a measurement, a mapping with ``day``/``anc`` (the JSON
# form), or a ``(day, anc)`` pair.
MeasurementEntry = ANCMeasurement | Mapping[str, object] | tuple[object, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class ICAHTLateObservation:
    """ANC measurements after infusion and whether the cytopenia has another cause."""

    anc_measurements: tuple[MeasurementEntry, ...] | None = None
    attributable_to_other_cause: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ICAHTLateResult(RuleResult):
    """Late ICAHT grade (0 = none, including cytopenia explained by another cause)."""

    grade: int | None = None


# --- early ICAHT: reading the series ---------------------------------------------------------
def _day_of_key(key: object) -> int | None:
    """``3`` or ``"3"`` -> 3; anything else (``"03"``, ``3.0``, ``31``, ``True``) -> None."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        day = key
    elif isinstance(key, str) and key.isascii() and key.isdigit() and str(int(key)) == key:
        day = int(key)
    else:
        return None
    return day if EARLY_FIRST_DAY <= day <= EARLY_LAST_DAY else None


@dataclass(slots=True)
class _EarlySeries:
    """The measured days of an early series, and the problems found while reading it."""

    values: dict[int, float]
    seen: set[int]
    day_errors: dict[int, InvalidObservation]
    key_errors: dict[str, InvalidObservation]

    def errors(self) -> list[InvalidObservation]:
        """Problems in a fixed order: days 0..30, then bad keys sorted as text."""
        by_day = [self.day_errors[day] for day in sorted(self.day_errors)]
        return by_day + [self.key_errors[key] for key in sorted(self.key_errors)]


def _read_day(series: _EarlySeries, key: object, value: object) -> None:
    day = _day_of_key(key)
    if day is None:
        series.key_errors.setdefault(
            str(key), InvalidObservation(day_field(key), key, "a day number from 0 to 30")
        )
        return
    if day in series.seen:
        series.day_errors.setdefault(
            day, InvalidObservation(day_field(day), value, "one value per day")
        )
        return
    series.seen.add(day)
    if value is None:
        return
    try:
        series.values[day] = check_range(day_field(day), value, CELL_COUNT_RANGE)  # type: ignore[arg-type]
    except InvalidObservation as error:
        series.day_errors[day] = error


def _read_early(anc_by_day: object) -> _EarlySeries:
    series = _EarlySeries(values={}, seen=set(), day_errors={}, key_errors={})
    if anc_by_day is None:
        return series
    if not isinstance(anc_by_day, Mapping):
        series.key_errors[""] = InvalidObservation(
            FIELD_ANC_BY_DAY, anc_by_day, "a mapping from day (0 to 30) to the lowest ANC"
        )
        return series
    for key, value in anc_by_day.items():
        _read_day(series, key, value)
    return series


# --- early ICAHT: grading one complete series ------------------------------------------------
def relabel_non_stable_recovery(low: Sequence[bool]) -> list[bool]:
    """Section e.1 step 3: a run of 1-2 non-low days with low days on both sides becomes low."""
    labelled = list(low)
    start = 0
    while start < len(low):
        if low[start]:
            start += 1
            continue
        end = start
        while end + 1 < len(low) and not low[end + 1]:
            end += 1
        bounded = start > 0 and end < len(low) - 1
        if bounded and end - start + 1 <= NON_STABLE_RECOVERY_MAX_DAYS:
            labelled[start : end + 1] = [True] * (end - start + 1)
        start = end + 1
    return labelled


@dataclass(frozen=True, slots=True)
class EarlyFindings:
    """What one complete 31-day series shows."""

    days_le_500: int
    days_le_100: int
    never_recovered: bool
    non_stable_recovery: bool
    low_100_after_relabelling: tuple[bool, ...]

    @property
    def grade(self) -> int:
        """Section e.1: the highest row satisfied by either column."""
        if self.never_recovered or self.days_le_100 >= D100_GRADE_4_DAYS:
            return GRADE_4
        if self.days_le_500 >= D500_GRADE_3_DAYS or self.days_le_100 >= D100_GRADE_3_DAYS:
            return GRADE_3
        if self.days_le_500 >= D500_GRADE_2_DAYS:
            return GRADE_2
        if self.days_le_500 >= D500_GRADE_1_DAYS:
            return GRADE_1
        return GRADE_0


def _never_recovered(low: Sequence[bool], labelled: Sequence[bool]) -> bool:
    """Section e.1 step 5: first low day on or before day 3, and every later day low."""
    first = next((day for day, is_low in enumerate(low) if is_low), None)
    if first is None or first > NEVER_RECOVERED_FIRST_LOW_BY_DAY:
        return False
    return all(labelled[first:])


def early_findings(series: Sequence[float]) -> EarlyFindings:
    """Counts and findings of a complete series (index = day 0..30)."""
    low_500 = [anc <= ANC_LOW_500 for anc in series]
    low_100 = [anc <= ANC_LOW_100 for anc in series]
    labelled_500 = relabel_non_stable_recovery(low_500)
    labelled_100 = relabel_non_stable_recovery(low_100)
    return EarlyFindings(
        days_le_500=sum(labelled_500),
        days_le_100=sum(labelled_100),
        never_recovered=_never_recovered(low_500, labelled_500),
        non_stable_recovery=labelled_500 != low_500 or labelled_100 != low_100,
        low_100_after_relabelling=tuple(labelled_100),
    )


def _completed(values: Mapping[int, float], fill: float) -> list[float]:
    """The 31-day series with every unmeasured day set to ``fill`` (section 0.3)."""
    return [values.get(day, fill) for day in EARLY_DAYS]


# --- early ICAHT: result ---------------------------------------------------------------------
def _d500_reason(days_le_500: int) -> str:
    if days_le_500 >= D500_GRADE_3_DAYS:
        return REASON_EARLY_D500_GE_14
    if days_le_500 >= D500_GRADE_2_DAYS:
        return REASON_EARLY_D500_GE_7
    if days_le_500 >= D500_GRADE_1_DAYS:
        return REASON_EARLY_D500_GE_1
    return REASON_EARLY_NO_DAY_LE_500


def _early_reasons(certain: EarlyFindings, any_unmeasured: bool) -> tuple[str, ...]:
    """Findings that hold whatever the unmeasured days hold (the high completion)."""
    reasons = [_d500_reason(certain.days_le_500)]
    if certain.days_le_100 >= D100_GRADE_4_DAYS:
        reasons.append(REASON_EARLY_D100_GE_14)
    elif certain.days_le_100 >= D100_GRADE_3_DAYS:
        reasons.append(REASON_EARLY_D100_GE_7)
    if certain.never_recovered:
        reasons.append(REASON_EARLY_NEVER_RECOVERED)
    if certain.non_stable_recovery:
        reasons.append(REASON_EARLY_NON_STABLE_RECOVERY)
    if any_unmeasured:
        reasons.append(REASON_EARLY_UNMEASURED_IRRELEVANT)
    return tuple(reasons)


def _early_missing(values: Mapping[int, float], certain: EarlyFindings) -> tuple[str, ...]:
    """Unmeasured days that may matter, in day order (ADR 0141).

    A day inside a 1-2-day gap between days <= 100 counts as low at both thresholds whatever its
    value, so it is not listed. With no day measured at all, the whole field is named.
    """
    if not values:
        return (FIELD_ANC_BY_DAY,)
    return tuple(
        day_field(day)
        for day in EARLY_DAYS
        if day not in values and not certain.low_100_after_relabelling[day]
    )


def _same_or_none(low: int, high: int) -> int | None:
    return high if low == high else None


def _invalid_early(errors: list[InvalidObservation]) -> ICAHTEarlyResult:
    return ICAHTEarlyResult(
        status=Status.INVALID_INPUT,
        criteria=CRITERIA,
        reasons=tuple(invalid_reason(error.problem.field) for error in errors),
        problems=invalid_results_problems(errors),
    )


def grade_icaht_early(observation: ICAHTEarlyObservation) -> ICAHTEarlyResult:
    """Early ICAHT grade (reference e.1) from the day 0-30 series, or why there is none."""
    series = _read_early(observation.anc_by_day)
    errors = series.errors()
    if errors:
        return _invalid_early(errors)
    worst = early_findings(_completed(series.values, COMPLETION_LOW_ANC))
    best = early_findings(_completed(series.values, COMPLETION_HIGH_ANC))
    if worst.grade != best.grade:
        return ICAHTEarlyResult(
            status=Status.CANNOT_GRADE,
            criteria=CRITERIA,
            reasons=(REASON_EARLY_UNDETERMINED,),
            missing=_early_missing(series.values, best),
        )
    return ICAHTEarlyResult(
        status=Status.OK,
        criteria=CRITERIA,
        grade=best.grade,
        days_le_500=_same_or_none(worst.days_le_500, best.days_le_500),
        days_le_100=_same_or_none(worst.days_le_100, best.days_le_100),
        reasons=_early_reasons(best, len(series.values) < len(EARLY_DAYS)),
    )


# --- late ICAHT: reading the measurements ----------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Entry:
    day: float | None
    anc: float | None


_PAIR = 2  # a (day, anc) pair


def _entry_parts(entry: object) -> tuple[object, object] | None:
    """(day, anc) of one entry in any accepted form, or None if it has none of them."""
    if isinstance(entry, ANCMeasurement):
        return entry.day, entry.anc
    if isinstance(entry, Mapping):
        return entry.get("day"), entry.get("anc")
    if isinstance(entry, tuple | list) and len(entry) == _PAIR:
        return entry[0], entry[1]
    return None


def _checked_day(day: object) -> float | None:
    if day is None:
        return None
    expected = "a whole day number from 0 to 36500"
    if isinstance(day, bool) or not isinstance(day, int | float):
        raise InvalidObservation(FIELD_MEASUREMENT_DAY, day, expected)
    if not math.isfinite(day) or not float(day).is_integer():
        raise InvalidObservation(FIELD_MEASUREMENT_DAY, day, expected)
    return check_range(FIELD_MEASUREMENT_DAY, day, DAY_AFTER_INFUSION_RANGE)


def _checked_anc(anc: object) -> float | None:
    if anc is None:
        return None
    return check_range(FIELD_MEASUREMENT_ANC, anc, CELL_COUNT_RANGE)  # type: ignore[arg-type]


def _read_entries(measurements: object, errors: dict[str, InvalidObservation]) -> list[_Entry]:
    if measurements is None:
        return []
    if isinstance(measurements, str | bytes) or not isinstance(measurements, tuple | list):
        errors[FIELD_ANC_MEASUREMENTS] = InvalidObservation(
            FIELD_ANC_MEASUREMENTS, measurements, "a list of {day, anc} measurements"
        )
        return []
    entries: list[_Entry] = []
    for entry in measurements:
        parts = _entry_parts(entry)
        if parts is None:
            errors.setdefault(
                FIELD_ANC_MEASUREMENTS,
                InvalidObservation(FIELD_ANC_MEASUREMENTS, entry, "a {day, anc} measurement"),
            )
            continue
        day: float | None = None
        anc: float | None = None
        try:
            day = _checked_day(parts[0])
        except InvalidObservation as error:
            errors.setdefault(FIELD_MEASUREMENT_DAY, error)
        try:
            anc = _checked_anc(parts[1])
        except InvalidObservation as error:
            errors.setdefault(FIELD_MEASUREMENT_ANC, error)
        entries.append(_Entry(day=day, anc=anc))
    return entries


def _read_late(observation: ICAHTLateObservation) -> tuple[list[_Entry], list[InvalidObservation]]:
    errors: dict[str, InvalidObservation] = {}
    entries = _read_entries(observation.anc_measurements, errors)
    attributable = observation.attributable_to_other_cause
    if attributable is not None and not isinstance(attributable, bool):
        errors[FIELD_ATTRIBUTABLE] = InvalidObservation(
            FIELD_ATTRIBUTABLE, attributable, "true, false or null"
        )
    order = (FIELD_ANC_MEASUREMENTS, FIELD_MEASUREMENT_DAY, FIELD_MEASUREMENT_ANC)
    ordered = [errors[name] for name in (*order, FIELD_ATTRIBUTABLE) if name in errors]
    return entries, ordered


# --- late ICAHT: grading ---------------------------------------------------------------------
def _late_daily_lowest(
    entries: Sequence[_Entry], unknown_anc: float, place_unknown_day: bool
) -> list[float]:
    """The lowest ANC of each day from day 31, sorted, for one completion of the unknowns.

    The severe completion (``unknown_anc`` = 0, ``place_unknown_day``) puts an entry of unknown
    day on a day of its own after day 30; the mild one (10 000, not placed) leaves it out.
    """
    lowest: dict[float, float] = {}
    unplaced: list[float] = []
    for entry in entries:
        anc = unknown_anc if entry.anc is None else entry.anc
        if entry.day is None:
            if place_unknown_day:
                unplaced.append(anc)
        elif entry.day >= LATE_FIRST_DAY:
            lowest[entry.day] = min(anc, lowest.get(entry.day, anc))
    return sorted([*lowest.values(), *unplaced])


def late_grade_of(daily_lowest: Sequence[float]) -> int | None:
    """Section e.2: the highest grade met on two days; None with fewer than two days."""
    if len(daily_lowest) < LATE_MIN_DAYS:
        return None
    second = daily_lowest[LATE_MIN_DAYS - 1]
    for grade, threshold in LATE_THRESHOLDS:
        if second <= threshold:
            return grade
    return GRADE_0


def _late_ok_reasons(entries: Sequence[_Entry], grade: int) -> tuple[str, ...]:
    known_days = [entry.day for entry in entries if entry.day is not None]
    late_days = [day for day in known_days if day >= LATE_FIRST_DAY]
    reasons: list[str] = []
    if len(late_days) < len(known_days):
        reasons.append(REASON_LATE_IGNORED_EARLY_DAYS)
    reasons.append(LATE_GRADE_REASONS[grade])
    if len(set(late_days)) < len(late_days):
        reasons.append(REASON_LATE_LOWEST_OF_DAY)
    if any(entry.day is None or entry.anc is None for entry in entries):
        reasons.append(REASON_LATE_UNKNOWN_IRRELEVANT)
    return tuple(reasons)


def _late_missing(
    observation: ICAHTLateObservation, entries: Sequence[_Entry], too_few: bool
) -> tuple[str, ...]:
    """Fields that blocked the grade, in order: the list, days, ANCs, attribution (ADR 0143)."""
    missing: list[str] = []
    if too_few:
        missing.append(FIELD_ANC_MEASUREMENTS)
    if any(entry.day is None for entry in entries):
        missing.append(FIELD_MEASUREMENT_DAY)
    if any(
        entry.anc is None and (entry.day is None or entry.day >= LATE_FIRST_DAY)
        for entry in entries
    ):
        missing.append(FIELD_MEASUREMENT_ANC)
    if observation.attributable_to_other_cause is None:
        missing.append(FIELD_ATTRIBUTABLE)
    return tuple(missing)


def _late_cannot(
    observation: ICAHTLateObservation, entries: Sequence[_Entry], mild: int | None
) -> ICAHTLateResult:
    reasons = [REASON_LATE_TOO_FEW if mild is None else REASON_LATE_UNDETERMINED]
    if observation.attributable_to_other_cause is None:
        reasons.append(REASON_LATE_ATTRIBUTION_UNKNOWN)
    return ICAHTLateResult(
        status=Status.CANNOT_GRADE,
        criteria=CRITERIA,
        reasons=tuple(reasons),
        missing=_late_missing(observation, entries, too_few=mild is None),
    )


def grade_icaht_late(observation: ICAHTLateObservation) -> ICAHTLateResult:
    """Late ICAHT grade (reference e.2) from the measurements after day 30, or why none."""
    entries, errors = _read_late(observation)
    if errors:
        return ICAHTLateResult(
            status=Status.INVALID_INPUT,
            criteria=CRITERIA,
            reasons=tuple(invalid_reason(error.problem.field) for error in errors),
            problems=invalid_results_problems(errors),
        )
    if observation.attributable_to_other_cause is True:
        return ICAHTLateResult(
            status=Status.OK, criteria=CRITERIA, grade=GRADE_0, reasons=(REASON_LATE_OTHER_CAUSE,)
        )
    severe = late_grade_of(_late_daily_lowest(entries, COMPLETION_LOW_ANC, True))
    mild = late_grade_of(_late_daily_lowest(entries, COMPLETION_HIGH_ANC, False))
    if mild is None or severe != mild:
        return _late_cannot(observation, entries, mild)
    if mild != GRADE_0 and observation.attributable_to_other_cause is None:
        return ICAHTLateResult(
            status=Status.CANNOT_GRADE,
            criteria=CRITERIA,
            reasons=(REASON_LATE_ATTRIBUTION_UNKNOWN,),
            missing=(FIELD_ATTRIBUTABLE,),
        )
    return ICAHTLateResult(
        status=Status.OK,
        criteria=CRITERIA,
        grade=mild,
        reasons=_late_ok_reasons(entries, mild),
    )
