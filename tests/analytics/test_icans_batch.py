"""The vectorised ICANS rule beyond the spec table: output shape, both paths, larger frames."""

from __future__ import annotations

import random
from typing import Any

import polars as pl

from carta.analytics.frames import conform
from carta.analytics.rules import get_rule
from carta.analytics.rules.icans import INPUT_SCHEMA, general_rows, grade_frame
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.icans_astct_2019 import (
    FIELD_ORDER,
    REASON_ORDER,
    ICANSObservation,
    grade_icans,
)
from carta.clinical.vocabulary import (
    CAPD_FREQUENCIES,
    CAPD_ITEMS,
    CONSCIOUSNESS,
    ICE_ITEMS,
    ICP_EDEMA,
    MOTOR,
    SEIZURE,
)
from carta.io.records import frame_from_records

EXPECTED_SCHEMA = {
    "status": pl.String,
    "grade": pl.Int64,
    "ice_score": pl.Int64,
    "capd_score": pl.Int64,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}


def _maybe(rng: random.Random, values: Any, unknown: float = 0.15) -> Any:
    return None if rng.random() < unknown else rng.choice(values)


def _record(rng: random.Random) -> dict[str, Any]:
    """A random record: mostly plausible, sometimes out of range, inconsistent or unknown."""
    record: dict[str, Any] = {
        "age_years": _maybe(rng, [3, 8, 11, 11.5, 12, 12.0, 40, 77, -2, 130]),
        "developmental_delay": _maybe(rng, [True, False, False, False], 0.3),
        "tool": _maybe(rng, ["ICE", "ICE", "CAPD"], 0.3),
        "consciousness": _maybe(rng, CONSCIOUSNESS),
        "consciousness_attributable_to_other_cause": _maybe(rng, [True, False, False]),
        "seizure": _maybe(rng, SEIZURE),
        "motor": _maybe(rng, MOTOR),
        "icp_edema": _maybe(rng, ICP_EDEMA),
        "died_due_to_icans": _maybe(rng, [False] * 20 + [True], 0.3),
    }
    kind = rng.random()
    if kind < 0.4:
        record["ice_score"] = _maybe(rng, [*range(11), -1, 11, 300], 0.1)
    elif kind < 0.6:
        record["ice_items"] = {
            item: _maybe(
                rng, [0, 1, 1, 1] if item != "naming_objects_correct" else [0, 1, 2, 3, 3, 4], 0.1
            )
            for item in ICE_ITEMS
        }
        if rng.random() < 0.2:
            record["ice_score"] = rng.randint(0, 10)
    elif kind < 0.7:
        record["capd_score"] = _maybe(rng, [*range(33), 40], 0.1)
    elif kind < 0.85:
        record["capd_items"] = {item: _maybe(rng, CAPD_FREQUENCIES, 0.1) for item in CAPD_ITEMS}
    elif kind < 0.95:
        reason = rng.choice(["unarousable", "other_cause"])
        record[rng.choice(["ice", "capd"]) + "_not_performable_reason"] = reason
    return record


def _records(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_record(rng) for _ in range(count)]


def test_output_columns_and_dtypes() -> None:
    out = grade_frame(frame_from_records(_records(50, seed=1)))
    assert out.schema == pl.Schema(EXPECTED_SCHEMA)
    empty = grade_frame(pl.DataFrame(schema=INPUT_SCHEMA))
    assert empty.height == 0
    assert empty.schema == pl.Schema(EXPECTED_SCHEMA)


def test_registered_as_the_icans_rule() -> None:
    rule = get_rule("icans")
    assert rule.grade_frame is grade_frame
    assert rule.input_schema is INPUT_SCHEMA


def test_absent_columns_are_unknown() -> None:
    out = grade_frame(pl.DataFrame({"ice_score": [3, None], "seizure": ["none", "none"]}))
    assert out["status"].to_list() == ["cannot_grade", "cannot_grade"]
    assert out["ice_score"].to_list() == [3, None]
    assert out["missing"][1].to_list()[0] == "ice_score"


def test_many_random_rows_match_the_scalar_rule() -> None:
    records = _records(3000, seed=7)
    expected = [
        grade_icans(observation_from_mapping(ICANSObservation, r)).as_row() for r in records
    ]
    got = grade_frame(frame_from_records(records)).to_dicts()
    mismatches = [
        (record, want, have)
        for record, want, have in zip(records, expected, got, strict=True)
        if want != have
    ]
    assert not mismatches, mismatches[:3]
    statuses = {row["status"] for row in expected}
    assert statuses == {"ok", "cannot_grade", "invalid_input"}
    for row in expected:
        reasons, missing = row["reasons"], row["missing"]
        if row["status"] == "ok":
            assert reasons == sorted(reasons, key=REASON_ORDER.index)
        else:
            fields = [reason.removeprefix("invalid:") for reason in reasons]
            assert fields == sorted(fields, key=FIELD_ORDER.index)
        assert missing == sorted(missing, key=FIELD_ORDER.index)


def test_fast_path_agrees_with_the_general_path() -> None:
    """The keyed tables (fast path) classify rows exactly as the general path grades them."""
    frame = frame_from_records(_records(3000, seed=11))
    assert grade_frame(frame).equals(general_rows(conform(frame, INPUT_SCHEMA)))


def test_row_order_is_kept_when_general_rows_are_mixed_in() -> None:
    records = [
        {
            "ice_score": 10,
            "consciousness": "alert",
            "seizure": "none",
            "motor": "none",
            "icp_edema": "none",
        },
        {"ice_score": 12},
        {"ice_items": {"orientation_year": 1}},
        {
            "ice_score": 2,
            "consciousness": "alert",
            "seizure": "none",
            "motor": "none",
            "icp_edema": "none",
        },
    ]
    out = grade_frame(frame_from_records(records))
    assert out["status"].to_list() == ["ok", "invalid_input", "cannot_grade", "ok"]
    assert out["grade"].to_list() == [0, None, None, 3]


def test_out_of_range_ice_items_match_the_scalar_rule() -> None:
    """Item range checks are bit tests (``x & ~max``): negative and large values, with and
    without a given total, next to valid complete items and CAPD items."""
    complete = dict.fromkeys(ICE_ITEMS, 1)
    records: list[dict[str, Any]] = [
        {"ice_items": complete},
        {"ice_items": complete, "ice_score": 10},
    ]
    for item in ICE_ITEMS:
        for value in (-1, -4, 2, 3, 4, 8, 2**40, -(2**40)):
            records.append({"ice_items": complete | {item: value}})
            records.append({"ice_items": complete | {item: value}, "ice_score": 9})
    records.append({"capd_items": dict.fromkeys(CAPD_ITEMS, "never"), "age_years": 5.0})
    records.append({"capd_items": dict.fromkeys(CAPD_ITEMS, "always"), "capd_score": 3})
    expected = [
        grade_icans(observation_from_mapping(ICANSObservation, r)).as_row() for r in records
    ]
    assert grade_frame(frame_from_records(records)).to_dicts() == expected
