"""Properties of the ASTCT ICANS grader: monotone, determinacy by brute force, parity.

* Worsening any input never lowers an ``ok`` grade.
* Determinacy (reference 0.3, b.6): the grade of an observation with unknown inputs is ``ok``
  exactly when every completion of the unknowns gives the same grade, and then it is that
  grade; otherwise ``cannot_grade``.
* A ``cannot_grade`` result becomes ``ok`` once the fields it names in ``missing`` are supplied.
* Random records give identical rows from the scalar rule and the vectorised rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from carta.analytics.rules.icans import grade_frame
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.results import Status
from carta.clinical.scores.capd import CAPDItems
from carta.clinical.scores.ice import ICEItems
from carta.clinical.toxicity.icans_astct_2019 import (
    ICANSObservation,
    assessment_tool,
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
from tests.spec.parity import batch_rows, scalar_rows

ICE_TOP = {item: 3 if item == "naming_objects_correct" else 1 for item in ICE_ITEMS}
WORDS = {
    "consciousness": CONSCIOUSNESS,
    "seizure": SEIZURE,
    "motor": MOTOR,
    "icp_edema": ICP_EDEMA,
}
# Severity order of each word (not the vocabulary order for edema: hemorrhage counts 0).
SEVERITY = {
    "consciousness": CONSCIOUSNESS,
    "seizure": SEIZURE,
    "motor": MOTOR,
    "icp_edema": (
        "none",
        "intracranial_hemorrhage_only",
        "focal_edema",
        "diffuse_edema_or_posturing_or_cn6_or_papilledema_or_cushing",
    ),
}
KINDS = (
    "ice_score",
    "ice_items",
    "ice_reason",
    "capd_score",
    "capd_items",
    "capd_reason",
    "nothing",
)


def _maybe(draw: st.DrawFn, strategy: st.SearchStrategy[Any], unknown: int) -> Any:
    """``None`` with probability ``unknown``/10, else a value of ``strategy``."""
    return None if draw(st.integers(0, 9)) < unknown else draw(strategy)


def _items(draw: st.DrawFn, names: tuple[str, ...], value: Any, max_unknown: int) -> dict[str, Any]:
    unknown = draw(st.sets(st.sampled_from(names), max_size=max_unknown))
    return {name: None if name in unknown else draw(value(name)) for name in names}


@st.composite
def observations(draw: st.DrawFn, unknown: int = 3, max_unknown_items: int = 2) -> ICANSObservation:
    """A valid observation; each grading input unknown with probability ``unknown``/10."""
    kind = draw(st.sampled_from(KINDS))
    ice_kind, capd_kind = kind.startswith("ice"), kind.startswith("capd")
    tools = ("ICE", None) if ice_kind else ("CAPD", None) if capd_kind else ("ICE", "CAPD", None)
    tool = draw(st.sampled_from(tools))
    if ice_kind or tool == "ICE":
        age = draw(st.one_of(st.none(), st.integers(12, 90)))
        delay = draw(st.one_of(st.none(), st.booleans()))
    else:
        age = draw(st.one_of(st.none(), st.integers(0, 11), st.integers(12, 90)))
        delay = draw(st.sampled_from((None, True))) if age is not None and age >= 12 else None
    fields: dict[str, Any] = {"age_years": age, "developmental_delay": delay, "tool": tool}
    if kind == "ice_score":
        fields["ice_score"] = draw(st.integers(0, 10))
    elif kind == "ice_items":
        fields["ice_items"] = ICEItems(
            **_items(draw, ICE_ITEMS, lambda name: st.integers(0, ICE_TOP[name]), max_unknown_items)
        )
    elif kind == "capd_score":
        fields["capd_score"] = draw(st.integers(0, 32))
    elif kind == "capd_items":
        word = st.sampled_from(CAPD_FREQUENCIES)
        fields["capd_items"] = CAPDItems(
            **_items(draw, CAPD_ITEMS, lambda _: word, max_unknown_items)
        )
    elif kind.endswith("reason"):
        reason = draw(st.sampled_from(("unarousable", "other_cause")))
        fields[f"{kind.split('_')[0]}_not_performable_reason"] = reason
    for name, words in WORDS.items():
        fields[name] = _maybe(draw, st.sampled_from(words), unknown)
    fields["consciousness_attributable_to_other_cause"] = _maybe(draw, st.booleans(), unknown)
    fields["died_due_to_icans"] = draw(st.sampled_from((None, False, False, False, True)))
    return ICANSObservation(**fields)


def _assessments(observation: ICANSObservation) -> list[dict[str, Any]]:
    """Every completion of the ICE or CAPD assessment, as field changes."""
    tool = assessment_tool(observation)
    prefix, top, words = ("ice", 10, None) if tool == "ICE" else ("capd", 32, CAPD_FREQUENCIES)
    reason = getattr(observation, f"{prefix}_not_performable_reason")
    total = getattr(observation, f"{prefix}_score")
    items = getattr(observation, f"{prefix}_items")
    if reason == "unarousable" or total is not None:
        return [{}]
    known = items is not None and any(value is not None for value in vars_of(items).values())
    if reason == "other_cause" or not known:
        cleared = {f"{prefix}_not_performable_reason": None, f"{prefix}_items": None}
        scores = [{**cleared, f"{prefix}_score": score} for score in range(top + 1)]
        return [*scores, {**cleared, f"{prefix}_not_performable_reason": "unarousable"}]
    unknown = [name for name, value in vars_of(items).items() if value is None]
    ranges = [range(ICE_TOP[name] + 1) if words is None else words for name in unknown]
    return [
        {f"{prefix}_items": replace(items, **dict(zip(unknown, values, strict=True)))}
        for values in itertools.product(*ranges)
    ]


def vars_of(items: ICEItems | CAPDItems) -> dict[str, Any]:
    return {name: getattr(items, name) for name in items.__slots__}


def completions(observation: ICANSObservation) -> Iterator[ICANSObservation]:
    """Every completion of the unknown grading inputs (unknown death = not recorded, ADR 0125)."""
    choices: list[list[dict[str, Any]]] = [_assessments(observation)]
    for name, words in WORDS.items():
        if getattr(observation, name) is None:
            choices.append([{name: word} for word in words])
    if observation.consciousness_attributable_to_other_cause is None:
        choices.append(
            [{"consciousness_attributable_to_other_cause": flag} for flag in (True, False)]
        )
    for combination in itertools.product(*choices):
        changes: dict[str, Any] = {}
        for change in combination:
            changes.update(change)
        yield replace(observation, **changes)


def completion_count(observation: ICANSObservation) -> int:
    count = len(_assessments(observation))
    count *= 1 if observation.consciousness_attributable_to_other_cause is not None else 2
    for name, words in WORDS.items():
        count *= len(words) if getattr(observation, name) is None else 1
    return count


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(observations())
def test_determinacy_agrees_with_brute_force(observation: ICANSObservation) -> None:
    assume(completion_count(observation) <= 800)
    result = grade_icans(observation)
    assert result.status in (Status.OK, Status.CANNOT_GRADE)
    grades: set[int | None] = set()
    for completed in completions(observation):
        completed_result = grade_icans(completed)
        assert completed_result.status is Status.OK, completed
        grades.add(completed_result.grade)
        if len(grades) > 1:
            break
    if len(grades) == 1:
        assert result.status is Status.OK
        assert result.grade == grades.pop()
        assert result.missing == ()
    else:
        assert result.status is Status.CANNOT_GRADE
        assert result.grade is None
        assert result.missing


def _supply(observation: ICANSObservation, field: str, draw: st.DrawFn) -> ICANSObservation:
    if field in ("ice_score", "capd_score"):
        prefix, top = field.split("_")[0], 10 if field == "ice_score" else 32
        return replace(
            observation,
            **{field: draw(st.integers(0, top)), f"{prefix}_not_performable_reason": None},
        )
    if field.startswith(("ice_items.", "capd_items.")):
        group, item = field.split(".")
        value = (
            draw(st.integers(0, ICE_TOP[item]))
            if group == "ice_items"
            else draw(st.sampled_from(CAPD_FREQUENCIES))
        )
        return replace(
            observation, **{group: replace(getattr(observation, group), **{item: value})}
        )
    if field == "consciousness_attributable_to_other_cause":
        return replace(observation, **{field: draw(st.booleans())})
    return replace(observation, **{field: draw(st.sampled_from(WORDS[field]))})


@settings(max_examples=200, deadline=None)
@given(observations(unknown=4, max_unknown_items=4), st.data())
def test_cannot_grade_becomes_ok_once_missing_inputs_are_supplied(
    observation: ICANSObservation, data: st.DataObject
) -> None:
    result = grade_icans(observation)
    if result.status is Status.OK:
        assert result.missing == ()
        return
    assert result.status is Status.CANNOT_GRADE
    for field in result.missing:
        observation = _supply(observation, field, data.draw)
    supplied = grade_icans(observation)
    assert supplied.status is Status.OK, (observation, supplied)


def _worse(observation: ICANSObservation, data: st.DataObject) -> ICANSObservation:
    """The same observation with one input made clinically worse."""
    choice = data.draw(st.sampled_from((*WORDS, "attribution", "died", "assessment")))
    if choice in SEVERITY:
        current = getattr(observation, choice)
        order = SEVERITY[choice]
        if current is None:
            return observation
        worse = data.draw(st.sampled_from(order[order.index(current) :]))
        return replace(observation, **{choice: worse})
    if choice == "attribution":
        return replace(observation, consciousness_attributable_to_other_cause=False)
    if choice == "died":
        return replace(observation, died_due_to_icans=True)
    if observation.ice_score is not None:
        return replace(observation, ice_score=data.draw(st.integers(0, observation.ice_score)))
    if observation.capd_score is not None:
        return replace(observation, capd_score=data.draw(st.integers(observation.capd_score, 32)))
    return observation


@settings(max_examples=200, deadline=None)
@given(observations(), st.data())
def test_worsening_an_input_never_lowers_the_grade(
    observation: ICANSObservation, data: st.DataObject
) -> None:
    before = grade_icans(observation)
    after = grade_icans(_worse(observation, data))
    if before.status is Status.OK and after.status is Status.OK:
        assert after.grade is not None and before.grade is not None
        assert after.grade >= before.grade


# --- parity between the scalar and the vectorised rule ---------------------------------------

ENUM_WORDS = {
    "tool": ("ICE", "CAPD"),
    "ice_not_performable_reason": ("unarousable", "other_cause"),
    "capd_not_performable_reason": ("unarousable", "other_cause"),
    **WORDS,
}


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """A record as a file row holds it: any field absent, null, valid or out of range.

    ``died_due_to_icans`` is always a key: a frame built from records without any key has no
    rows at all.
    """
    record: dict[str, Any] = {"died_due_to_icans": draw(st.sampled_from((None, False, True)))}
    if draw(st.booleans()):
        record["age_years"] = draw(
            st.one_of(
                st.none(),
                st.integers(0, 90),
                st.sampled_from((11.99, 12.0, -1.0, 121.0, float("nan"))),
            )
        )
    for name in (
        "developmental_delay",
        "consciousness_attributable_to_other_cause",
        "died_due_to_icans",
    ):
        if draw(st.booleans()):
            record[name] = draw(st.one_of(st.none(), st.booleans()))
    for name, words in ENUM_WORDS.items():
        if draw(st.integers(0, 3)):
            record[name] = _maybe(draw, st.sampled_from(words), 3)
    if draw(st.booleans()):
        record["ice_score"] = draw(st.one_of(st.none(), st.integers(-1, 11)))
    if draw(st.integers(0, 3)) == 0:
        record["capd_score"] = draw(st.one_of(st.none(), st.integers(-1, 33)))
    if draw(st.integers(0, 2)) == 0:
        record["ice_items"] = {
            name: _maybe(draw, st.integers(-1, ICE_TOP[name] + 1), 2) for name in ICE_ITEMS
        }
    if draw(st.integers(0, 3)) == 0:
        record["capd_items"] = {
            name: _maybe(draw, st.sampled_from(CAPD_FREQUENCIES), 2) for name in CAPD_ITEMS
        }
    return record


def _scalar(record: dict[str, Any]) -> Any:
    return grade_icans(observation_from_mapping(ICANSObservation, record))


@settings(max_examples=60, deadline=None)
@given(st.lists(records(), min_size=1, max_size=40))
def test_scalar_and_batch_give_identical_rows(batch: list[dict[str, Any]]) -> None:
    assert batch_rows(grade_frame, batch) == scalar_rows(_scalar, batch)


@settings(max_examples=40, deadline=None)
@given(st.lists(observations(unknown=3, max_unknown_items=8), min_size=1, max_size=40))
def test_scalar_and_batch_agree_on_valid_observations(batch: list[ICANSObservation]) -> None:
    as_records = [_record(observation) for observation in batch]
    assert batch_rows(grade_frame, as_records) == scalar_rows(_scalar, as_records)


def _record(observation: ICANSObservation) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name in observation.__slots__:
        value = getattr(observation, name)
        record[name] = vars_of(value) if isinstance(value, ICEItems | CAPDItems) else value
    return record
