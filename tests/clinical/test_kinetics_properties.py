"""Property tests for the kinetics endpoints (reference section j)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import carta.analytics.rules.kinetics as kinetics_batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.kinetics import KineticsObservation, compute_kinetics
from carta.clinical.results import Status
from tests.spec.parity import check_both

levels_st = st.one_of(
    st.sampled_from([0.0, 1.0, 10.0, 100.0]),
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def series(draw: st.DrawFn, with_day_28: bool | None = None) -> tuple[list[float], list[float]]:
    """Strictly increasing times from day 0 to 200, with one level each."""
    times = sorted(set(draw(st.lists(st.integers(0, 200), min_size=1, max_size=10))))
    if with_day_28 is True and 28 not in times:
        times = sorted([*times, 28])
    if with_day_28 is False:
        times = [t for t in times if t != 28] or [1]
    levels = draw(st.lists(levels_st, min_size=len(times), max_size=len(times)))
    return [float(t) for t in times], levels


def kinetics(times: list[float], levels: list[float | None], **rest: Any) -> Any:
    return compute_kinetics(
        KineticsObservation(times_days=tuple(times), levels=tuple(levels), **rest)
    )


@settings(max_examples=150, deadline=None)
@given(series(), st.integers(0, 9), st.floats(1.0, 10.0))
def test_raising_a_level_never_lowers_cmax_or_linear_auc(
    data: tuple[list[float], list[float]], index: int, factor: float
) -> None:
    times, levels = data
    index %= len(levels)
    before = kinetics(times, list(levels))
    raised = list(levels)
    raised[index] = levels[index] * factor + 1.0
    after = kinetics(times, raised)
    assert before.status == after.status
    if before.ok:
        assert after.cmax >= before.cmax
        if before.auc_0_28 is not None:
            assert after.auc_0_28 >= before.auc_0_28


@settings(max_examples=150, deadline=None)
@given(series(with_day_28=True))
def test_log_down_area_never_exceeds_linear(data: tuple[list[float], list[float]]) -> None:
    times, levels = data
    linear = kinetics(times, levels)
    log_down = kinetics(times, levels, auc_method="linear_up_log_down")
    assert linear.ok and log_down.ok
    assert log_down.auc_0_28 <= linear.auc_0_28 * (1 + 1e-12)
    assert linear.auc_0_28 >= 0.0


@settings(max_examples=150, deadline=None)
@given(series(), st.one_of(st.none(), levels_st))
def test_cmax_tmax_tlast_definitions(
    data: tuple[list[float], list[float]], lloq: float | None
) -> None:
    times, levels = data
    result = kinetics(times, levels, lloq=lloq)
    censored = [0.0 if lloq is not None and v < lloq else v for v in levels]
    window = [(t, v) for t, v in zip(times, censored, strict=True) if t <= 28]
    if not window:
        assert result.status is Status.CANNOT_COMPUTE
        return
    assert result.ok
    assert result.cmax == max(v for _, v in window)
    assert result.tmax_day == min(t for t, v in window if v == result.cmax)
    quantifiable = [t for t, v in zip(times, censored, strict=True) if v > 0]
    assert result.tlast_day == (max(quantifiable) if quantifiable else None)
    assert (result.auc_0_28 is not None) == (28.0 in times)


@settings(max_examples=150, deadline=None)
@given(series(with_day_28=False), levels_st)
def test_adding_the_day_28_sample_gives_the_auc(
    data: tuple[list[float], list[float]], level: float
) -> None:
    times, levels = data
    before = kinetics(times, levels)
    if not before.ok:
        return
    assert before.auc_0_28 is None
    pairs = sorted([*zip(times, levels, strict=True), (28.0, level)])
    after = kinetics([t for t, _ in pairs], [v for _, v in pairs])
    assert after.ok
    assert after.auc_0_28 is not None


@settings(max_examples=150, deadline=None)
@given(series(with_day_28=True), st.lists(st.booleans(), min_size=11, max_size=11))
def test_supplying_unknown_levels_gives_ok(
    data: tuple[list[float], list[float]], hide: list[bool]
) -> None:
    times, levels = data
    hidden = [None if hide[i] else v for i, v in enumerate(levels)]
    result = kinetics(times, hidden)
    if any(v is None for v in hidden):
        assert result.status is Status.CANNOT_COMPUTE
        assert result.missing == ("levels",)
    assert kinetics(times, levels).status is Status.OK


@settings(max_examples=150, deadline=None)
@given(series(with_day_28=True), st.floats(0.5, 4.0))
def test_scaling_levels_scales_cmax_and_auc(
    data: tuple[list[float], list[float]], factor: float
) -> None:
    times, levels = data
    base = kinetics(times, levels)
    scaled = kinetics(times, [v * factor for v in levels])
    assert math.isclose(scaled.cmax, base.cmax * factor, rel_tol=1e-12)
    assert math.isclose(scaled.auc_0_28, base.auc_0_28 * factor, rel_tol=1e-9, abs_tol=1e-9)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly valid series; now and then unknown, missing or invalid parts."""
    kind = draw(st.sampled_from(["valid"] * 6 + ["unknown", "none", "invalid", "empty"]))
    times, levels = draw(series())
    record: dict[str, Any] = {
        "times_days": [int(t) for t in times] if draw(st.booleans()) else times,
        "levels": levels,
        "unit": draw(st.sampled_from(["copies/ug", "cells/uL", None])),
        "auc_method": draw(st.sampled_from(["linear", "linear_up_log_down", None])),
        "window_days": draw(st.sampled_from([None, 28.0, 14.0, 21, 60.0])),
        "lloq": draw(st.one_of(st.none(), st.sampled_from([0.0, 5.0, 50.0]))),
    }
    if kind == "unknown":
        field = draw(st.sampled_from(["times_days", "levels"]))
        record[field] = [*record[field][:-1], None]
    elif kind == "none":
        record[draw(st.sampled_from(["times_days", "levels"]))] = None
    elif kind == "empty":
        record["times_days"], record["levels"] = [], []
    elif kind == "invalid":
        field, value = draw(
            st.sampled_from(
                [
                    ("levels", [*levels, 1.0]),
                    ("levels", [-1.0, *levels[1:]]),
                    ("levels", [math.nan, *levels[1:]]),
                    ("times_days", [-1.0, *times[1:]]),
                    ("times_days", list(reversed(times)) if len(times) > 1 else [-2.0]),
                    ("window_days", 0.0),
                    ("lloq", -1.0),
                ]
            )
        )
        record[field] = value
    return record


@settings(max_examples=60, deadline=None)
@given(st.lists(records(), min_size=1, max_size=8))
def test_scalar_and_batch_rows_are_identical(batch: list[dict[str, Any]]) -> None:
    check_both(
        lambda record: compute_kinetics(observation_from_mapping(KineticsObservation, record)),
        kinetics_batch.grade_frame,
        [(record, {}) for record in batch],
    )
