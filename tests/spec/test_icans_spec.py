"""Spec table for ASTCT 2019 ICANS grading (reference section b, with 0.2, 0.3 and 0.5).

Every band boundary of the ICE and CAPD domains, every word of the other domains, the
consensus example, the age rule, invalid inputs, attribution, death and the determinacy rule,
run through the scalar rule and the vectorised rule (which must agree row for row). The numbers
are copied from the reference tables, not read from it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from carta.analytics.rules.icans import grade_frame
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.results import Status
from carta.clinical.toxicity.icans_astct_2019 import ICANSObservation, grade_icans
from tests.spec.parity import check_both

RAPID_SEIZURE = "rapidly_resolving_or_nonconvulsive_responding"
PROLONGED_SEIZURE = "prolonged_or_repetitive_without_return"
DIFFUSE_EDEMA = "diffuse_edema_or_posturing_or_cn6_or_papilledema_or_cushing"
UNAROUSABLE = "unarousable_or_vigorous_stimuli_or_coma"

# A normal assessment with every domain known: grade 0.
QUIET: dict[str, Any] = {
    "consciousness": "alert",
    "consciousness_attributable_to_other_cause": False,
    "seizure": "none",
    "motor": "none",
    "icp_edema": "none",
    "died_due_to_icans": False,
}


def adult(**changes: Any) -> dict[str, Any]:
    """A 40-year-old assessed with ICE 10 and no finding, with ``changes`` applied."""
    return {"age_years": 40, "tool": "ICE", "ice_score": 10, **QUIET, **changes}


def child(**changes: Any) -> dict[str, Any]:
    """An 8-year-old assessed with CAPD 0 and no finding, with ``changes`` applied."""
    return {"age_years": 8, "tool": "CAPD", "capd_score": 0, **QUIET, **changes}


def ok(grade: int, *reasons: str, **fields: Any) -> dict[str, Any]:
    return {"status": "ok", "grade": grade, "reasons": list(reasons), "missing": [], **fields}


def cannot(*missing: str, **fields: Any) -> dict[str, Any]:
    return {
        "status": "cannot_grade",
        "grade": None,
        "reasons": [],
        "missing": list(missing),
        **fields,
    }


def invalid(*fields: str) -> dict[str, Any]:
    return {
        "status": "invalid_input",
        "grade": None,
        "ice_score": None,
        "capd_score": None,
        "reasons": [f"invalid:{field}" for field in fields],
        "missing": [],
    }


ALL_ITEMS = {
    "orientation_year": 1,
    "orientation_month": 1,
    "orientation_city": 1,
    "orientation_hospital": 1,
    "naming_objects_correct": 3,
    "follows_commands": 1,
    "writes_sentence": 1,
    "counts_back_by_10": 1,
}

CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # b.2 ICE domain: 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3 (every boundary).
    (adult(ice_score=10), ok(0, ice_score=10)),
    (adult(ice_score=9), ok(1, "icans.ice.1", ice_score=9)),
    (adult(ice_score=7), ok(1, "icans.ice.1", ice_score=7)),
    (adult(ice_score=6), ok(2, "icans.ice.2", ice_score=6)),
    (adult(ice_score=3), ok(2, "icans.ice.2", ice_score=3)),
    (adult(ice_score=2), ok(3, "icans.ice.3", ice_score=2)),
    (adult(ice_score=0), ok(3, "icans.ice.3", ice_score=0)),
    # b.4: ICE 0 while awake -> 3; unable to do ICE because unarousable -> 4.
    (
        adult(ice_score=0, consciousness="awakens_spontaneously"),
        ok(3, "icans.ice.3", "icans.consciousness.spontaneous"),
    ),
    (
        adult(ice_score=None, ice_not_performable_reason="unarousable", consciousness=UNAROUSABLE),
        ok(4, "icans.ice.4", "icans.consciousness.unarousable", ice_score=None),
    ),
    (adult(ice_score=None, ice_not_performable_reason="unarousable"), ok(4, "icans.ice.4")),
    # b.4: not performable for another cause -> ICE domain unknown; graded only if another is 4.
    (
        adult(ice_score=None, ice_not_performable_reason="other_cause"),
        cannot("ice_score", ice_score=None),
    ),
    (
        adult(ice_score=None, ice_not_performable_reason="other_cause", seizure=PROLONGED_SEIZURE),
        ok(4, "icans.seizure.prolonged"),
    ),
    (
        adult(ice_score=None, ice_not_performable_reason="other_cause", icp_edema="focal_edema"),
        cannot("ice_score"),
    ),
    # b.2 depressed level of consciousness, each level.
    (adult(consciousness="alert"), ok(0)),
    (adult(consciousness="awakens_spontaneously"), ok(1, "icans.consciousness.spontaneous")),
    (adult(consciousness="awakens_to_voice"), ok(2, "icans.consciousness.voice")),
    (adult(consciousness="awakens_to_tactile"), ok(3, "icans.consciousness.tactile")),
    (adult(consciousness=UNAROUSABLE), ok(4, "icans.consciousness.unarousable")),
    # 0.5 attribution: a level attributed to another cause (sedation) counts 0.
    (
        adult(consciousness="awakens_to_tactile", consciousness_attributable_to_other_cause=True),
        ok(0, "icans.consciousness.other_cause"),
    ),
    (
        adult(consciousness="awakens_to_voice", consciousness_attributable_to_other_cause=None),
        cannot("consciousness_attributable_to_other_cause", ice_score=10),
    ),
    (adult(consciousness="alert", consciousness_attributable_to_other_cause=None), ok(0)),
    (
        adult(
            ice_score=5,
            consciousness="awakens_to_voice",
            consciousness_attributable_to_other_cause=None,
        ),
        ok(2, "icans.ice.2"),
    ),
    (adult(consciousness=None, consciousness_attributable_to_other_cause=True), ok(0)),
    # b.2 seizure (quickly resolving = 3, per the consensus table and its example; ADR 0121).
    (adult(seizure="none"), ok(0)),
    (adult(seizure=RAPID_SEIZURE), ok(3, "icans.seizure.rapidly_resolving")),
    (adult(seizure=PROLONGED_SEIZURE), ok(4, "icans.seizure.prolonged")),
    # b.3 consensus example: ICE 3 + generalized seizure = grade 3.
    (
        adult(ice_score=3, seizure=RAPID_SEIZURE),
        ok(3, "icans.ice.2", "icans.seizure.rapidly_resolving"),
    ),
    # b.2 motor: tremor and myoclonus do not count.
    (adult(motor="none"), ok(0)),
    (adult(motor="tremor_or_myoclonus_only"), ok(0, "icans.motor.tremor_or_myoclonus_not_counted")),
    (adult(motor="deep_focal_weakness"), ok(4, "icans.motor.deep_focal_weakness")),
    # b.2 raised ICP / cerebral edema: hemorrhage alone is not ICANS.
    (adult(icp_edema="none"), ok(0)),
    (adult(icp_edema="focal_edema"), ok(3, "icans.edema.focal")),
    (adult(icp_edema=DIFFUSE_EDEMA), ok(4, "icans.edema.diffuse")),
    (adult(icp_edema="intracranial_hemorrhage_only"), ok(0, "icans.edema.hemorrhage_not_counted")),
    # b.3 most severe domain wins; every reason in the fixed order.
    (
        adult(
            ice_score=8,
            consciousness="awakens_to_voice",
            seizure=RAPID_SEIZURE,
            icp_edema=DIFFUSE_EDEMA,
        ),
        ok(
            4,
            "icans.ice.1",
            "icans.consciousness.voice",
            "icans.seizure.rapidly_resolving",
            "icans.edema.diffuse",
        ),
    ),
    # b.3 grade 5: death due to ICANS overrides everything; unknown death is not recorded (ADR 0125).
    (adult(ice_score=2, died_due_to_icans=True), ok(5, "icans.died", ice_score=2)),
    (adult(ice_score=None, seizure=None, died_due_to_icans=True), ok(5, "icans.died")),
    (adult(died_due_to_icans=None), ok(0)),
    (adult(ice_score=11, died_due_to_icans=True), invalid("ice_score")),
    # b.5 CAPD domain: 0 -> 0, 1-8 -> 1, >= 9 -> 3, unable (unarousable) -> 4.
    (child(capd_score=0), ok(0, capd_score=0, ice_score=None)),
    (child(capd_score=1), ok(1, "icans.capd.1", capd_score=1)),
    (child(capd_score=8), ok(1, "icans.capd.1", capd_score=8)),
    (child(capd_score=9), ok(3, "icans.capd.3", capd_score=9)),
    (child(capd_score=32), ok(3, "icans.capd.3", capd_score=32)),
    (
        child(capd_score=None, capd_not_performable_reason="unarousable"),
        ok(4, "icans.capd.4", capd_score=None),
    ),
    (child(capd_score=None, capd_not_performable_reason="other_cause"), cannot("capd_score")),
    # b.5: CAPD 1-8 contributes 1; waking only to voice gives the 2.
    (
        child(capd_score=5, consciousness="awakens_to_voice"),
        ok(2, "icans.capd.1", "icans.consciousness.voice"),
    ),
    (
        child(capd_score=9, seizure=PROLONGED_SEIZURE),
        ok(4, "icans.capd.3", "icans.seizure.prolonged"),
    ),
    # CAPD items (Traube 2014): items 1-4 reversed, 5-8 forward.
    (
        child(
            capd_score=None,
            capd_items={
                "eye_contact": "always",
                "purposeful_actions": "always",
                "aware_of_surroundings": "always",
                "communicates_needs": "always",
                "restless": "never",
                "inconsolable": "never",
                "underactive": "never",
                "slow_to_respond": "never",
            },
        ),
        ok(0, capd_score=0),
    ),
    (
        child(
            capd_score=None,
            capd_items={
                "eye_contact": "always",
                "purposeful_actions": "often",
                "aware_of_surroundings": "sometimes",
                "communicates_needs": "rarely",
                "restless": "never",
                "inconsolable": "rarely",
                "underactive": "sometimes",
                "slow_to_respond": "often",
            },
        ),
        ok(3, "icans.capd.3", capd_score=12),
    ),
    (
        child(
            capd_score=None,
            capd_items={
                "eye_contact": "never",
                "purposeful_actions": "always",
                "aware_of_surroundings": "always",
                "communicates_needs": "always",
                "restless": "always",
                "inconsolable": "never",
                "underactive": "never",
                "slow_to_respond": "never",
            },
        ),
        ok(1, "icans.capd.1", capd_score=8),
    ),
    # Partial CAPD items: 9 known points already screen positive -> 3 whatever the rest.
    (
        child(
            capd_score=None,
            capd_items={"eye_contact": "never", "restless": "always", "underactive": "rarely"},
        ),
        ok(3, "icans.capd.3", capd_score=None),
    ),
    (
        child(
            capd_score=None,
            capd_items={"eye_contact": "never", "restless": "always", "underactive": None},
        ),
        cannot(
            "capd_items.purposeful_actions",
            "capd_items.aware_of_surroundings",
            "capd_items.communicates_needs",
            "capd_items.inconsolable",
            "capd_items.underactive",
            "capd_items.slow_to_respond",
            capd_score=None,
        ),
    ),
    (
        child(
            capd_score=None,
            capd_items={"eye_contact": "never"},
            capd_not_performable_reason="unarousable",
        ),
        invalid("capd_not_performable_reason"),
    ),
    (child(capd_score=3, capd_items={"eye_contact": "never"}), invalid("capd_score")),
    (child(capd_score=33), invalid("capd_score")),
    (child(capd_score=-1), invalid("capd_score")),
    # b.1 ICE items: complete items give the score; partial items a range (ADR 0122).
    (adult(ice_score=None, ice_items=ALL_ITEMS), ok(0, ice_score=10)),
    (adult(ice_score=10, ice_items=ALL_ITEMS), ok(0, ice_score=10)),
    (adult(ice_score=9, ice_items=ALL_ITEMS), invalid("ice_score")),
    (
        adult(
            ice_score=None,
            ice_items={**ALL_ITEMS, "naming_objects_correct": 0, "writes_sentence": 0},
        ),
        ok(2, "icans.ice.2", ice_score=6),
    ),
    (
        adult(ice_score=None, ice_items={**ALL_ITEMS, "counts_back_by_10": None}),
        cannot("ice_items.counts_back_by_10", ice_score=None),
    ),
    (
        adult(
            ice_score=None,
            ice_items={
                "orientation_year": 1,
                "orientation_month": 1,
                "orientation_city": 1,
                "naming_objects_correct": 0,
                "follows_commands": 0,
                "writes_sentence": 0,
                "counts_back_by_10": 0,
            },
        ),
        ok(2, "icans.ice.2", ice_score=None),
    ),
    (
        adult(
            ice_score=4,
            ice_items={"orientation_year": 1, "orientation_month": 1, "orientation_city": 1},
        ),
        ok(2, "icans.ice.2", ice_score=4),
    ),
    (
        adult(
            ice_score=2,
            ice_items={"orientation_year": 1, "orientation_month": 1, "orientation_city": 1},
        ),
        invalid("ice_score"),
    ),
    (
        adult(ice_score=None, ice_items={**ALL_ITEMS, "naming_objects_correct": 4}),
        invalid("ice_items.naming_objects_correct"),
    ),
    (
        adult(
            ice_score=None, ice_items={**ALL_ITEMS, "orientation_year": 2, "counts_back_by_10": -1}
        ),
        invalid("ice_items.orientation_year", "ice_items.counts_back_by_10"),
    ),
    (
        adult(ice_score=None, ice_items={**ALL_ITEMS, "naming_objects_correct": 3}),
        ok(0, ice_score=10),
    ),
    (
        adult(ice_score=None, ice_items={**ALL_ITEMS, "orientation_year": 0}),
        ok(1, "icans.ice.1", ice_score=9),
    ),
    (adult(ice_score=11), invalid("ice_score")),
    (adult(ice_score=-1), invalid("ice_score")),
    (
        adult(ice_score=5, ice_not_performable_reason="unarousable"),
        invalid("ice_not_performable_reason"),
    ),
    # b.5 / b.7 tool and age (ADRs 0123, 0124): ICE from 12, CAPD below.
    (adult(age_years=11), invalid("tool")),
    (adult(age_years=11.9), invalid("tool")),
    (adult(age_years=12), ok(0, ice_score=10)),
    (adult(age_years=None), ok(0, ice_score=10)),
    (adult(age_years=11, tool=None), invalid("tool")),
    (child(age_years=12, developmental_delay=True), ok(0, capd_score=0)),
    (child(age_years=12, developmental_delay=None), ok(0, capd_score=0)),
    (child(age_years=12, developmental_delay=False), invalid("tool")),
    (
        child(age_years=30, developmental_delay=True, capd_score=10),
        ok(3, "icans.capd.3", capd_score=10),
    ),
    (child(age_years=11.9, developmental_delay=False), ok(0, capd_score=0)),
    (adult(developmental_delay=True), ok(0, ice_score=10)),
    (adult(capd_score=4), invalid("tool")),
    (child(ice_score=10), invalid("tool")),
    (adult(tool=None, capd_score=4), invalid("tool")),
    (adult(tool=None), ok(0, ice_score=10)),
    (child(tool=None), ok(0, capd_score=0)),
    (adult(age_years=-1), invalid("age_years")),
    (adult(age_years=121), invalid("age_years")),
    (adult(age_years=float("nan")), invalid("age_years")),
    (adult(age_years=120), ok(0)),
    (adult(age_years=0, tool="CAPD", ice_score=None, capd_score=0), ok(0, capd_score=0)),
    # Several invalid fields: one reason each, Appendix A order.
    (
        adult(age_years=200, ice_score=12, capd_score=40),
        invalid("age_years", "ice_score", "capd_score"),
    ),
    # b.6 / 0.3 determinacy.
    (adult(ice_score=8, seizure=None), cannot("seizure", ice_score=8)),
    (adult(ice_score=8, seizure=None, motor=None), cannot("seizure", "motor", ice_score=8)),
    (adult(ice_score=8, seizure=None, icp_edema="focal_edema"), cannot("seizure")),
    (
        adult(ice_score=8, seizure=None, motor="deep_focal_weakness"),
        ok(4, "icans.ice.1", "icans.motor.deep_focal_weakness"),
    ),
    (
        adult(ice_score=None, consciousness=None, icp_edema=DIFFUSE_EDEMA),
        ok(4, "icans.edema.diffuse"),
    ),
    (
        adult(
            ice_score=None,
            consciousness=None,
            consciousness_attributable_to_other_cause=None,
            seizure=None,
            motor=None,
            icp_edema=None,
            died_due_to_icans=None,
        ),
        cannot(
            "ice_score",
            "consciousness",
            "consciousness_attributable_to_other_cause",
            "seizure",
            "motor",
            "icp_edema",
        ),
    ),
    # Only domains that could still raise the grade are named (ADR 0127).
    (
        adult(
            ice_score=2,
            seizure=None,
            consciousness="awakens_to_voice",
            consciousness_attributable_to_other_cause=None,
        ),
        cannot("seizure", ice_score=2),
    ),
    (
        {},
        cannot(
            "ice_score",
            "consciousness",
            "consciousness_attributable_to_other_cause",
            "seizure",
            "motor",
            "icp_edema",
        ),
    ),
    (
        {"age_years": 5},
        cannot(
            "capd_score",
            "consciousness",
            "consciousness_attributable_to_other_cause",
            "seizure",
            "motor",
            "icp_edema",
        ),
    ),
    (
        {"age_years": 30, "developmental_delay": True, "seizure": RAPID_SEIZURE},
        cannot(
            "capd_score",
            "consciousness",
            "consciousness_attributable_to_other_cause",
            "motor",
            "icp_edema",
        ),
    ),
]


def _scalar(record: dict[str, Any]) -> Any:
    return grade_icans(observation_from_mapping(ICANSObservation, record))


def test_spec_table_scalar_and_batch_agree() -> None:
    check_both(_scalar, grade_frame, CASES)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (adult(consciousness="drowsy"), "consciousness"),
        (adult(seizure="focal"), "seizure"),
        (adult(motor=4), "motor"),
        (adult(icp_edema="bleed"), "icp_edema"),
        (adult(tool="MMSE"), "tool"),
        (adult(ice_score="10"), "ice_score"),
        (adult(ice_score=7.0), "ice_score"),
        (adult(ice_score=True), "ice_score"),
        (
            adult(ice_score=None, ice_items={**ALL_ITEMS, "writes_sentence": True}),
            "ice_items.writes_sentence",
        ),
        (adult(ice_score=None, ice_not_performable_reason="asleep"), "ice_not_performable_reason"),
        (child(capd_score=None, capd_items={"eye_contact": "mostly"}), "capd_items.eye_contact"),
        (adult(died_due_to_icans="yes"), "died_due_to_icans"),
        (
            adult(consciousness_attributable_to_other_cause=1),
            "consciousness_attributable_to_other_cause",
        ),
        (adult(developmental_delay="no"), "developmental_delay"),
        (adult(age_years="40"), "age_years"),
        (adult(age_years=math.inf), "age_years"),
    ],
)
def test_words_and_types_outside_the_vocabulary_are_invalid(
    record: dict[str, Any], field: str
) -> None:
    """Scalar path only: a table reader refuses these before the batch rule (ADR 0003)."""
    result = _scalar(record)
    assert result.status is Status.INVALID_INPUT
    assert result.reasons == (f"invalid:{field}",)
    assert [problem.field for problem in result.problems] == [field]
    assert result.grade is None and result.ice_score is None


def test_problems_say_what_was_expected() -> None:
    result = _scalar(adult(age_years=11))
    (problem,) = result.problems
    assert problem.field == "tool"
    assert "12" in problem.expected


def test_criteria_is_astct_2019() -> None:
    assert _scalar(adult()).criteria.label == "ASTCT ICANS 2019"
