"""ICE (Immune Effector Cell-associated Encephalopathy) score, 0-10 points.

Reference section b.1 (Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638):
orientation to year, month, city and hospital (1 point each), naming three objects (1 point
each, 0-3), following simple commands (1), writing a standard sentence (1) and counting back
from 100 by tens (1). An item value outside its range is ``invalid_input`` naming the item as
``ice_items.<item>``.

Items may be partly unknown (``None``, section 0.3): the score is then only known to lie in a
range, from the total of the known items up to that total plus the maximum of every unknown
item (:func:`ice_score_range`); the ICANS grader maps that range to an ICE domain range (ADR
0122).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypeGuard

from carta.clinical.citations import ICE
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason

CRITERIA: Criteria = ICE

# b.1: the highest value of each item (orientation, commands, sentence, counting: 1 point;
# naming three objects: 1 point per object) and the total.
BINARY_ITEM_MAX = 1
NAMING_ITEM_MAX = 3
ICE_MIN_SCORE = 0
ICE_MAX_SCORE = 10

GROUP = "ice_items"
ITEM_MAX: dict[str, int] = {
    "orientation_year": BINARY_ITEM_MAX,
    "orientation_month": BINARY_ITEM_MAX,
    "orientation_city": BINARY_ITEM_MAX,
    "orientation_hospital": BINARY_ITEM_MAX,
    "naming_objects_correct": NAMING_ITEM_MAX,
    "follows_commands": BINARY_ITEM_MAX,
    "writes_sentence": BINARY_ITEM_MAX,
    "counts_back_by_10": BINARY_ITEM_MAX,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ICEItems:
    """The ten points of the ICE score as eight items (Appendix A names; ``None`` = unknown)."""

    orientation_year: int | None = None
    orientation_month: int | None = None
    orientation_city: int | None = None
    orientation_hospital: int | None = None
    naming_objects_correct: int | None = None
    follows_commands: int | None = None
    writes_sentence: int | None = None
    counts_back_by_10: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ICEResult(RuleResult):
    """The ICE total 0-10; ``None`` unless ``status`` is ``ok``."""

    score: int | None = None


def item_field(item: str) -> str:
    """The dotted input name of an item, as a batch column is called: ``ice_items.writes_sentence``."""
    return f"{GROUP}.{item}"


def is_int(value: object) -> TypeGuard[int]:
    """True for an ``int`` that is not a ``bool`` (a yes/no is not a point count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_ice_score(value: object) -> InvalidObservation | None:
    """The problem with a total ``ice_score``, if any: it must be an integer 0-10 (b.1)."""
    if value is None or (is_int(value) and ICE_MIN_SCORE <= value <= ICE_MAX_SCORE):
        return None
    return InvalidObservation(
        "ice_score", value, f"an integer from {ICE_MIN_SCORE} to {ICE_MAX_SCORE}"
    )


def ice_item_problems(items: ICEItems) -> list[InvalidObservation]:
    """Every item outside its range (b.1), in item order; an empty list when all are valid."""
    problems: list[InvalidObservation] = []
    for item, top in ITEM_MAX.items():
        value = getattr(items, item)
        if value is None or (is_int(value) and 0 <= value <= top):
            continue
        problems.append(InvalidObservation(item_field(item), value, f"an integer from 0 to {top}"))
    return problems


def known_items(items: ICEItems) -> bool:
    """True when at least one item is known (all-unknown items are the same as no items)."""
    return any(getattr(items, item.name) is not None for item in fields(items))


def unknown_items(items: ICEItems) -> tuple[str, ...]:
    """The dotted names of the unknown items, in item order."""
    return tuple(item_field(item) for item in ITEM_MAX if getattr(items, item) is None)


def ice_score_range(items: ICEItems) -> tuple[int, int]:
    """Lowest and highest possible total of valid ``items`` over their unknown values.

    The low end counts every unknown item as 0 and the high end as its maximum (b.1), so
    complete items give ``(score, score)``.
    """
    low = 0
    high = 0
    for item, top in ITEM_MAX.items():
        value: int | None = getattr(items, item)
        low += 0 if value is None else value
        high += top if value is None else value
    return low, high


def compute_ice(items: ICEItems) -> ICEResult:
    """The ICE score of one assessment (b.1); ``cannot_compute`` naming unknown items.

    Never raises: an item outside its range gives ``invalid_input`` naming it.
    """
    problems = ice_item_problems(items)
    if problems:
        return ICEResult(
            status=Status.INVALID_INPUT,
            criteria=CRITERIA,
            reasons=tuple(invalid_reason(error.problem.field) for error in problems),
            problems=invalid_results_problems(problems),
        )
    missing = unknown_items(items)
    if missing:
        return ICEResult(status=Status.CANNOT_COMPUTE, criteria=CRITERIA, missing=missing)
    low, _ = ice_score_range(items)
    return ICEResult(status=Status.OK, criteria=CRITERIA, score=low)
