"""Property tests for ICAHT (reference section e): monotonicity, determinacy, batch parity."""

from __future__ import annotations

import itertools
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import carta.analytics.rules.icaht_early as early_batch
import carta.analytics.rules.icaht_late as late_batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.results import Status
from carta.clinical.toxicity.icaht_2023 import (
    ICAHTEarlyObservation,
    ICAHTLateObservation,
    grade_icaht_early,
    grade_icaht_late,
)
from tests.spec.parity import check_both

DAYS = range(31)
# Values on and around the thresholds of e.1 and e.2, plus plain numbers.
ANC_MARKS = [0.0, 50.0, 100.0, 101.0, 300.0, 500.0, 501.0, 1000.0, 1001.0, 1500.0, 1501.0, 5000.0]
anc_values = st.one_of(
    st.sampled_from(ANC_MARKS), st.floats(min_value=0.0, max_value=20_000.0, allow_nan=False)
)
# Early series lean towards low values so that long episodes and short gaps are common.
early_values = st.one_of(
    st.sampled_from([0.0, 50.0, 100.0, 101.0, 300.0, 500.0]),
    st.sampled_from([501.0, 2000.0]),
)
complete_series = st.lists(early_values, min_size=31, max_size=31)
partial_series = st.lists(st.one_of(st.none(), early_values), min_size=31, max_size=31)
COMPLETIONS = [0.0, 100.0, 101.0, 500.0, 501.0, 10_000.0]


def early(values: list[float | None]) -> Any:
    anc_by_day = {str(day): value for day, value in zip(DAYS, values, strict=True)}
    return grade_icaht_early(ICAHTEarlyObservation(anc_by_day=anc_by_day))


# --- early ICAHT -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(partial_series, st.integers(0, 30), st.floats(0.0, 1.0))
def test_early_lowering_an_anc_never_lowers_the_grade(
    values: list[float | None], day: int, fraction: float
) -> None:
    before = early(values)
    lowered = list(values)
    lowered[day] = (values[day] if values[day] is not None else 10_000.0) * fraction
    after = early(lowered)
    if before.ok and after.ok:
        assert after.grade >= before.grade
        if before.days_le_500 is not None and after.days_le_500 is not None:
            assert after.days_le_500 >= before.days_le_500


@settings(max_examples=100, deadline=None)
@given(complete_series)
def test_early_complete_series_is_always_graded(values: list[float]) -> None:
    result = early(list(values))
    assert result.status is Status.OK
    assert result.missing == ()
    assert 0 <= result.grade <= 4
    assert result.days_le_100 <= result.days_le_500 <= 31


@settings(max_examples=100, deadline=None)
@given(partial_series, st.lists(early_values, min_size=31, max_size=31))
def test_early_supplying_the_missing_days_gives_ok(
    values: list[float | None], fill: list[float]
) -> None:
    result = early(values)
    if result.status is not Status.CANNOT_GRADE:
        return
    assert result.missing
    supplied = list(values)
    for name in result.missing:
        days = DAYS if name == "anc_by_day" else [int(name.split(".")[1])]
        for day in days:
            assert values[day] is None
            supplied[day] = fill[day]
    assert early(supplied).status is Status.OK


def _brute_force(values: list[float | None]) -> dict[tuple[float, ...], Any]:
    unmeasured = [day for day, value in enumerate(values) if value is None]
    outcomes = {}
    for completion in itertools.product(COMPLETIONS, repeat=len(unmeasured)):
        filled = list(values)
        for day, value in zip(unmeasured, completion, strict=True):
            filled[day] = value
        outcomes[completion] = early(filled)
    return outcomes


@settings(max_examples=60, deadline=None)
@given(
    complete_series,
    st.lists(st.integers(0, 30), min_size=1, max_size=3, unique=True),
)
def test_early_determinacy_agrees_with_brute_force(values: list[float], gaps: list[int]) -> None:
    partial: list[float | None] = list(values)
    for day in gaps:
        partial[day] = None
    result = early(partial)
    outcomes = _brute_force(partial)
    grades = {outcome.grade for outcome in outcomes.values()}
    if len(grades) == 1:
        assert result.status is Status.OK
        assert result.grade == grades.pop()
        for field in ("days_le_500", "days_le_100"):
            counts = {getattr(outcome, field) for outcome in outcomes.values()}
            expected = counts.pop() if len(counts) == 1 else None
            assert getattr(result, field) == expected
    else:
        assert result.status is Status.CANNOT_GRADE
        assert result.grade is None
    # a day left out of ``missing`` can never change the grade, whatever the others hold
    unmeasured = sorted(gaps)
    listed = {int(name.split(".")[1]) for name in result.missing}
    for position, day in enumerate(unmeasured):
        if day in listed:
            continue
        for completion, outcome in outcomes.items():
            for other in COMPLETIONS:
                varied = list(completion)
                varied[position] = other
                assert outcomes[tuple(varied)].grade == outcome.grade


INVALID_ANC = [-1.0, 2_000_000.0, math.nan]


def _runs(draw: st.DrawFn) -> list[float]:
    """Alternating low and high runs of 1-5 days: gaps, edges and separate episodes."""
    values: list[float] = []
    low = draw(st.booleans())
    while len(values) < len(DAYS):
        level = draw(st.sampled_from([50.0, 300.0] if low else [501.0, 2000.0]))
        values += [level] * draw(st.integers(1, 5))
        low = not low
    return values[: len(DAYS)]


def _mostly_low(draw: st.DrawFn) -> list[float]:
    """One long episode: a high prefix, an early high block, a few other days (never-recovered)."""
    values = [draw(st.sampled_from([50.0, 300.0]))] * len(DAYS)
    prefix = draw(st.integers(0, 6))
    block_start, block_length = draw(st.integers(0, 8)), draw(st.integers(0, 4))
    high = [*range(prefix), *range(block_start, block_start + block_length)]
    high += draw(st.lists(st.integers(0, 30), max_size=2))
    for day in high:
        values[min(day, 30)] = draw(st.sampled_from([501.0, 2000.0, 100.0]))
    return values


def _any_values(draw: st.DrawFn) -> list[float]:
    return draw(st.lists(st.one_of(early_values, anc_values), min_size=31, max_size=31))


SHAPES = {"series": _any_values, "sparse": _any_values, "runs": _runs, "mostly_low": _mostly_low}


@st.composite
def early_records(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly valid series with a few unmeasured days; now and then an invalid value or key."""
    kinds = ["series", "runs", "runs", "mostly_low", "none", "invalid", "extra_key", "sparse"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return {"anc_by_day": None}
    values: list[Any] = SHAPES.get(kind, _any_values)(draw)
    gaps = draw(st.lists(st.integers(0, 30), max_size=25 if kind == "sparse" else 4))
    key = int if draw(st.booleans()) else str
    anc_by_day: dict[Any, Any] = {}
    for day, value in zip(DAYS, values, strict=True):
        if day not in gaps:
            anc_by_day[key(day)] = value
        elif draw(st.booleans()):
            anc_by_day[key(day)] = None  # unmeasured, given as null
    if kind == "invalid":
        anc_by_day[key(draw(st.integers(0, 30)))] = draw(st.sampled_from(INVALID_ANC))
    if kind == "extra_key":
        anc_by_day[draw(st.sampled_from(["31", "45", "-2"]))] = draw(early_values)
    return {"anc_by_day": anc_by_day}


@settings(max_examples=60, deadline=None)
@given(st.lists(early_records(), min_size=1, max_size=8))
def test_early_scalar_and_batch_rows_are_identical(records: list[dict[str, Any]]) -> None:
    # The unknown series is appended because frames built from records that are all empty
    # mappings have no column, hence no row (a limitation of the records layer).
    records = [*records, {"anc_by_day": None}]
    check_both(
        lambda record: grade_icaht_early(observation_from_mapping(ICAHTEarlyObservation, record)),
        early_batch.grade_frame,
        [(record, {}) for record in records],
    )


# --- late ICAHT ------------------------------------------------------------------------------
LATE_COMPLETIONS = [0.0, 100.0, 101.0, 500.0, 501.0, 1000.0, 1001.0, 1500.0, 1501.0, 10_000.0]
late_days = st.sampled_from([20, 30, 31, 35, 40, 40, 50, 60, 90])


def late(
    measurements: list[tuple[int | None, float | None]], other_cause: bool | None = False
) -> Any:
    return grade_icaht_late(
        ICAHTLateObservation(
            anc_measurements=tuple({"day": d, "anc": a} for d, a in measurements),
            attributable_to_other_cause=other_cause,
        )
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(late_days, anc_values), min_size=0, max_size=6),
    st.integers(0, 5),
    st.floats(0.0, 1.0),
)
def test_late_lowering_an_anc_never_lowers_the_grade(
    measurements: list[tuple[int, float]], index: int, fraction: float
) -> None:
    if not measurements:
        return
    index %= len(measurements)
    before = late(list(measurements))
    lowered = list(measurements)
    day, anc = lowered[index]
    lowered[index] = (day, anc * fraction)
    after = late(lowered)
    if before.ok:
        assert after.ok
        assert after.grade >= before.grade


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.none(), late_days), st.one_of(st.none(), anc_values)), max_size=5
    ),
    st.one_of(st.none(), st.booleans()),
    st.lists(anc_values, min_size=8, max_size=8),
)
def test_late_supplying_the_missing_fields_gives_ok(
    measurements: list[tuple[int | None, float | None]],
    other_cause: bool | None,
    fill: list[float],
) -> None:
    result = late(measurements, other_cause)
    if result.status is not Status.CANNOT_GRADE:
        return
    assert result.missing
    supplied = list(measurements)
    if "anc_measurements.day" in result.missing:
        supplied = [(100 + i if d is None else d, a) for i, (d, a) in enumerate(supplied)]
    if "anc_measurements.anc" in result.missing:
        supplied = [(d, fill[i] if a is None else a) for i, (d, a) in enumerate(supplied)]
    if "anc_measurements" in result.missing:
        supplied += [(200, fill[6]), (201, fill[7])]
    if "attributable_to_other_cause" in result.missing:
        other_cause = False
    assert late(supplied, other_cause).status is Status.OK


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(late_days, anc_values), max_size=4),
    st.lists(st.tuples(late_days, st.none()), max_size=2),
    st.lists(st.tuples(st.none(), anc_values), max_size=1),
)
def test_late_determinacy_agrees_with_brute_force(
    known: list[tuple[int, float]],
    unknown_anc: list[tuple[int, None]],
    unknown_day: list[tuple[None, float]],
) -> None:
    measurements: list[tuple[int | None, float | None]] = [*known, *unknown_anc, *unknown_day]
    result = late(measurements)
    day_options = [20, 31, 40, 50, 77, 78]
    slots = [
        (i, field)
        for i, (d, a) in enumerate(measurements)
        for field, value in (("day", d), ("anc", a))
        if value is None
    ]
    options = [day_options if field == "day" else LATE_COMPLETIONS for _, field in slots]
    outcomes = set()
    for choice in itertools.product(*options):
        filled = [list(m) for m in measurements]
        for (i, field), value in zip(slots, choice, strict=True):
            filled[i][0 if field == "day" else 1] = value
        outcome = late([(d, a) for d, a in filled])
        outcomes.add(outcome.grade if outcome.ok else "too_few")
    if len(outcomes) == 1 and "too_few" not in outcomes:
        assert result.status is Status.OK
        assert result.grade == outcomes.pop()
    else:
        assert result.status is Status.CANNOT_GRADE


@st.composite
def late_records(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly valid measurement lists; now and then unknown or invalid entries."""
    kind = draw(st.sampled_from(["list"] * 6 + ["none", "empty", "unknown", "invalid"]))
    other_cause = draw(st.sampled_from([False, False, True, None]))
    if kind == "none":
        return {"anc_measurements": None, "attributable_to_other_cause": other_cause}
    if kind == "empty":
        return {"anc_measurements": [], "attributable_to_other_cause": other_cause}
    entries = draw(st.lists(st.tuples(late_days, anc_values), min_size=1, max_size=6))
    if kind == "unknown":
        entries.append(draw(st.sampled_from([(None, 300.0), (45, None), (None, None)])))
    if kind == "invalid":
        entries.append(draw(st.sampled_from([(-1, 300.0), (40.5, 300.0), (45, -1.0), (45, 2e6)])))
    return {
        "anc_measurements": [{"day": d, "anc": a} for d, a in entries],
        "attributable_to_other_cause": other_cause,
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(late_records(), min_size=1, max_size=8))
def test_late_scalar_and_batch_rows_are_identical(records: list[dict[str, Any]]) -> None:
    check_both(
        lambda record: grade_icaht_late(observation_from_mapping(ICAHTLateObservation, record)),
        late_batch.grade_frame,
        [(record, {}) for record in records],
    )
