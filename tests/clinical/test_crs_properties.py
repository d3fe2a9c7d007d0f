"""Property tests for ASTCT 2019 CRS grading (reference section a, determinacy rule 0.3).

* worsening any input never lowers the grade;
* a ``cannot_grade`` result becomes ``ok`` once its ``missing`` inputs are supplied;
* ``ok``/``cannot_grade`` agrees with brute force over every completion of the unknown inputs;
* random records give identical rows from the scalar rule and the vectorised rule.

The brute force enumerates, for each unknown input, values covering every case the reference
distinguishes: a temperature below and one at 38.0 degC, both values of each yes/no flag, both
hypotension words, vasopressor lists of each tier (none, vasopressin alone, one agent, one
agent + vasopressin, two agents), every oxygen device, and a flow <= 6 and one > 6 L/min.
``died_due_to_crs`` unknown means "not recorded" (ADR 0101), so it is not enumerated.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carta.analytics.rules.crs import grade_frame
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, grade_crs
from carta.clinical.vocabulary import OXYGEN_DEVICES, VASOPRESSORS
from carta.io.records import frame_from_records

FLAGS = (
    "fever_attributable_to_other_cause",
    "crs_previously_diagnosed",
    "antipyretic_or_anticytokine_given",
    "hypotension_attributable_to_other_cause",
    "hypoxia_attributable_to_other_cause",
)
PRESSOR_LISTS: tuple[tuple[str, ...], ...] = (
    (),
    ("vasopressin",),
    ("norepinephrine",),
    ("norepinephrine", "vasopressin"),
    ("norepinephrine", "epinephrine"),
)
# Values that stand for every case of each unknown input (see the module docstring).
COMPLETIONS: dict[str, tuple[Any, ...]] = {
    "temperature_c": (37.0, 38.0),
    **dict.fromkeys(FLAGS, (False, True)),
    "hypotension": ("none", "present"),
    "vasopressors": PRESSOR_LISTS,
    "oxygen_device": OXYGEN_DEVICES,
    "oxygen_flow_l_min": (6.0, 6.5),
}
# Spec tier of each device (reference a.4); the nasal cannula depends on flow.
DEVICE_TIER = {
    "none": 0,
    "blow_by": 2,
    "high_flow_nasal_cannula": 3,
    "simple_facemask": 3,
    "non_rebreather": 3,
    "venturi_mask": 3,
    "cpap": 4,
    "bipap": 4,
    "mechanical_ventilation": 4,
}

TEMPERATURE_EDGES_C = (
    30.0,
    37.0,
    37.9,
    37.94,
    37.949999999,
    37.9499999999,
    37.95,
    38.0,
    40.5,
    45.0,
    math.nextafter(37.95, 0.0),
    math.nextafter(37.9499999999, 0.0),
)
TEMPERATURE_EDGES_F = (86.0, 98.6, 100.3, 100.3099999998, 100.31, 100.4, 113.0)
FLOW_EDGES = (0.0, 5.99, 6.0, 6.01, 6.5, 15.0, 80.0)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def maybe(values: st.SearchStrategy[Any], unknown: float = 0.25) -> st.SearchStrategy[Any]:
    """``values`` or, with roughly probability ``unknown``, ``None``."""
    if not unknown:
        return values
    weight = max(1, round(unknown * 8))
    return st.one_of(*([st.none()] * weight), *([values] * (8 - weight)))


@st.composite
def valid_observations(draw: st.DrawFn, unknown: float = 0.25) -> CRSObservation:
    """Observations inside every domain (the brute force needs valid completions)."""
    temperature = draw(
        st.sampled_from(("c", "c", "c", "f", "none")) if unknown else st.sampled_from(("c", "f"))
    )
    values: dict[str, Any] = {}
    if temperature == "c":
        values["temperature_c"] = draw(
            st.one_of(st.sampled_from(TEMPERATURE_EDGES_C), st.floats(30.0, 45.0))
        )
    elif temperature == "f":
        values["temperature_f"] = draw(
            st.one_of(st.sampled_from(TEMPERATURE_EDGES_F), st.floats(86.0, 113.0))
        )
    for flag in FLAGS:
        values[flag] = draw(maybe(st.booleans(), unknown))
    hypotension = draw(maybe(st.sampled_from(("none", "present")), unknown))
    agents = draw(maybe(st.lists(st.sampled_from(VASOPRESSORS), max_size=4), unknown))
    if hypotension == "none" and agents:
        agents = []
    values["hypotension"] = hypotension
    values["vasopressors"] = None if agents is None else tuple(agents)
    values["oxygen_device"] = draw(maybe(st.sampled_from(OXYGEN_DEVICES), unknown))
    values["oxygen_flow_l_min"] = draw(
        maybe(st.one_of(st.sampled_from(FLOW_EDGES), st.floats(0.0, 80.0)), unknown)
    )
    values["died_due_to_crs"] = draw(st.sampled_from((False, False, False, True, None)))
    return CRSObservation(**values)


def unknown_fields(observation: CRSObservation) -> list[str]:
    unknown = [
        name
        for name in COMPLETIONS
        if name != "temperature_c" and getattr(observation, name) is None
    ]
    if observation.temperature_c is None and observation.temperature_f is None:
        unknown.insert(0, "temperature_c")
    return unknown


def completions(observation: CRSObservation) -> list[CRSObservation]:
    """Every valid completion of the unknown inputs by the representative values."""
    names = unknown_fields(observation)
    result = []
    for values in itertools.product(*(COMPLETIONS[name] for name in names)):
        complete = dataclasses.replace(observation, **dict(zip(names, values, strict=True)))
        if complete.hypotension == "none" and complete.vasopressors:
            continue  # contradictory (ADR 0102): not a possible completion
        result.append(complete)
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_observations())
def test_determinacy_agrees_with_brute_force(observation: CRSObservation) -> None:
    result = grade_crs(observation)
    assert result.status in ("ok", "cannot_grade"), result
    grades = set()
    for complete in completions(observation):
        complete_result = grade_crs(complete)
        assert complete_result.status == "ok", (complete, complete_result)
        grades.add(complete_result.grade)
    if len(grades) == 1:
        assert result.status == "ok", (observation, grades, result)
        assert result.grade == grades.pop()
    else:
        assert result.status == "cannot_grade", (observation, grades, result)
        assert result.grade is None
        assert result.missing
        assert all(field in unknown_fields(observation) for field in result.missing)


@SETTINGS
@given(valid_observations(), st.data())
def test_supplying_the_missing_inputs_gives_a_grade(
    observation: CRSObservation, data: st.DataObject
) -> None:
    result = grade_crs(observation)
    if result.status != "cannot_grade":
        return
    supplied: dict[str, Any] = {}
    for field in result.missing:
        supplied[field] = data.draw(st.sampled_from(COMPLETIONS[field]), label=field)
    hypotension = supplied.get("hypotension", observation.hypotension)
    if hypotension == "none" and "vasopressors" in supplied:
        supplied["vasopressors"] = ()
    completed = grade_crs(dataclasses.replace(observation, **supplied))
    assert completed.status == "ok", (observation, supplied, completed)


# --- monotonicity ----------------------------------------------------------------------------


def hypoxia_tier(observation: CRSObservation) -> int:
    device = observation.oxygen_device
    if device == "nasal_cannula":
        flow = observation.oxygen_flow_l_min
        assert flow is not None
        return 2 if flow <= 6.0 else 3
    assert device is not None
    return DEVICE_TIER[device]


@st.composite
def worsening(draw: st.DrawFn, observation: CRSObservation) -> CRSObservation:
    """One input made worse (more CRS-like), the others unchanged."""
    move = draw(
        st.sampled_from(("temperature", "flag", "hypotension", "pressor", "device", "flow", "died"))
    )
    if move == "temperature":
        if observation.temperature_c is not None:
            hotter = draw(st.floats(observation.temperature_c, 45.0))
            return dataclasses.replace(observation, temperature_c=hotter)
        assert observation.temperature_f is not None
        hotter = draw(st.floats(observation.temperature_f, 113.0))
        return dataclasses.replace(observation, temperature_f=hotter)
    if move == "flag":
        # Counting a finding (attribution true -> false) or meeting a waiver condition.
        flag = draw(st.sampled_from(FLAGS))
        worse = flag in ("crs_previously_diagnosed", "antipyretic_or_anticytokine_given")
        return dataclasses.replace(observation, **{flag: worse})
    if move == "hypotension":
        return dataclasses.replace(observation, hypotension="present")
    if move == "pressor":
        agent = draw(st.sampled_from(VASOPRESSORS))
        agents = (*(observation.vasopressors or ()), agent)
        return dataclasses.replace(observation, hypotension="present", vasopressors=agents)
    if move == "device":
        tier = hypoxia_tier(observation)
        device = draw(st.sampled_from([d for d, t in DEVICE_TIER.items() if t >= tier]))
        return dataclasses.replace(observation, oxygen_device=device)
    if move == "flow":
        flow = observation.oxygen_flow_l_min or 0.0
        return dataclasses.replace(observation, oxygen_flow_l_min=draw(st.floats(flow, 80.0)))
    return dataclasses.replace(observation, died_due_to_crs=True)


@SETTINGS
@given(valid_observations(unknown=0.0), st.data())
def test_worsening_never_lowers_the_grade(observation: CRSObservation, data: st.DataObject) -> None:
    if observation.oxygen_flow_l_min is None:
        observation = dataclasses.replace(observation, oxygen_flow_l_min=2.0)
    before = grade_crs(observation)
    assert before.status == "ok", (observation, before)
    for _ in range(3):
        worse = data.draw(worsening(observation))
        after = grade_crs(worse)
        assert after.status == "ok", (worse, after)
        assert after.grade is not None and before.grade is not None
        assert after.grade >= before.grade, (observation, worse, before, after)
        observation, before = worse, after


# --- parity with the vectorised rule ---------------------------------------------------------

ANY_TEMPERATURE_C = st.one_of(
    st.sampled_from(
        (*TEMPERATURE_EDGES_C, 25.0, 29.99, 45.01, 50.0, float("nan"), -float("inf"), -1.0)
    ),
    st.floats(20.0, 50.0),
)
ANY_TEMPERATURE_F = st.one_of(
    st.sampled_from((*TEMPERATURE_EDGES_F, 85.99, 113.01, 122.0, float("inf"), float("nan"))),
    st.floats(70.0, 125.0),
)
ANY_FLOW = st.one_of(
    st.sampled_from((*FLOW_EDGES, -1.0, 80.01, 200.0, float("nan"), float("inf"), -float("inf"))),
    st.floats(-5.0, 90.0),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """Records as a table row would hold them, including out-of-range numbers and
    contradictions (vasopressors with ``hypotension: none``)."""
    record: dict[str, Any] = {
        "temperature_c": draw(maybe(ANY_TEMPERATURE_C, 0.4)),
        "temperature_f": draw(maybe(ANY_TEMPERATURE_F, 0.8)),
        "hypotension": draw(maybe(st.sampled_from(("none", "present")))),
        "vasopressors": draw(maybe(st.lists(st.sampled_from(VASOPRESSORS), max_size=4))),
        "oxygen_device": draw(maybe(st.sampled_from(OXYGEN_DEVICES))),
        "oxygen_flow_l_min": draw(maybe(ANY_FLOW, 0.4)),
        "died_due_to_crs": draw(st.sampled_from((False, False, True, None))),
    }
    for flag in FLAGS:
        record[flag] = draw(maybe(st.booleans()))
    return record


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=30))
def test_batch_rows_equal_scalar_rows(batch_records: list[dict[str, Any]]) -> None:
    expected = [
        grade_crs(observation_from_mapping(CRSObservation, record)).as_row()
        for record in batch_records
    ]
    got = grade_frame(frame_from_records(batch_records)).to_dicts()
    assert got == expected
