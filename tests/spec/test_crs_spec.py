"""Spec table for ASTCT 2019 CRS grading (reference section a), run through both implementations.

The numbers are copied from the reference: fever >= 38.0 degC after rounding half-up to 0.1
(37.95 is fever, 37.94 is not; 100.4 degF); nasal cannula <= 6 L/min low-flow, > 6 high-flow;
device tiers; the vasopressor counting rule (distinct agents, vasopressin alone = one
vasopressor); the fever waiver (both flags); attribution flags (section 0.5); grade 5; the
plausible ranges (30-45 degC, 0-80 L/min); and the four determinacy examples of a.8.
"""

from __future__ import annotations

from typing import Any

import pytest

import carta.analytics.rules.crs as crs_batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, CRSResult, grade_crs
from carta.clinical.vocabulary import VASOPRESSORS
from carta.io.records import frame_from_records
from tests.spec.parity import check_both

OK = "ok"
CANNOT = "cannot_grade"
INVALID = "invalid_input"

FEVER = "crs.fever"
FEVER_OC = "crs.fever.other_cause"
WAIVER = "crs.fever_waiver"
NO_FEVER = "crs.no_fever"
FLUIDS = "crs.hypotension.fluids"
ONE_PRESSOR = "crs.hypotension.one_vasopressor"
MANY_PRESSORS = "crs.hypotension.multiple_vasopressors"
HYPOTENSION_OC = "crs.hypotension.other_cause"
LOW_FLOW = "crs.hypoxia.low_flow"
HIGH_FLOW = "crs.hypoxia.high_flow"
POSITIVE_PRESSURE = "crs.hypoxia.positive_pressure"
HYPOXIA_OC = "crs.hypoxia.other_cause"
DIED = "crs.died"

# Every input known and normal: afebrile, no waiver, no hypotension, no oxygen, not dead.
QUIET: dict[str, Any] = {
    "temperature_c": 37.0,
    "fever_attributable_to_other_cause": False,
    "crs_previously_diagnosed": False,
    "antipyretic_or_anticytokine_given": False,
    "hypotension": "none",
    "vasopressors": [],
    "hypotension_attributable_to_other_cause": False,
    "oxygen_device": "none",
    "hypoxia_attributable_to_other_cause": False,
    "died_due_to_crs": False,
}


def quiet(**changes: Any) -> dict[str, Any]:
    """QUIET with ``changes``; a change to ``None`` makes the field unknown."""
    return {**QUIET, **changes}


def febrile(**changes: Any) -> dict[str, Any]:
    return quiet(temperature_c=38.5, **changes)


def waived(**changes: Any) -> dict[str, Any]:
    """Afebrile, with the fever waiver active (prior CRS and tocilizumab)."""
    return quiet(crs_previously_diagnosed=True, antipyretic_or_anticytokine_given=True, **changes)


def ok(grade: int, *reasons: str) -> dict[str, object]:
    return {"status": OK, "grade": grade, "reasons": list(reasons), "missing": []}


def cannot(*missing: str) -> dict[str, object]:
    return {"status": CANNOT, "grade": None, "reasons": [], "missing": list(missing)}


def invalid(*fields: str) -> dict[str, object]:
    return {
        "status": INVALID,
        "grade": None,
        "reasons": [f"invalid:{field}" for field in fields],
        "missing": [],
    }


def pressors(*agents: str, **changes: Any) -> dict[str, Any]:
    return febrile(hypotension="present", vasopressors=list(agents), **changes)


def oxygen(device: str, flow: float | None = None, **changes: Any) -> dict[str, Any]:
    return febrile(oxygen_device=device, oxygen_flow_l_min=flow, **changes)


CASES: list[tuple[dict[str, Any], dict[str, object]]] = [
    # --- a.1 fever: >= 38.0 degC after rounding half-up to 0.1 degC (section 0.4)
    (quiet(), ok(0, NO_FEVER)),
    (quiet(temperature_c=38.0), ok(1, FEVER)),
    (quiet(temperature_c=37.9), ok(0, NO_FEVER)),
    (quiet(temperature_c=37.95), ok(1, FEVER)),
    (quiet(temperature_c=37.94), ok(0, NO_FEVER)),
    (quiet(temperature_c=38.04), ok(1, FEVER)),
    # fever height is irrelevant: 40.5 degC with nothing else is grade 1
    (quiet(temperature_c=40.5), ok(1, FEVER)),
    # degF alternate: 100.4 degF = 38.0 degC
    (quiet(temperature_c=None, temperature_f=100.4), ok(1, FEVER)),
    (quiet(temperature_c=None, temperature_f=100.3), ok(0, NO_FEVER)),
    (quiet(temperature_c=None, temperature_f=100.31), ok(1, FEVER)),
    (quiet(temperature_c=None, temperature_f=98.6), ok(0, NO_FEVER)),
    (quiet(temperature_c=None, temperature_f=104.0), ok(1, FEVER)),
    # both units given: ambiguous, refused naming the alternate
    (quiet(temperature_c=38.0, temperature_f=100.4), invalid("temperature_f")),
    # plausible range 30-45 degC, checked after conversion for degF
    (quiet(temperature_c=25.0), invalid("temperature_c")),
    (quiet(temperature_c=50.0), invalid("temperature_c")),
    (quiet(temperature_c=30.0), ok(0, NO_FEVER)),
    (quiet(temperature_c=45.0), ok(1, FEVER)),
    (quiet(temperature_c=29.9), invalid("temperature_c")),
    (quiet(temperature_c=45.1), invalid("temperature_c")),
    (quiet(temperature_c=None, temperature_f=86.0), ok(0, NO_FEVER)),
    (quiet(temperature_c=None, temperature_f=113.0), ok(1, FEVER)),
    (quiet(temperature_c=None, temperature_f=85.9), invalid("temperature_f")),
    (quiet(temperature_c=None, temperature_f=113.1), invalid("temperature_f")),
    (quiet(temperature_c=None, temperature_f=38.0), invalid("temperature_f")),
    # --- a.1 without qualifying fever there is no CRS, whatever the blood pressure or oxygen
    (quiet(hypotension="present", vasopressors=["norepinephrine", "epinephrine"]), ok(0, NO_FEVER)),
    (quiet(oxygen_device="mechanical_ventilation"), ok(0, NO_FEVER)),
    # --- a.3 hypotension tier, from the treatment required
    (febrile(hypotension="present"), ok(2, FEVER, FLUIDS)),
    (pressors("norepinephrine"), ok(3, FEVER, ONE_PRESSOR)),
    (pressors("vasopressin"), ok(3, FEVER, ONE_PRESSOR)),
    (pressors("norepinephrine", "vasopressin"), ok(3, FEVER, ONE_PRESSOR)),
    (pressors("vasopressin", "phenylephrine"), ok(3, FEVER, ONE_PRESSOR)),
    (pressors("norepinephrine", "epinephrine"), ok(4, FEVER, MANY_PRESSORS)),
    (pressors("dopamine", "angiotensin_ii", "vasopressin"), ok(4, FEVER, MANY_PRESSORS)),
    (pressors("norepinephrine", "norepinephrine"), ok(3, FEVER, ONE_PRESSOR)),
    (pressors("vasopressin", "vasopressin", "epinephrine"), ok(3, FEVER, ONE_PRESSOR)),
    (pressors(*VASOPRESSORS), ok(4, FEVER, MANY_PRESSORS)),
    # vasopressors imply hypotension when it is unknown; they contradict "none" (ADR 0102)
    (febrile(hypotension=None, vasopressors=["epinephrine"]), ok(3, FEVER, ONE_PRESSOR)),
    (febrile(vasopressors=["norepinephrine"]), invalid("vasopressors")),
    # --- a.4 hypoxia tier: nasal cannula by flow (<= 6 L/min low, > 6 high), devices by kind
    (oxygen("nasal_cannula", 6.0), ok(2, FEVER, LOW_FLOW)),
    (oxygen("nasal_cannula", 6.5), ok(3, FEVER, HIGH_FLOW)),
    (oxygen("nasal_cannula", 6.01), ok(3, FEVER, HIGH_FLOW)),
    (oxygen("nasal_cannula", 0.5), ok(2, FEVER, LOW_FLOW)),
    (oxygen("nasal_cannula", None), cannot("oxygen_flow_l_min")),
    (oxygen("high_flow_nasal_cannula", 2.0), ok(3, FEVER, HIGH_FLOW)),
    (oxygen("high_flow_nasal_cannula", None), ok(3, FEVER, HIGH_FLOW)),
    (oxygen("blow_by", 10.0), ok(2, FEVER, LOW_FLOW)),
    (oxygen("blow_by", None), ok(2, FEVER, LOW_FLOW)),
    (oxygen("simple_facemask"), ok(3, FEVER, HIGH_FLOW)),
    (oxygen("non_rebreather"), ok(3, FEVER, HIGH_FLOW)),
    (oxygen("venturi_mask"), ok(3, FEVER, HIGH_FLOW)),
    (oxygen("cpap"), ok(4, FEVER, POSITIVE_PRESSURE)),
    (oxygen("bipap"), ok(4, FEVER, POSITIVE_PRESSURE)),
    (oxygen("mechanical_ventilation"), ok(4, FEVER, POSITIVE_PRESSURE)),
    (oxygen("none", 4.0), ok(1, FEVER)),
    # flow range 0-80 L/min, checked whatever the device
    (oxygen("nasal_cannula", -1.0), invalid("oxygen_flow_l_min")),
    (oxygen("none", -0.5), invalid("oxygen_flow_l_min")),
    (oxygen("nasal_cannula", 80.5), invalid("oxygen_flow_l_min")),
    (oxygen("nasal_cannula", 0.0), ok(2, FEVER, LOW_FLOW)),
    (oxygen("high_flow_nasal_cannula", 80.0), ok(3, FEVER, HIGH_FLOW)),
    # --- a.5 combining: the more severe tier; the consensus example (one pressor + cannula) = 3
    (
        pressors("norepinephrine", oxygen_device="nasal_cannula", oxygen_flow_l_min=2.0),
        ok(3, FEVER, ONE_PRESSOR, LOW_FLOW),
    ),
    (pressors(oxygen_device="bipap"), ok(4, FEVER, FLUIDS, POSITIVE_PRESSURE)),
    (
        pressors("epinephrine", "dopamine", oxygen_device="venturi_mask"),
        ok(4, FEVER, MANY_PRESSORS, HIGH_FLOW),
    ),
    # --- a.2 fever waiver: needs both prior CRS and antipyretic / anti-cytokine treatment
    (waived(hypotension="present"), ok(2, WAIVER, FLUIDS)),
    (waived(oxygen_device="non_rebreather"), ok(3, WAIVER, HIGH_FLOW)),
    (waived(hypotension="present", vasopressors=["norepinephrine"]), ok(3, WAIVER, ONE_PRESSOR)),
    (quiet(crs_previously_diagnosed=True, hypotension="present"), ok(0, NO_FEVER)),
    # prophylactic tocilizumab without prior CRS does not waive fever
    (quiet(antipyretic_or_anticytokine_given=True, hypotension="present"), ok(0, NO_FEVER)),
    # waiver with nothing else: grade 0 [S]
    (waived(), ok(0, WAIVER)),
    # a fever on top of the waiver: the fever path (fever alone = 1)
    (waived(temperature_c=39.0), ok(1, FEVER)),
    # --- section 0.5 attribution: a flagged finding counts 0
    (febrile(fever_attributable_to_other_cause=True), ok(0, FEVER_OC, NO_FEVER)),
    (
        febrile(fever_attributable_to_other_cause=True, hypotension="present"),
        ok(0, FEVER_OC, NO_FEVER),
    ),
    (quiet(fever_attributable_to_other_cause=True), ok(0, NO_FEVER)),
    (
        waived(temperature_c=38.2, fever_attributable_to_other_cause=True, hypotension="present"),
        ok(2, FEVER_OC, WAIVER, FLUIDS),
    ),
    (
        pressors("norepinephrine", hypotension_attributable_to_other_cause=True),
        ok(1, FEVER, HYPOTENSION_OC),
    ),
    (
        febrile(hypotension="present", hypotension_attributable_to_other_cause=True),
        ok(1, FEVER, HYPOTENSION_OC),
    ),
    (febrile(hypotension_attributable_to_other_cause=True), ok(1, FEVER)),
    (oxygen("cpap", hypoxia_attributable_to_other_cause=True), ok(1, FEVER, HYPOXIA_OC)),
    (
        oxygen("nasal_cannula", None, hypoxia_attributable_to_other_cause=True),
        ok(1, FEVER, HYPOXIA_OC),
    ),
    (oxygen("none", hypoxia_attributable_to_other_cause=True), ok(1, FEVER)),
    (
        pressors(
            "norepinephrine",
            "epinephrine",
            oxygen_device="cpap",
            hypotension_attributable_to_other_cause=True,
        ),
        ok(4, FEVER, HYPOTENSION_OC, POSITIVE_PRESSURE),
    ),
    (
        waived(oxygen_device="simple_facemask", hypoxia_attributable_to_other_cause=True),
        ok(0, WAIVER, HYPOXIA_OC),
    ),
    # --- a.7 grade 5: death due to CRS overrides everything, unknowns included
    (quiet(died_due_to_crs=True), ok(5, DIED)),
    (pressors("norepinephrine", "epinephrine", died_due_to_crs=True), ok(5, DIED)),
    ({"died_due_to_crs": True}, ok(5, DIED)),
    # ... but not an invalid input
    (quiet(died_due_to_crs=True, temperature_c=50.0), invalid("temperature_c")),
    # died unknown counts as not recorded (ADR 0101)
    (quiet(died_due_to_crs=None), ok(0, NO_FEVER)),
    (febrile(died_due_to_crs=None, oxygen_device="cpap"), ok(4, FEVER, POSITIVE_PRESSURE)),
    # --- a.6 organ toxicity is graded separately and does not change the CRS grade
    (febrile(organ_toxicity_ctcae={"transaminitis": 3, "creatinine_increased": 2}), ok(1, FEVER)),
    # --- section 0.3 determinacy: the four examples of a.8
    # fever present + hypotension unknown + intubated -> 4
    (
        oxygen("mechanical_ventilation", hypotension=None, vasopressors=None),
        ok(4, FEVER, POSITIVE_PRESSURE),
    ),
    # fever present + hypotension unknown + no oxygen -> cannot grade
    (febrile(hypotension=None, vasopressors=None), cannot("hypotension", "vasopressors")),
    # temperature unknown, waiver active, one vasopressor -> 3 (fever no longer matters)
    (
        waived(temperature_c=None, hypotension="present", vasopressors=["norepinephrine"]),
        ok(3, WAIVER, ONE_PRESSOR),
    ),
    # no fever, no waiver, hypotension unknown -> 0
    (
        quiet(hypotension=None, vasopressors=None, hypotension_attributable_to_other_cause=None),
        ok(0, NO_FEVER),
    ),
    # --- more determinacy: what is unknown, and what it blocks
    # every input unknown (a one-key record: a frame needs a column to have a row)
    (
        {"temperature_c": None},
        cannot(
            "temperature_c",
            "fever_attributable_to_other_cause",
            "crs_previously_diagnosed",
            "antipyretic_or_anticytokine_given",
            "hypotension",
            "vasopressors",
            "hypotension_attributable_to_other_cause",
            "oxygen_device",
            "oxygen_flow_l_min",
            "hypoxia_attributable_to_other_cause",
        ),
    ),
    (quiet(temperature_c=None), cannot("temperature_c")),
    (quiet(temperature_c=None, fever_attributable_to_other_cause=True), ok(0, NO_FEVER)),
    (febrile(fever_attributable_to_other_cause=None), cannot("fever_attributable_to_other_cause")),
    (quiet(fever_attributable_to_other_cause=None), ok(0, NO_FEVER)),
    (febrile(crs_previously_diagnosed=None, antipyretic_or_anticytokine_given=None), ok(1, FEVER)),
    (quiet(crs_previously_diagnosed=None, hypotension="present"), ok(0, NO_FEVER)),
    (
        quiet(
            crs_previously_diagnosed=True,
            antipyretic_or_anticytokine_given=None,
            hypotension="present",
        ),
        cannot("antipyretic_or_anticytokine_given"),
    ),
    (
        quiet(
            crs_previously_diagnosed=None,
            antipyretic_or_anticytokine_given=None,
            oxygen_device="cpap",
        ),
        cannot("crs_previously_diagnosed", "antipyretic_or_anticytokine_given"),
    ),
    # waiver unknown but nothing the waiver could grade: 0
    (quiet(crs_previously_diagnosed=None, antipyretic_or_anticytokine_given=None), ok(0, NO_FEVER)),
    # hypotension present, vasopressors unknown: 2, 3 or 4
    (febrile(hypotension="present", vasopressors=None), cannot("vasopressors")),
    (febrile(hypotension=None, vasopressors=[]), cannot("hypotension")),
    (febrile(hypotension="none", vasopressors=None), ok(1, FEVER)),
    (
        febrile(
            hypotension=None,
            vasopressors=["norepinephrine"],
            hypotension_attributable_to_other_cause=None,
        ),
        cannot("hypotension_attributable_to_other_cause"),
    ),
    (
        pressors(
            "norepinephrine", hypotension_attributable_to_other_cause=None, oxygen_device="cpap"
        ),
        ok(4, FEVER, POSITIVE_PRESSURE),
    ),
    (
        febrile(
            hypotension="present", vasopressors=None, hypotension_attributable_to_other_cause=True
        ),
        ok(1, FEVER, HYPOTENSION_OC),
    ),
    (febrile(oxygen_device=None), cannot("oxygen_device", "oxygen_flow_l_min")),
    (febrile(oxygen_device=None, oxygen_flow_l_min=3.0), cannot("oxygen_device")),
    (
        oxygen("cpap", None, hypoxia_attributable_to_other_cause=None),
        cannot("hypoxia_attributable_to_other_cause"),
    ),
    (
        oxygen("nasal_cannula", None, hypotension="present", vasopressors=["vasopressin"]),
        ok(3, FEVER, ONE_PRESSOR),
    ),
    (oxygen("nasal_cannula", None, hypotension="present"), cannot("oxygen_flow_l_min")),
    # unknown hypoxia but the hypotension tier is already the maximum non-fatal grade
    (
        pressors(
            "norepinephrine",
            "phenylephrine",
            oxygen_device=None,
            hypoxia_attributable_to_other_cause=None,
        ),
        ok(4, FEVER, MANY_PRESSORS),
    ),
    # several components undetermined: fields listed in Appendix A order
    (
        febrile(fever_attributable_to_other_cause=None, hypotension=None, oxygen_device=None),
        cannot(
            "fever_attributable_to_other_cause", "hypotension", "oxygen_device", "oxygen_flow_l_min"
        ),
    ),
    # temperature unknown with the waiver and a tier: both paths give the tier
    (waived(temperature_c=None, oxygen_device="cpap"), ok(4, WAIVER, POSITIVE_PRESSURE)),
    (waived(temperature_c=None), cannot("temperature_c")),
    # several invalid fields: all named, in Appendix A order
    (
        quiet(
            temperature_c=None,
            temperature_f=120.0,
            vasopressors=["vasopressin"],
            oxygen_flow_l_min=-2.0,
        ),
        invalid("temperature_f", "vasopressors", "oxygen_flow_l_min"),
    ),
    (
        quiet(temperature_c=20.0, oxygen_flow_l_min=100.0),
        invalid("temperature_c", "oxygen_flow_l_min"),
    ),
]


def scalar(record: dict[str, Any]) -> CRSResult:
    return grade_crs(observation_from_mapping(CRSObservation, record))


def test_spec_table_both_paths() -> None:
    check_both(scalar, crs_batch.grade_frame, CASES)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_each_case_alone(case: int) -> None:
    """A one-row frame: the batch must not depend on the other rows of the frame."""
    check_both(scalar, crs_batch.grade_frame, CASES[case : case + 1])


SCALAR_ONLY: list[tuple[dict[str, Any], dict[str, object]]] = [
    # words outside the vocabulary (the file readers refuse these before the batch rule)
    (febrile(vasopressors=["dobutamine"], hypotension="present"), invalid("vasopressors")),
    (
        febrile(vasopressors=["norepinephrine", "milrinone"], hypotension="present"),
        invalid("vasopressors"),
    ),
    (febrile(vasopressors="norepinephrine", hypotension="present"), invalid("vasopressors")),
    (febrile(hypotension="low"), invalid("hypotension")),
    (febrile(oxygen_device="nasal"), invalid("oxygen_device")),
    # wrong types
    (quiet(temperature_c="38.5"), invalid("temperature_c")),
    (quiet(temperature_c=None, temperature_f="101"), invalid("temperature_f")),
    (quiet(temperature_c=True), invalid("temperature_c")),
    (quiet(oxygen_flow_l_min="4"), invalid("oxygen_flow_l_min")),
    (quiet(fever_attributable_to_other_cause="yes"), invalid("fever_attributable_to_other_cause")),
    (quiet(crs_previously_diagnosed=1), invalid("crs_previously_diagnosed")),
    (quiet(antipyretic_or_anticytokine_given=0), invalid("antipyretic_or_anticytokine_given")),
    (
        quiet(hypotension_attributable_to_other_cause="no"),
        invalid("hypotension_attributable_to_other_cause"),
    ),
    (
        quiet(hypoxia_attributable_to_other_cause=1.0),
        invalid("hypoxia_attributable_to_other_cause"),
    ),
    (quiet(died_due_to_crs="false"), invalid("died_due_to_crs")),
    (quiet(temperature_c=float("nan")), invalid("temperature_c")),
    (quiet(temperature_c=float("inf")), invalid("temperature_c")),
    # integers are numbers
    (quiet(temperature_c=38), ok(1, FEVER)),
    (quiet(temperature_c=None, temperature_f=101), ok(1, FEVER)),
    (oxygen("nasal_cannula", 6), ok(2, FEVER, LOW_FLOW)),
    # every problem named, Appendix A order
    (
        quiet(
            fever_attributable_to_other_cause="x",
            hypotension="x",
            oxygen_device="x",
            died_due_to_crs="x",
        ),
        invalid(
            "fever_attributable_to_other_cause", "hypotension", "oxygen_device", "died_due_to_crs"
        ),
    ),
]


@pytest.mark.parametrize(("record", "expected"), SCALAR_ONLY)
def test_scalar_only_cases(record: dict[str, Any], expected: dict[str, object]) -> None:
    row = scalar(record).as_row()
    for key, value in expected.items():
        assert row[key] == value, (key, row)


def test_invalid_result_names_the_problem() -> None:
    result = scalar(quiet(temperature_c=None, temperature_f=122.0))
    assert [problem.field for problem in result.problems] == ["temperature_f"]
    assert result.problems[0].value == 122.0
    both = scalar(quiet(temperature_c=38.0, temperature_f=100.4))
    assert both.problems[0].field == "temperature_f"
    contradiction = scalar(febrile(vasopressors=["dopamine"]))
    assert contradiction.problems[0].field == "vasopressors"


def test_unknown_agent_is_a_file_error_not_a_batch_row() -> None:
    """Inotropes are not vasopressors: the record layer refuses them before the batch rule."""
    with pytest.raises(ValueError, match="dobutamine"):
        frame_from_records([febrile(vasopressors=["dobutamine"])])


def test_result_carries_the_criteria() -> None:
    result = scalar(quiet())
    assert result.criteria.name == "ASTCT CRS"
    assert result.criteria.version == "2019"
