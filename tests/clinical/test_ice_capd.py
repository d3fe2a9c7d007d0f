"""ICE score (reference b.1) and CAPD score (b.5, Traube 2014) from their items."""

from __future__ import annotations

from typing import Any

import pytest

from carta.clinical.results import Status
from carta.clinical.scores.capd import (
    CAPDItems,
    capd_score_range,
    check_capd_score,
    compute_capd,
    item_points,
)
from carta.clinical.scores.ice import ICEItems, check_ice_score, compute_ice, ice_score_range

FULL_ICE = {
    "orientation_year": 1,
    "orientation_month": 1,
    "orientation_city": 1,
    "orientation_hospital": 1,
    "naming_objects_correct": 3,
    "follows_commands": 1,
    "writes_sentence": 1,
    "counts_back_by_10": 1,
}

# The b.5 table: points of never, rarely, sometimes, often, always for each item.
CAPD_TABLE = {
    "eye_contact": (4, 3, 2, 1, 0),
    "purposeful_actions": (4, 3, 2, 1, 0),
    "aware_of_surroundings": (4, 3, 2, 1, 0),
    "communicates_needs": (4, 3, 2, 1, 0),
    "restless": (0, 1, 2, 3, 4),
    "inconsolable": (0, 1, 2, 3, 4),
    "underactive": (0, 1, 2, 3, 4),
    "slow_to_respond": (0, 1, 2, 3, 4),
}
WORDS = ("never", "rarely", "sometimes", "often", "always")


def test_full_ice_is_ten_points() -> None:
    result = compute_ice(ICEItems(**FULL_ICE))
    assert result.status is Status.OK
    assert result.score == 10


@pytest.mark.parametrize(
    ("changes", "score"),
    [
        ({"orientation_year": 0}, 9),
        ({"naming_objects_correct": 0}, 7),
        ({"naming_objects_correct": 2, "follows_commands": 0}, 8),
        ({item: 0 for item in FULL_ICE}, 0),
        ({"writes_sentence": 0, "counts_back_by_10": 0, "orientation_city": 0}, 7),
    ],
)
def test_ice_points_per_item(changes: dict[str, int], score: int) -> None:
    assert compute_ice(ICEItems(**{**FULL_ICE, **changes})).score == score


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ("orientation_year", 2),
        ("orientation_hospital", -1),
        ("naming_objects_correct", 4),
        ("naming_objects_correct", -1),
        ("follows_commands", 1.0),
        ("writes_sentence", True),
        ("counts_back_by_10", "1"),
    ],
)
def test_ice_item_outside_its_range_is_invalid(item: str, value: Any) -> None:
    result = compute_ice(ICEItems(**{**FULL_ICE, item: value}))
    assert result.status is Status.INVALID_INPUT
    assert result.reasons == (f"invalid:ice_items.{item}",)
    assert result.problems[0].field == f"ice_items.{item}"
    assert result.score is None


def test_ice_with_unknown_items_cannot_be_computed_but_has_a_range() -> None:
    items = ICEItems(**{**FULL_ICE, "naming_objects_correct": None, "writes_sentence": None})
    result = compute_ice(items)
    assert result.status is Status.CANNOT_COMPUTE
    assert result.missing == ("ice_items.naming_objects_correct", "ice_items.writes_sentence")
    assert ice_score_range(items) == (6, 10)
    assert ice_score_range(ICEItems()) == (0, 10)
    assert ice_score_range(ICEItems(orientation_year=0, naming_objects_correct=1)) == (1, 7)


@pytest.mark.parametrize(
    ("value", "valid"),
    [(0, True), (10, True), (11, False), (-1, False), (None, True), (5.0, False), (False, False)],
)
def test_ice_total_range(value: Any, valid: bool) -> None:
    assert (check_ice_score(value) is None) is valid


@pytest.mark.parametrize("item", list(CAPD_TABLE))
def test_capd_item_points_follow_the_table(item: str) -> None:
    assert tuple(item_points(item, word) for word in WORDS) == CAPD_TABLE[item]


def test_capd_totals() -> None:
    calm = CAPDItems(
        **{item: "always" if points[4] == 0 else "never" for item, points in CAPD_TABLE.items()}
    )
    assert compute_capd(calm).score == 0
    worst = CAPDItems(
        **{item: "never" if points[0] == 4 else "always" for item, points in CAPD_TABLE.items()}
    )
    assert compute_capd(worst).score == 32
    sometimes = CAPDItems(**dict.fromkeys(CAPD_TABLE, "sometimes"))
    assert compute_capd(sometimes).score == 16


def test_capd_unknown_items() -> None:
    items = CAPDItems(eye_contact="never", restless="rarely")
    result = compute_capd(items)
    assert result.status is Status.CANNOT_COMPUTE
    assert result.missing[0] == "capd_items.purposeful_actions"
    assert len(result.missing) == 6
    assert capd_score_range(items) == (5, 29)


def test_capd_word_outside_the_scale_is_invalid() -> None:
    result = compute_capd(CAPDItems(eye_contact="mostly", restless=3))  # type: ignore[arg-type]
    assert result.status is Status.INVALID_INPUT
    assert result.reasons == ("invalid:capd_items.eye_contact", "invalid:capd_items.restless")


@pytest.mark.parametrize(
    ("value", "valid"),
    [(0, True), (32, True), (33, False), (-1, False), (None, True), (9.5, False)],
)
def test_capd_total_range(value: Any, valid: bool) -> None:
    assert (check_capd_score(value) is None) is valid
