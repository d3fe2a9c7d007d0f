"""Spec tables for ICAHT (reference section e, EHA/EBMT 2023), run through both implementations.

Every threshold and boundary of e.1 (early) and e.2 (late) appears here with the numbers copied
from the reference: ANC <= 500 and <= 100 inclusive; 1-6 / 7-13 / >= 14 days <= 500;
>= 7 / >= 14 days <= 100; non-stable recovery of 1-2 days relabelled, 3 days stable; never
recovered when the first low day is on or before day 3; cumulative counting; extreme completions
(0 and 10 000/uL) for unmeasured days; late thresholds 1500 / 1000 / 500 / 100 inclusive on two
measurements on different days from day 31.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

import carta.analytics.rules.icaht_early as early_batch
import carta.analytics.rules.icaht_late as late_batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.results import Status
from carta.clinical.toxicity.icaht_2023 import (
    ANCMeasurement,
    ICAHTEarlyObservation,
    ICAHTLateObservation,
    grade_icaht_early,
    grade_icaht_late,
)
from tests.spec.parity import check_both

HIGH = 2000.0  # well above 500: a recovered day
MID = 300.0  # <= 500 but > 100
DEEP = 50.0  # <= 100


def series(
    low: Mapping[int, float] | None = None,
    unmeasured: Iterable[int] = (),
    int_keys: bool = False,
) -> dict[str, Any]:
    """A day 0-30 record: HIGH everywhere except ``low`` (day -> ANC); ``unmeasured`` left out."""
    low = low or {}
    skip = set(unmeasured)
    days = {
        (day if int_keys else str(day)): low.get(day, HIGH) for day in range(31) if day not in skip
    }
    return {"anc_by_day": days}


def run(first: int, last: int, value: float = MID) -> dict[int, float]:
    """Days ``first`` .. ``last`` inclusive at ``value``."""
    return dict.fromkeys(range(first, last + 1), value)


def both(*parts: Mapping[int, float]) -> dict[int, float]:
    merged: dict[int, float] = {}
    for part in parts:
        merged.update(part)
    return merged


OK = "ok"
CANNOT = "cannot_grade"
INVALID = "invalid_input"
UNMEASURED_NOTE = "icaht.early.unmeasured_days_do_not_change_grade"

EARLY_CASES: list[tuple[dict[str, Any], dict[str, object]]] = [
    # --- no low day: grade 0
    (
        series(),
        {
            "status": OK,
            "grade": 0,
            "days_le_500": 0,
            "days_le_100": 0,
            "reasons": ["icaht.early.no_day_le_500"],
            "missing": [],
        },
    ),
    # --- thresholds are inclusive: 500 counts as <= 500, 501 does not
    (series({10: 500.0}), {"grade": 1, "days_le_500": 1, "days_le_100": 0}),
    (series({10: 501.0}), {"grade": 0, "days_le_500": 0}),
    # ... 100 counts as <= 100, 101 does not
    (series({10: 100.0}), {"grade": 1, "days_le_500": 1, "days_le_100": 1}),
    (series({10: 101.0}), {"grade": 1, "days_le_500": 1, "days_le_100": 0}),
    # --- D500 bands: 1-6 -> 1, 7-13 -> 2, >= 14 -> 3 (first low day 5, so never-recovered is out)
    (series(run(5, 10)), {"grade": 1, "days_le_500": 6, "reasons": ["icaht.early.d500_ge_1"]}),
    (series(run(5, 11)), {"grade": 2, "days_le_500": 7, "reasons": ["icaht.early.d500_ge_7"]}),
    (series(run(5, 17)), {"grade": 2, "days_le_500": 13}),
    (series(run(5, 18)), {"grade": 3, "days_le_500": 14, "reasons": ["icaht.early.d500_ge_14"]}),
    # --- D100: >= 7 -> 3, >= 14 -> 4
    (series(run(5, 10, DEEP)), {"grade": 1, "days_le_100": 6}),
    (
        series(run(5, 11, DEEP)),
        {
            "grade": 3,
            "days_le_500": 7,
            "days_le_100": 7,
            "reasons": ["icaht.early.d500_ge_7", "icaht.early.d100_ge_7"],
        },
    ),
    (series(run(5, 17, DEEP)), {"grade": 3, "days_le_100": 13}),
    (
        series(run(5, 18, DEEP)),
        {
            "grade": 4,
            "days_le_100": 14,
            "reasons": ["icaht.early.d500_ge_14", "icaht.early.d100_ge_14"],
        },
    ),
    # --- non-stable recovery: 1 and 2 days above 500 between low days are relabelled low
    (
        series(both(run(5, 7), run(9, 11))),  # raw 6 low days, day 8 relabelled -> 7
        {
            "grade": 2,
            "days_le_500": 7,
            "reasons": ["icaht.early.d500_ge_7", "icaht.early.non_stable_recovery"],
        },
    ),
    (series(both(run(5, 7), run(10, 12))), {"grade": 2, "days_le_500": 8}),  # days 8-9
    # ... a 3-day recovery is stable: not relabelled
    (
        series(both(run(5, 7), run(11, 13))),
        {"grade": 1, "days_le_500": 6, "reasons": ["icaht.early.d500_ge_1"]},
    ),
    # ... the relabelling works per threshold: the 1-day gap at 100 is relabelled for D100 too
    (
        series(both(run(5, 7, DEEP), {8: MID}, run(9, 11, DEEP))),
        {"grade": 3, "days_le_500": 7, "days_le_100": 7},
    ),
    # --- a recovery run at the window edge is not bounded on both sides: not relabelled
    (series(run(25, 29)), {"grade": 1, "days_le_500": 5}),  # day 30 above 500
    (series(run(1, 6)), {"grade": 1, "days_le_500": 6}),  # day 0 above 500
    # --- never recovered: first low day on or before day 3, every later day low
    (
        series(run(3, 30)),
        {
            "grade": 4,
            "days_le_500": 28,
            "days_le_100": 0,
            "reasons": ["icaht.early.d500_ge_14", "icaht.early.never_recovered"],
        },
    ),
    (series(run(4, 30)), {"grade": 3, "days_le_500": 27, "reasons": ["icaht.early.d500_ge_14"]}),
    # ... the first low day is day 0, but days 1-3 are a stable recovery: not "never recovered"
    (series(both({0: MID}, run(4, 30))), {"grade": 3, "days_le_500": 28}),
    # ... day 30 above 500 (a 1-day run at the edge) is a recovery
    (series(run(2, 29)), {"grade": 3, "days_le_500": 28}),
    # ... short gaps after the first low day are relabelled, so it still never recovered
    (
        series(both(run(0, 9), run(11, 19), run(22, 30))),
        {
            "grade": 4,
            "days_le_500": 31,
            "reasons": [
                "icaht.early.d500_ge_14",
                "icaht.early.never_recovered",
                "icaht.early.non_stable_recovery",
            ],
        },
    ),
    # --- cumulative counting: two 4-day episodes separated by a stable 3-day recovery -> 8 days
    (series(both(run(5, 8), run(12, 15))), {"grade": 2, "days_le_500": 8}),
    # --- integer keys are accepted as well as the JSON string keys
    (series(run(5, 11), int_keys=True), {"grade": 2, "days_le_500": 7}),
    # --- unmeasured days: both extreme completions agree -> ok
    (
        series(run(5, 20), unmeasured=[25]),  # 16 or 17 days <= 500: grade 3 either way
        {
            "status": OK,
            "grade": 3,
            "days_le_500": None,  # the count itself is not determined
            "days_le_100": None,
            "reasons": ["icaht.early.d500_ge_14", UNMEASURED_NOTE],
            "missing": [],
        },
    ),
    (
        # day 8 sits in a 1-day gap between days <= 100: low at both thresholds whatever it is
        series(both(run(5, 7, DEEP), run(9, 11, DEEP)), unmeasured=[8]),
        {
            "status": OK,
            "grade": 3,
            "days_le_500": 7,
            "days_le_100": 7,
            "reasons": [
                "icaht.early.d500_ge_7",
                "icaht.early.d100_ge_7",
                "icaht.early.non_stable_recovery",
                UNMEASURED_NOTE,
            ],
        },
    ),
    # --- ... and disagree -> cannot_grade, naming the unmeasured days that matter
    (
        series(run(8, 13), unmeasured=[7]),  # 6 or 7 days: grade 1 or 2
        {
            "status": CANNOT,
            "grade": None,
            "days_le_500": None,
            "days_le_100": None,
            "reasons": ["icaht.early.grade_depends_on_unmeasured_days"],
            "missing": ["anc_by_day.7"],
        },
    ),
    (
        # day 8 cannot matter (gap between days <= 100), day 20 can: only day 20 is named
        series(both(run(5, 7, DEEP), run(9, 10, DEEP)), unmeasured=[8, 20]),
        {"status": CANNOT, "missing": ["anc_by_day.20"]},
    ),
    (
        series(unmeasured=[30]),  # grade 0 needs every day measured: day 30 could be <= 500
        {"status": CANNOT, "missing": ["anc_by_day.30"]},
    ),
    (series(run(3, 29), unmeasured=[30]), {"status": CANNOT, "missing": ["anc_by_day.30"]}),
    # --- no day measured at all: the whole series is missing
    ({"anc_by_day": None}, {"status": CANNOT, "missing": ["anc_by_day"]}),
    ({"anc_by_day": {}}, {"status": CANNOT, "missing": ["anc_by_day"]}),
    ({}, {"status": CANNOT, "missing": ["anc_by_day"]}),
    # --- invalid inputs name the field
    (
        series({12: -1.0}),
        {
            "status": INVALID,
            "grade": None,
            "reasons": ["invalid:anc_by_day.12"],
            "missing": [],
        },
    ),
    (series({3: 2_000_000.0}), {"status": INVALID, "reasons": ["invalid:anc_by_day.3"]}),
    (series({4: math.nan}), {"status": INVALID, "reasons": ["invalid:anc_by_day.4"]}),
    (
        {"anc_by_day": {"5": 300.0, "31": 200.0, "x": 100.0}},
        {"status": INVALID, "reasons": ["invalid:anc_by_day.31", "invalid:anc_by_day.x"]},
    ),
    (
        {"anc_by_day": {"7": -3.0, "-1": 200.0}},
        {"status": INVALID, "reasons": ["invalid:anc_by_day.7", "invalid:anc_by_day.-1"]},
    ),
    ({"anc_by_day": [300.0, 200.0]}, {"status": INVALID, "reasons": ["invalid:anc_by_day"]}),
]


def _early(record: Mapping[str, Any]) -> Any:
    return grade_icaht_early(observation_from_mapping(ICAHTEarlyObservation, record))


def test_early_spec_table_scalar_and_batch() -> None:
    check_both(_early, early_batch.grade_frame, EARLY_CASES)


@pytest.mark.parametrize(
    ("anc_by_day", "field"),
    [
        ({"03": 200.0}, "anc_by_day.03"),  # not the canonical spelling of a day
        ({3.0: 200.0}, "anc_by_day.3.0"),  # a float key
        ({True: 200.0}, "anc_by_day.True"),
        ({"5": "300"}, "anc_by_day.5"),  # a string where a number belongs
        ({"5": True}, "anc_by_day.5"),
        ({"31": None}, "anc_by_day.31"),  # a day outside the window even without a value
        ({3: 200.0, "3": 250.0}, "anc_by_day.3"),  # the same day twice
    ],
)
def test_early_scalar_refuses_keys_and_values(anc_by_day: dict[Any, Any], field: str) -> None:
    result = grade_icaht_early(ICAHTEarlyObservation(anc_by_day=anc_by_day))
    assert result.status is Status.INVALID_INPUT
    assert result.reasons == (f"invalid:{field}",)
    assert [problem.field for problem in result.problems] == [field]
    assert result.grade is None


def test_early_criteria_named() -> None:
    result = grade_icaht_early(ICAHTEarlyObservation(anc_by_day={}))
    assert result.criteria.label == "EHA/EBMT ICAHT 2023"


# --- late ICAHT ------------------------------------------------------------------------------


def late(*measurements: tuple[Any, Any], other_cause: bool | None = False) -> dict[str, Any]:
    return {
        "anc_measurements": [{"day": day, "anc": anc} for day, anc in measurements],
        "attributable_to_other_cause": other_cause,
    }


def _threshold_cases() -> list[tuple[dict[str, Any], dict[str, object]]]:
    """Each threshold met on two days, and missed by 1/uL on the second day."""
    cases: list[tuple[dict[str, Any], dict[str, object]]] = []
    for grade, threshold in ((1, 1500.0), (2, 1000.0), (3, 500.0), (4, 100.0)):
        code = f"icaht.late.anc_le_{int(threshold)}_on_2_days"
        cases.append(
            (
                late((40, threshold), (47, threshold)),
                {"status": OK, "grade": grade, "reasons": [code], "missing": []},
            )
        )
        cases.append((late((40, threshold), (47, threshold + 1.0)), {"grade": grade - 1}))
    return cases


LATE_CASES: list[tuple[dict[str, Any], dict[str, object]]] = [
    *_threshold_cases(),
    (
        late((40, 1501.0), (50, 1501.0)),
        {"status": OK, "grade": 0, "reasons": ["icaht.late.anc_le_1500_on_fewer_than_2_days"]},
    ),
    # --- only the lowest value below a threshold: the second-lowest day sets the grade
    (late((40, 50.0), (50, 800.0), (60, 3000.0)), {"grade": 2}),
    (late((40, 50.0), (50, 3000.0)), {"grade": 0}),
    # --- one measurement after day 30 -> cannot_grade
    (
        late((45, 50.0)),
        {
            "status": CANNOT,
            "grade": None,
            "reasons": ["icaht.late.fewer_than_2_days_after_day_30"],
            "missing": ["anc_measurements"],
        },
    ),
    ({"anc_measurements": [], "attributable_to_other_cause": False}, {"status": CANNOT}),
    (
        {"anc_measurements": None, "attributable_to_other_cause": False},
        {"status": CANNOT, "missing": ["anc_measurements"]},
    ),
    # --- two measurements on the same day are one day (the lowest of the day counts)
    (
        late((40, 50.0), (40, 80.0), (60, 3000.0)),
        {
            "grade": 0,
            "reasons": [
                "icaht.late.anc_le_1500_on_fewer_than_2_days",
                "icaht.late.lowest_of_day_used",
            ],
        },
    ),
    (late((40, 50.0), (40, 80.0)), {"status": CANNOT}),
    # --- measurements up to day 30 are early ICAHT: ignored here (late counts from day 31)
    (
        late((20, 50.0), (40, 50.0), (50, 3000.0)),
        {
            "grade": 0,
            "reasons": [
                "icaht.late.ignored_day_le_30",
                "icaht.late.anc_le_1500_on_fewer_than_2_days",
            ],
        },
    ),
    (late((30, 50.0), (31, 50.0)), {"status": CANNOT, "missing": ["anc_measurements"]}),
    (late((31, 50.0), (32, 50.0)), {"status": OK, "grade": 4}),
    # --- cytopenia explained by another cause: not ICAHT -> ok, grade 0
    (
        late((40, 50.0), (50, 50.0), other_cause=True),
        {"status": OK, "grade": 0, "reasons": ["icaht.late.other_cause"], "missing": []},
    ),
    (late((40, 50.0), other_cause=True), {"status": OK, "grade": 0}),
    # ... unknown attribution: a grade above 0 could be 0 -> cannot_grade; grade 0 stays 0
    (
        late((40, 400.0), (50, 450.0), other_cause=None),
        {
            "status": CANNOT,
            "reasons": ["icaht.late.attribution_unknown"],
            "missing": ["attributable_to_other_cause"],
        },
    ),
    (late((40, 2000.0), (50, 2500.0), other_cause=None), {"status": OK, "grade": 0}),
    (
        late((40, 400.0), other_cause=None),
        {
            "status": CANNOT,
            "reasons": [
                "icaht.late.fewer_than_2_days_after_day_30",
                "icaht.late.attribution_unknown",
            ],
            "missing": ["anc_measurements", "attributable_to_other_cause"],
        },
    ),
    # --- unknown values: extreme completions (0 and 10 000/uL)
    (
        late((40, 50.0), (50, None), (60, 80.0)),  # second-lowest <= 100 whatever day 50 holds
        {
            "status": OK,
            "grade": 4,
            "reasons": [
                "icaht.late.anc_le_100_on_2_days",
                "icaht.late.unknown_values_do_not_change_grade",
            ],
        },
    ),
    (
        late((40, 50.0), (50, None)),
        {
            "status": CANNOT,
            "reasons": ["icaht.late.grade_depends_on_unknown_values"],
            "missing": ["anc_measurements.anc"],
        },
    ),
    (
        late((None, 50.0), (40, 50.0)),  # the unknown day may be on or before day 30
        {
            "status": CANNOT,
            "reasons": ["icaht.late.fewer_than_2_days_after_day_30"],
            "missing": ["anc_measurements", "anc_measurements.day"],
        },
    ),
    (late((20, None), (40, 2000.0), (50, 3000.0)), {"status": OK, "grade": 0}),
    # --- invalid inputs name the field
    (
        late((40, -1.0), (50, 300.0)),
        {"status": INVALID, "grade": None, "reasons": ["invalid:anc_measurements.anc"]},
    ),
    (
        late((40.5, 300.0), (50, 300.0)),
        {"status": INVALID, "reasons": ["invalid:anc_measurements.day"]},
    ),
    (
        late((-1, 300.0), (50, 2_000_000.0)),
        {
            "status": INVALID,
            "reasons": ["invalid:anc_measurements.day", "invalid:anc_measurements.anc"],
        },
    ),
    (
        {"anc_measurements": "31:400", "attributable_to_other_cause": False},
        {"status": INVALID, "reasons": ["invalid:anc_measurements"]},
    ),
]


def _late(record: Mapping[str, Any]) -> Any:
    return grade_icaht_late(observation_from_mapping(ICAHTLateObservation, record))


def test_late_spec_table_scalar_and_batch() -> None:
    check_both(_late, late_batch.grade_frame, LATE_CASES)


def test_late_accepts_pairs_and_measurement_objects() -> None:
    for entries in (
        ((40, 300.0), (50, 450.0)),
        (ANCMeasurement(day=40, anc=300.0), ANCMeasurement(day=50, anc=450.0)),
    ):
        result = grade_icaht_late(
            ICAHTLateObservation(anc_measurements=entries, attributable_to_other_cause=False)
        )
        assert (result.status, result.grade) == (Status.OK, 3)


@pytest.mark.parametrize(
    ("observation", "field"),
    [
        (ICAHTLateObservation(anc_measurements=((40, "300"), (50, 300.0))), "anc_measurements.anc"),
        (ICAHTLateObservation(anc_measurements=((True, 300.0),)), "anc_measurements.day"),
        (ICAHTLateObservation(anc_measurements=(40,)), "anc_measurements"),  # type: ignore[arg-type]
        (ICAHTLateObservation(attributable_to_other_cause="yes"), "attributable_to_other_cause"),  # type: ignore[arg-type]
    ],
)
def test_late_scalar_refuses_wrong_types(observation: ICAHTLateObservation, field: str) -> None:
    result = grade_icaht_late(observation)
    assert result.status is Status.INVALID_INPUT
    assert result.reasons == (f"invalid:{field}",)


def test_late_batch_refuses_unequal_list_lengths() -> None:
    import polars as pl

    frame = pl.DataFrame(
        {
            "anc_measurements.day": [[40.0, 50.0]],
            "anc_measurements.anc": [[300.0]],
            "attributable_to_other_cause": [False],
        }
    )
    row = late_batch.grade_frame(frame).row(0, named=True)
    assert row["status"] == "invalid_input"
    assert row["reasons"] == ["invalid:anc_measurements.anc"]
