"""CAPD (Cornell Assessment of Pediatric Delirium) score, 0-32 points.

Traube C et al., Crit Care Med 2014;42(3):656-663, as tabulated in reference section b.5:
eight items rated over the shift as never, rarely, sometimes, often or always. Items 1-4
(eye contact, purposeful actions, awareness of surroundings, communicating needs) describe
normal behaviour and are scored in reverse (never = 4 ... always = 0); items 5-8 (restless,
inconsolable, underactive, slow to respond) describe abnormal behaviour and are scored forward
(never = 0 ... always = 4). A total of 9 or more screens positive for delirium.

Items may be partly unknown (``None``, section 0.3): the total then lies in a range, from the
known points up to those plus 4 for every unknown item (:func:`capd_score_range`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from carta.clinical.citations import CAPD
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.scores.ice import is_int
from carta.clinical.vocabulary import CAPD_FREQUENCIES

CRITERIA: Criteria = CAPD

# b.5 (Traube 2014): each item scores 0-4 points; the total is 0-32.
ITEM_POINTS_MAX = 4
CAPD_MIN_SCORE = 0
CAPD_MAX_SCORE = 32

GROUP = "capd_items"
# b.5 table rows 1-4: never = 4 ... always = 0 (the behaviour is normal; its absence scores).
REVERSED_ITEMS = (
    "eye_contact",
    "purposeful_actions",
    "aware_of_surroundings",
    "communicates_needs",
)
# b.5 table rows 5-8: never = 0 ... always = 4.
FORWARD_ITEMS = ("restless", "inconsolable", "underactive", "slow_to_respond")
ITEMS = REVERSED_ITEMS + FORWARD_ITEMS


@dataclass(frozen=True, slots=True, kw_only=True)
class CAPDItems:
    """The eight CAPD items, each never|rarely|sometimes|often|always (``None`` = unknown)."""

    eye_contact: str | None = None
    purposeful_actions: str | None = None
    aware_of_surroundings: str | None = None
    communicates_needs: str | None = None
    restless: str | None = None
    inconsolable: str | None = None
    underactive: str | None = None
    slow_to_respond: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CAPDResult(RuleResult):
    """The CAPD total 0-32; ``None`` unless ``status`` is ``ok``."""

    score: int | None = None


def item_field(item: str) -> str:
    """The dotted input name of an item: ``capd_items.eye_contact``."""
    return f"{GROUP}.{item}"


def item_points(item: str, frequency: str) -> int:
    """Points of one item rated ``frequency`` (b.5 table): reversed for items 1-4."""
    forward = CAPD_FREQUENCIES.index(frequency)
    return ITEM_POINTS_MAX - forward if item in REVERSED_ITEMS else forward


def check_capd_score(value: object) -> InvalidObservation | None:
    """The problem with a total ``capd_score``, if any: it must be an integer 0-32."""
    if value is None or (is_int(value) and CAPD_MIN_SCORE <= value <= CAPD_MAX_SCORE):
        return None
    return InvalidObservation(
        "capd_score", value, f"an integer from {CAPD_MIN_SCORE} to {CAPD_MAX_SCORE}"
    )


def capd_item_problems(items: CAPDItems) -> list[InvalidObservation]:
    """Every item that is not one of the five frequency words, in item order."""
    expected = f"one of {', '.join(CAPD_FREQUENCIES)} or null"
    return [
        InvalidObservation(item_field(item), value, expected)
        for item in ITEMS
        if (value := getattr(items, item)) is not None
        and not (isinstance(value, str) and value in CAPD_FREQUENCIES)
    ]


def known_items(items: CAPDItems) -> bool:
    """True when at least one item is known (all-unknown items are the same as no items)."""
    return any(getattr(items, item.name) is not None for item in fields(items))


def unknown_items(items: CAPDItems) -> tuple[str, ...]:
    """The dotted names of the unknown items, in item order."""
    return tuple(item_field(item) for item in ITEMS if getattr(items, item) is None)


def capd_score_range(items: CAPDItems) -> tuple[int, int]:
    """Lowest and highest possible total of valid ``items`` over their unknown values."""
    low = 0
    high = 0
    for item in ITEMS:
        value: str | None = getattr(items, item)
        points = 0 if value is None else item_points(item, value)
        low += points
        high += ITEM_POINTS_MAX if value is None else points
    return low, high


def compute_capd(items: CAPDItems) -> CAPDResult:
    """The CAPD total of one shift (b.5); ``cannot_compute`` naming unknown items.

    Never raises: a word outside the frequency scale gives ``invalid_input`` naming the item.
    """
    problems = capd_item_problems(items)
    if problems:
        return CAPDResult(
            status=Status.INVALID_INPUT,
            criteria=CRITERIA,
            reasons=tuple(invalid_reason(error.problem.field) for error in problems),
            problems=invalid_results_problems(problems),
        )
    missing = unknown_items(items)
    if missing:
        return CAPDResult(status=Status.CANNOT_COMPUTE, criteria=CRITERIA, missing=missing)
    low, _ = capd_score_range(items)
    return CAPDResult(status=Status.OK, criteria=CRITERIA, score=low)
