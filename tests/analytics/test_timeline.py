"""Per-patient timelines: the derived CRS fever waiver, agreement flags, episodes, the demo.

The waiver rules come from reference section a.2 (both CRS previously diagnosed and
antipyretic/anti-cytokine therapy; prophylaxis before any CRS does not waive) and ADRs
0181-0185. The vectorised two-pass derivation is checked against a plain day-by-day loop over
the single-record grader on random patients.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carta.analytics.rules import icans as icans_rules
from carta.analytics.timeline import (
    AGREEMENT_VALUES,
    EPISODE_COLUMNS,
    INPUT_COLUMNS,
    TIMELINE_COLUMNS,
    demo_patient_days,
    grade_timeline,
    summarise_episodes,
)
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, grade_crs
from carta.io.records import frame_from_records

FLAG = "crs_previously_diagnosed"
THERAPY = "antipyretic_or_anticytokine_given"

# A quiet day: afebrile, no hypotension, no oxygen, ICE 10, alert (every input known).
QUIET: dict[str, Any] = {
    "temperature_c": 37.0,
    "fever_attributable_to_other_cause": False,
    THERAPY: False,
    "hypotension": "none",
    "vasopressors": [],
    "hypotension_attributable_to_other_cause": False,
    "oxygen_device": "none",
    "hypoxia_attributable_to_other_cause": False,
    "died_due_to_crs": False,
    "age_years": 50.0,
    "ice_score": 10,
    "consciousness": "alert",
    "consciousness_attributable_to_other_cause": False,
    "seizure": "none",
    "motor": "none",
    "icp_edema": "none",
    "died_due_to_icans": False,
}
FEVER = {"temperature_c": 38.5}
AFEBRILE = {"temperature_c": 37.2}
TOCILIZUMAB = {THERAPY: True}
ON_NOREPINEPHRINE = {"hypotension": "present", "vasopressors": ["norepinephrine"]}
ON_FLUIDS = {"hypotension": "present", "vasopressors": []}
LOW_FLOW = {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 2.0}


def day(patient: object, number: int, *changes: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"patient_id": patient, "day": number, **QUIET}
    for change in changes:
        record.update(change)
    record.update(more)
    return record


def timeline(records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    return grade_timeline(frame_from_records(records))


def column(frame: pl.DataFrame, name: str) -> list[Any]:
    return frame[name].to_list()


# --- the fever waiver (reference a.2) ---------------------------------------------------------


def test_fever_then_tocilizumab_then_afebrile_hypotension_on_a_vasopressor_is_grade_3() -> None:
    result = timeline(
        [
            day("P1", 0, FEVER),
            day("P1", 1, FEVER, LOW_FLOW, TOCILIZUMAB),
            day("P1", 2, AFEBRILE, ON_NOREPINEPHRINE),
            day("P1", 3, AFEBRILE, ON_FLUIDS),
            day("P1", 4),
        ]
    )
    assert column(result, "crs_grade") == [1, 2, 3, 2, 0]
    assert column(result, FLAG) == [False, True, True, True, True]
    assert column(result, "fever_waiver") == [False, True, True, True, True]
    reasons = column(result, "crs_reasons")
    assert reasons[2] == ["crs.fever_waiver", "crs.hypotension.one_vasopressor"]
    assert reasons[4] == ["crs.fever_waiver"]


def test_without_the_waiver_the_same_afebrile_hypotension_is_no_crs() -> None:
    result = timeline([day("P1", 0, FEVER, LOW_FLOW), day("P1", 1, AFEBRILE, ON_NOREPINEPHRINE)])
    assert column(result, "crs_grade") == [2, 0]
    assert column(result, FLAG) == [False, True]
    assert column(result, "fever_waiver") == [False, False]


def test_tocilizumab_before_any_crs_does_not_waive_fever() -> None:
    result = timeline(
        [
            day("P1", 0, TOCILIZUMAB),
            day("P1", 1, AFEBRILE, ON_NOREPINEPHRINE),
            day("P1", 2, FEVER),
            day("P1", 3, AFEBRILE, ON_NOREPINEPHRINE),
        ]
    )
    assert column(result, "crs_grade") == [0, 0, 1, 0]
    assert column(result, FLAG) == [False, False, False, True]
    assert column(result, "fever_waiver") == [False, False, False, False]
    assert column(result, "crs_reasons")[3] == ["crs.no_fever"]


def test_therapy_on_the_first_crs_day_counts_and_the_waiver_lasts() -> None:
    result = timeline(
        [
            day("P1", 0, FEVER, TOCILIZUMAB),
            day("P1", 1, AFEBRILE, ON_NOREPINEPHRINE),
            day("P1", 2),
            day("P1", 9, AFEBRILE, ON_FLUIDS),
        ]
    )
    assert column(result, "fever_waiver") == [False, True, True, True]
    assert column(result, "crs_grade") == [1, 3, 0, 2]


def test_waiver_with_no_hypotension_and_no_hypoxia_is_grade_0() -> None:
    result = timeline([day("P1", 0, FEVER, TOCILIZUMAB), day("P1", 1)])
    assert column(result, "crs_status") == ["ok", "ok"]
    assert column(result, "crs_grade") == [1, 0]
    assert column(result, "fever_waiver")[1] is True
    assert column(result, "crs_reasons")[1] == ["crs.fever_waiver"]


def test_previously_diagnosed_from_the_input_flag() -> None:
    records = [
        # Referred with CRS diagnosed elsewhere: the flag on the first day carries forward.
        day("REF", 0, TOCILIZUMAB, AFEBRILE, ON_NOREPINEPHRINE, {FLAG: True}),
        day("REF", 1, AFEBRILE, ON_FLUIDS),
        day("NEW", 0, TOCILIZUMAB, AFEBRILE, ON_NOREPINEPHRINE, {FLAG: False}),
        day("NEW", 1, AFEBRILE, ON_FLUIDS, {FLAG: False}),
    ]
    result = timeline(records)
    assert column(result, FLAG) == [True, True, False, False]
    assert column(result, "fever_waiver") == [True, True, False, False]
    assert column(result, "crs_grade") == [3, 2, 0, 0]


def test_the_input_flag_carries_forward_in_three_valued_logic() -> None:
    records = [
        day("T", 0, {FLAG: True}),
        day("T", 1, {FLAG: None}),
        day("T", 2, {FLAG: False}),
        day("U", 0, {FLAG: None}),
        day("U", 1, {FLAG: False}),
        day("F", 0, {FLAG: False}),
        day("F", 1, {FLAG: None}),
    ]
    assert column(timeline(records), FLAG) == [True, True, True, None, None, False, None]


def test_unknown_input_flag_leaves_the_waiver_unknown() -> None:
    result = timeline([day("P1", 0, TOCILIZUMAB, AFEBRILE, ON_NOREPINEPHRINE, {FLAG: None})])
    row = result.row(0, named=True)
    assert row[FLAG] is None
    assert row["fever_waiver"] is None
    assert row["crs_status"] == "cannot_grade"
    assert "crs_previously_diagnosed" in row["crs_missing"]


def test_earlier_cannot_grade_day_leaves_previously_diagnosed_unknown() -> None:
    result = timeline(
        [
            day("P1", 0, TOCILIZUMAB, temperature_c=None),
            day("P1", 1, AFEBRILE, ON_NOREPINEPHRINE),
        ]
    )
    assert column(result, "crs_status") == ["cannot_grade", "cannot_grade"]
    assert column(result, FLAG) == [False, None]
    assert column(result, "fever_waiver") == [False, None]
    assert "crs_previously_diagnosed" in column(result, "crs_missing")[1]


def test_an_earlier_certain_crs_day_outweighs_an_unknown_one() -> None:
    result = timeline(
        [
            day("P1", 0, FEVER),
            day("P1", 1, TOCILIZUMAB, temperature_c=None),
            day("P1", 2, AFEBRILE, ON_NOREPINEPHRINE),
        ]
    )
    assert column(result, FLAG) == [False, True, True]
    assert column(result, "fever_waiver") == [False, True, True]
    assert column(result, "crs_status") == ["ok", "cannot_grade", "ok"]
    assert column(result, "crs_grade")[2] == 3


def test_a_febrile_cannot_grade_day_is_certainly_crs() -> None:
    febrile_unknown_pressure = {
        "temperature_c": 38.7,
        "hypotension": None,
        "vasopressors": None,
    }
    result = timeline(
        [
            day("P1", 0, febrile_unknown_pressure, TOCILIZUMAB),
            day("P1", 1, AFEBRILE, ON_NOREPINEPHRINE),
            # Same, but the fever might be explained by another cause: CRS not certain.
            day(
                "P2",
                0,
                febrile_unknown_pressure,
                TOCILIZUMAB,
                fever_attributable_to_other_cause=None,
            ),
            day("P2", 1, AFEBRILE, ON_NOREPINEPHRINE),
        ]
    )
    assert column(result, "crs_status") == ["cannot_grade", "ok", "cannot_grade", "cannot_grade"]
    assert column(result, FLAG) == [False, True, False, None]
    assert column(result, "crs_grade")[1] == 3


def test_unknown_therapy_leaves_the_waiver_unknown() -> None:
    result = timeline(
        [day("P1", 0, FEVER, {THERAPY: None}), day("P1", 1, AFEBRILE, ON_NOREPINEPHRINE)]
    )
    assert column(result, "fever_waiver") == [False, None]
    assert column(result, "crs_status") == ["ok", "cannot_grade"]
    assert THERAPY in column(result, "crs_missing")[1]


def test_therapy_column_absent_is_unknown_therapy() -> None:
    records = [day("P1", 0, FEVER), day("P1", 1, AFEBRILE, ON_NOREPINEPHRINE)]
    for record in records:
        del record[THERAPY]
    result = timeline(records)
    assert column(result, "fever_waiver") == [False, None]
    assert column(result, "crs_status") == ["ok", "cannot_grade"]


def test_patients_do_not_share_a_course() -> None:
    result = timeline(
        [
            day("A", 0, FEVER, TOCILIZUMAB),
            day("B", 1, AFEBRILE, ON_NOREPINEPHRINE),
            day("A", 1, AFEBRILE, ON_NOREPINEPHRINE),
            day("B", 0),
        ]
    )
    assert column(result, "crs_grade") == [1, 0, 3, 0]
    assert column(result, FLAG) == [False, False, True, False]


# --- input handling ---------------------------------------------------------------------------


def _course_records() -> list[dict[str, Any]]:
    return [
        day("A", 0, FEVER),
        day("A", 1, FEVER, LOW_FLOW, TOCILIZUMAB),
        day("A", 2, AFEBRILE, ON_NOREPINEPHRINE),
        day("A", 4),
        day("B", 0, TOCILIZUMAB),
        day("B", 3, AFEBRILE, ON_FLUIDS),
        day("B", 5, FEVER),
        day("C", 1, FEVER, TOCILIZUMAB),
        day("C", 2, AFEBRILE, ON_FLUIDS),
    ]


def test_unsorted_input_gives_the_same_rows_in_the_input_order() -> None:
    records = _course_records()
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    assert shuffled != records
    in_order = timeline(records)
    out_of_order = timeline(shuffled)
    assert column(out_of_order, "patient_id") == [r["patient_id"] for r in shuffled]
    assert column(out_of_order, "day") == [r["day"] for r in shuffled]
    assert out_of_order.sort("patient_id", "day").equals(in_order.sort("patient_id", "day"))
    assert column(in_order, "crs_grade") == [1, 2, 3, 0, 0, 0, 1, 1, 2]


def test_integer_patient_ids_and_days_before_infusion() -> None:
    result = timeline(
        [
            day(7, 2, AFEBRILE, ON_NOREPINEPHRINE),
            day(7, -3, FEVER, TOCILIZUMAB),
            day(12, -3, AFEBRILE, ON_NOREPINEPHRINE),
        ]
    )
    assert result.schema["patient_id"] == pl.Int64
    assert column(result, "crs_grade") == [3, 1, 0]


def test_duplicate_patient_day_is_refused_naming_both() -> None:
    records = [day("P1", 1), day("P2", 2), day("P1", 2), day("P2", 2, FEVER)]
    with pytest.raises(ValueError, match=r"duplicate patient-day: patient_id='P2', day=2"):
        timeline(records)


def test_missing_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="'day' column"):
        grade_timeline(frame_from_records([{"patient_id": "P1", **QUIET}]))
    with pytest.raises(ValueError, match="day is missing on row 2"):
        timeline([day("P1", 0), day("P1", None)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole number"):
        timeline([day("P1", 0.5)])  # type: ignore[arg-type]


def test_output_columns_and_types() -> None:
    result = timeline(_course_records())
    assert tuple(result.columns) == TIMELINE_COLUMNS
    assert result.height == len(_course_records())
    schema = result.schema
    for name in (FLAG, "fever_waiver"):
        assert schema[name] == pl.Boolean
    for name in ("crs_grade", "icans_grade", "crs_recorded_grade", "icans_recorded_grade"):
        assert schema[name] == pl.Int64
    for name in ("crs_reasons", "crs_missing", "icans_reasons", "icans_missing"):
        assert schema[name] == pl.List(pl.String)


def test_icans_columns_are_the_batch_icans_rule() -> None:
    records = [
        day("P1", 0),
        day("P1", 1, ice_score=8),
        day("P1", 2, ice_score=None, ice_not_performable_reason="other_cause"),
        day("P2", 0, ice_score=None, age_years=6.0, capd_score=12),
    ]
    frame = frame_from_records(records)
    expected = icans_rules.grade_frame(frame)
    result = grade_timeline(frame)
    for name in expected.columns:
        assert result[f"icans_{name}"].to_list() == expected[name].to_list()
    assert column(result, "icans_grade") == [0, 1, None, 3]


def test_empty_table() -> None:
    empty = pl.DataFrame(schema={"patient_id": pl.String, "day": pl.Int64})
    result = grade_timeline(empty)
    assert tuple(result.columns) == TIMELINE_COLUMNS
    assert result.height == 0
    assert summarise_episodes(result).height == 0


# --- agreement with recorded grades ---------------------------------------------------------


def test_agreement_with_recorded_grades() -> None:
    result = timeline(
        [
            day("P1", 0, recorded_crs_grade=0, recorded_icans_grade=0),
            day("P1", 1, FEVER, recorded_crs_grade=2, recorded_icans_grade=0),
            day("P1", 2, FEVER, recorded_crs_grade=None, ice_score=5, recorded_icans_grade=1),
            day("P1", 3, FEVER, hypotension=None, vasopressors=None, recorded_crs_grade=1),
            day("P1", 4, seizure=None, recorded_icans_grade=0),
        ]
    )
    assert column(result, "crs_recorded_grade") == [0, 2, None, 1, None]
    assert column(result, "crs_agreement") == [
        "agree",
        "disagree",
        "not_recorded",
        "not_determinable",
        "not_recorded",
    ]
    assert column(result, "icans_agreement") == [
        "agree",
        "agree",
        "disagree",
        "not_recorded",
        "not_determinable",
    ]
    assert set(column(result, "crs_agreement")) <= set(AGREEMENT_VALUES)


def test_no_recorded_grades_means_not_recorded() -> None:
    result = timeline([day("P1", 0), day("P1", 1, FEVER)])
    assert column(result, "crs_recorded_grade") == [None, None]
    assert column(result, "crs_agreement") == ["not_recorded", "not_recorded"]
    assert column(result, "icans_agreement") == ["not_recorded", "not_recorded"]


def test_recorded_grade_outside_0_to_5_is_refused() -> None:
    with pytest.raises(ValueError, match=r"recorded_crs_grade .*patient_id='P1', day=1 has 7"):
        timeline([day("P1", 0, recorded_crs_grade=1), day("P1", 1, recorded_crs_grade=7)])


# --- episodes ---------------------------------------------------------------------------------


def course_frame(
    crs: Mapping[object, str], icans: Mapping[object, str] | None = None
) -> pl.DataFrame:
    """A hand-made timeline: per patient, one token per day from day 0.

    ``2`` = grade 2; ``?`` = not determined; ``-`` = no row for that day; a trailing ``!``
    marks a day whose recorded grade disagrees.
    """
    rows: dict[tuple[object, int], dict[str, Any]] = {}
    for prefix, courses in (("crs", crs), ("icans", icans or {})):
        for patient, spec in courses.items():
            for number, token in enumerate(spec.split()):
                if token == "-":
                    continue
                row = rows.setdefault(
                    (patient, number),
                    {
                        "patient_id": patient,
                        "day": number,
                        **{f"{p}_{k}": None for p in ("crs", "icans") for k in ("status", "grade")},
                        "crs_agreement": "not_recorded",
                        "icans_agreement": "not_recorded",
                    },
                )
                grade = token.rstrip("!")
                row[f"{prefix}_status"] = "cannot_grade" if grade == "?" else "ok"
                row[f"{prefix}_grade"] = None if grade == "?" else int(grade)
                if token.endswith("!"):
                    row[f"{prefix}_agreement"] = "disagree"
    return pl.DataFrame(list(rows.values()))


def episodes_of(frame: pl.DataFrame, syndrome: str = "CRS") -> list[dict[str, Any]]:
    summary = summarise_episodes(frame)
    return [
        {key: value for key, value in row.items() if key not in ("patient_id", "syndrome")}
        for row in summary.filter(pl.col("syndrome") == syndrome).to_dicts()
    ]


def episode(
    number: int | None,
    onset: int | None,
    max_grade: int | None,
    max_day: int | None,
    duration: int | None,
    resolution: int | None,
    not_determinable: int = 0,
    disagreements: int = 0,
) -> dict[str, Any]:
    return dict(
        zip(
            EPISODE_COLUMNS[2:],
            (
                number,
                onset,
                max_grade,
                max_day,
                duration,
                resolution,
                not_determinable,
                disagreements,
            ),
            strict=True,
        )
    )


def test_two_episodes_split_by_a_grade_0_day() -> None:
    frame = course_frame({"P": "0 1 2 ? 3 0 0 1 0"})
    assert episodes_of(frame) == [episode(1, 1, 3, 4, 4, 5, 1), episode(2, 7, 1, 7, 1, 8)]


def test_unresolved_episode_and_trailing_unknown_days() -> None:
    frame = course_frame({"P": "0 1 2 ? ?"})
    assert episodes_of(frame) == [episode(1, 1, 2, 2, 2, None, 0)]


def test_days_without_a_row_do_not_split_an_episode() -> None:
    frame = course_frame({"P": "0 1 1 - - 2 0"})
    assert episodes_of(frame) == [episode(1, 1, 2, 5, 5, 6, 2)]


def test_max_grade_day_is_the_first_day_at_the_maximum() -> None:
    frame = course_frame({"P": "2 3 1 3 0"})
    assert episodes_of(frame) == [episode(1, 0, 3, 1, 4, 4)]


def test_onset_is_the_first_day_certainly_positive() -> None:
    frame = course_frame({"P": "0 ? 1 ? 0"})
    assert episodes_of(frame) == [episode(1, 2, 1, 2, 1, 4)]


def test_disagreement_days_inside_episodes() -> None:
    frame = course_frame({"P": "0! 1! 2 ? 0! 1!"})
    assert episodes_of(frame) == [
        episode(1, 1, 2, 2, 2, 4, 0, 1),
        episode(2, 5, 1, 5, 1, None, 0, 1),
    ]


def test_patient_without_an_episode_gets_one_row_with_whole_course_counts() -> None:
    frame = course_frame({"Q": "0 ? 0! 0", "R": "? ?"})
    assert episodes_of(frame) == [
        episode(None, None, None, None, None, None, 1, 1),
        episode(None, None, None, None, None, None, 2, 0),
    ]


def test_summary_rows_are_sorted_and_cover_both_syndromes() -> None:
    frame = course_frame(
        {"B": "0 1 0 2 0", "A": "0 0 0 0 0"}, icans={"B": "0 0 0 0 0", "A": "0 0 3 4 ?"}
    ).sample(fraction=1.0, shuffle=True, seed=3)
    summary = summarise_episodes(frame)
    assert tuple(summary.columns) == EPISODE_COLUMNS
    assert summary.select("patient_id", "syndrome", "episode").rows() == [
        ("A", "CRS", None),
        ("A", "ICANS", 1),
        ("B", "CRS", 1),
        ("B", "CRS", 2),
        ("B", "ICANS", None),
    ]
    assert episodes_of(frame, "ICANS")[0] == episode(1, 2, 4, 3, 2, None)


def test_summary_needs_a_timeline() -> None:
    with pytest.raises(ValueError, match="crs_status"):
        summarise_episodes(pl.DataFrame({"patient_id": ["P"], "day": [0]}))


# --- the two-pass derivation equals a day-by-day loop ------------------------------------------


def k_or(left: bool | None, right: bool | None) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def k_and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def crs_certainly_present(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool | None:
    """Grade >= 1 for certain: an ok grade >= 1, or an undetermined grade with a certain fever.

    Written from the rule (fever = temperature >= 38.0 degC not explained by another cause;
    the test temperatures need no rounding), not from the implementation's trick.
    """
    if row["status"] == "ok":
        return bool(row["grade"] >= 1)
    temperature = record.get("temperature_c")
    certain_fever = (
        temperature is not None
        and temperature >= 38.0
        and record.get("fever_attributable_to_other_cause") is False
    )
    return True if row["status"] == "cannot_grade" and certain_fever else None


def reference_timeline(
    records: Sequence[Mapping[str, Any]],
) -> dict[tuple[Any, int], dict[str, Any]]:
    """Day by day, patient by patient, with the single-record grader and Kleene logic."""
    flag_column = any(FLAG in record for record in records)
    by_patient: dict[Any, list[Mapping[str, Any]]] = {}
    for record in records:
        by_patient.setdefault(record["patient_id"], []).append(record)
    out: dict[tuple[Any, int], dict[str, Any]] = {}
    for patient, days in by_patient.items():
        flag: bool | None = False
        crs_before: bool | None = False
        treated_after_crs: bool | None = False
        for record in sorted(days, key=lambda r: r["day"]):
            flag = k_or(flag, record.get(FLAG) if flag_column else False)
            previously = k_or(flag, crs_before)
            therapy = record.get(THERAPY)
            treated = k_or(treated_after_crs, therapy)
            graded = {**record, FLAG: previously, THERAPY: treated}
            row = grade_crs(observation_from_mapping(CRSObservation, graded)).as_row()
            present = crs_certainly_present(record, row)
            treated_after_crs = k_or(treated_after_crs, k_and(therapy, k_or(previously, present)))
            crs_before = k_or(crs_before, present)
            out[(patient, record["day"])] = {
                FLAG: previously,
                "fever_waiver": k_and(previously, treated),
                **{f"crs_{key}": value for key, value in row.items()},
            }
    return out


def maybe(values: Sequence[Any], unknown: int = 1) -> st.SearchStrategy[Any]:
    return st.sampled_from([*values, *([None] * unknown)])


PRESSURE = [
    ("none", []),
    ("none", []),
    ("present", []),
    ("present", ["norepinephrine"]),
    ("present", ["norepinephrine", "epinephrine"]),
    ("present", None),
    (None, None),
    ("none", ["vasopressin"]),  # contradictory: invalid_input
]
OXYGEN = [
    ("none", None),
    ("none", None),
    ("nasal_cannula", 2.0),
    ("nasal_cannula", 8.0),
    ("nasal_cannula", None),
    ("cpap", None),
    (None, None),
]


@st.composite
def crs_day(draw: st.DrawFn, patient: object, number: int, with_flag: bool) -> dict[str, Any]:
    hypotension, vasopressors = draw(st.sampled_from(PRESSURE))
    device, flow = draw(st.sampled_from(OXYGEN))
    record: dict[str, Any] = {
        "patient_id": patient,
        "day": number,
        "temperature_c": draw(maybe([36.8, 37.9, 38.0, 39.2, 39.2])),
        "fever_attributable_to_other_cause": draw(maybe([False, False, False, True])),
        THERAPY: draw(maybe([False, False, True])),
        "hypotension": hypotension,
        "vasopressors": vasopressors,
        "hypotension_attributable_to_other_cause": draw(maybe([False, False, False, True])),
        "oxygen_device": device,
        "oxygen_flow_l_min": flow,
        "hypoxia_attributable_to_other_cause": draw(maybe([False, False, False, True])),
        "died_due_to_crs": draw(st.sampled_from([False] * 12 + [None, True])),
    }
    if with_flag and draw(st.integers(0, 3)) > 0:
        record[FLAG] = draw(st.sampled_from([False, False, False, True, None]))
    return record


@st.composite
def patient_tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    with_flag = draw(st.booleans())
    choices: list[list[object]] = [["A"], ["A", "B"], ["A", "B", "C"], [3, 1]]
    patients = draw(st.sampled_from(choices))
    records: list[dict[str, Any]] = []
    for patient in patients:
        numbers = draw(st.sets(st.integers(-2, 12), min_size=1, max_size=8))
        records += [draw(crs_day(patient, number, with_flag)) for number in sorted(numbers)]
    return draw(st.permutations(records))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patient_tables())
def test_two_passes_equal_the_day_by_day_loop(records: list[dict[str, Any]]) -> None:
    expected = reference_timeline(records)
    result = timeline(records)
    names = [FLAG, "fever_waiver", "crs_status", "crs_grade", "crs_reasons", "crs_missing"]
    for value in result["fever_waiver"].unique().to_list():
        event(f"fever_waiver={value}")
    for value in result["crs_status"].unique().to_list():
        event(f"crs_status={value}")
    for row in result.to_dicts():
        want = expected[(row["patient_id"], row["day"])]
        for name in names:
            assert row[name] == (
                list(want[name]) if isinstance(want[name], tuple) else want[name]
            ), f"{row['patient_id']} day {row['day']}: {name}={row[name]!r}, loop {want[name]!r}"


# --- the bundled demo -------------------------------------------------------------------------

# Designed courses, days 0-14 (None = cannot_grade). See docs/timeline.md.
DEMO_CRS: dict[str, Sequence[int | None]] = {
    "DEMO-001": [0] * 15,
    "DEMO-002": [0, 1, 1, 2, 3, 3, 2] + [0] * 8,
    "DEMO-003": [0, 1, 1] + [0] * 12,
    "DEMO-004": [0, 1, 2] + [0] * 12,
    "DEMO-005": [0, 0, 1, None, 1] + [0] * 10,
    "DEMO-006": [0, 0, 0, 3, 2] + [0] * 10,
}
DEMO_ICANS: dict[str, Sequence[int | None]] = {
    "DEMO-001": [0] * 15,
    "DEMO-002": [0] * 15,
    "DEMO-003": [0, 0, 0, 0, 1, 2, 3, 2, 1, 1] + [0] * 5,
    "DEMO-004": [0, 0, 0, 0, 1, 3, 1] + [0] * 8,
    "DEMO-005": [0, 0, 0, None] + [0] * 11,
    "DEMO-006": [0] * 15,
}


@pytest.fixture(scope="module")
def demo() -> pl.DataFrame:
    return grade_timeline(demo_patient_days())


def test_demo_file_is_synthetic_and_complete() -> None:
    text = resources.files("carta.data").joinpath("demo_patient_days.jsonl").read_text("utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    assert all(record["synthetic"] is True for record in records)
    assert all(record["patient_id"].startswith("DEMO-") for record in records)
    patients = {record["patient_id"] for record in records}
    assert 5 <= len(patients) <= 8
    for patient in patients:
        assert sorted(r["day"] for r in records if r["patient_id"] == patient) == list(range(15))


def _by_day(demo: pl.DataFrame, patient: str, name: str) -> list[Any]:
    return demo.filter(pl.col("patient_id") == patient).sort("day")[name].to_list()


@pytest.mark.parametrize("patient", sorted(DEMO_CRS))
def test_demo_grades_follow_the_designed_courses(demo: pl.DataFrame, patient: str) -> None:
    assert _by_day(demo, patient, "crs_grade") == DEMO_CRS[patient]
    assert _by_day(demo, patient, "icans_grade") == DEMO_ICANS[patient]
    for syndrome, course in (("crs", DEMO_CRS[patient]), ("icans", DEMO_ICANS[patient])):
        statuses = _by_day(demo, patient, f"{syndrome}_status")
        assert statuses == ["ok" if grade is not None else "cannot_grade" for grade in course]


def test_demo_waiver_story(demo: pl.DataFrame) -> None:
    # DEMO-002: tocilizumab on day 3 after CRS; day 4 afebrile on norepinephrine -> grade 3.
    assert _by_day(demo, "DEMO-002", "fever_waiver")[3:6] == [True, True, True]
    assert _by_day(demo, "DEMO-002", "crs_reasons")[4][0] == "crs.fever_waiver"
    # DEMO-006: prophylactic tocilizumab on day 0 does not waive; day 2 afebrile hypotension = 0.
    assert _by_day(demo, "DEMO-006", "fever_waiver")[:4] == [False] * 4
    assert _by_day(demo, "DEMO-006", "crs_reasons")[2] == ["crs.no_fever"]
    # DEMO-004: the child is assessed with the CAPD.
    assert _by_day(demo, "DEMO-004", "icans_capd_score")[4:7] == [4, 12, 6]
    assert _by_day(demo, "DEMO-003", "icans_ice_score")[4:10] == [8, 5, 3, 4, 7, 9]


def test_demo_agreement(demo: pl.DataFrame) -> None:
    disagreements = demo.filter(
        (pl.col("crs_agreement") == "disagree") | (pl.col("icans_agreement") == "disagree")
    )
    assert disagreements.select("patient_id", "day", "crs_recorded_grade", "crs_grade").rows() == [
        ("DEMO-006", 3, 2, 3)
    ]
    assert set(_by_day(demo, "DEMO-004", "crs_agreement")) == {"not_recorded"}


def test_demo_episodes(demo: pl.DataFrame) -> None:
    summary = summarise_episodes(demo)
    none = (None, None, None, None, None, None)
    assert summary.rows() == [
        ("DEMO-001", "CRS", *none, 0, 0),
        ("DEMO-001", "ICANS", *none, 0, 0),
        ("DEMO-002", "CRS", 1, 1, 3, 4, 6, 7, 0, 0),
        ("DEMO-002", "ICANS", *none, 0, 0),
        ("DEMO-003", "CRS", 1, 1, 1, 1, 2, 3, 0, 0),
        ("DEMO-003", "ICANS", 1, 4, 3, 6, 6, 10, 0, 0),
        ("DEMO-004", "CRS", 1, 1, 2, 2, 2, 3, 0, 0),
        ("DEMO-004", "ICANS", 1, 4, 3, 5, 3, 7, 0, 0),
        ("DEMO-005", "CRS", 1, 2, 1, 2, 3, 5, 1, 0),
        ("DEMO-005", "ICANS", *none, 1, 0),
        ("DEMO-006", "CRS", 1, 3, 3, 3, 2, 5, 0, 1),
        ("DEMO-006", "ICANS", *none, 0, 0),
    ]


# --- the fast paths (ADR 0319) give what the general ones give ----------------------------------


def reference_spans(days: Sequence[Mapping[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """One syndrome's episodes of one patient's days (in day order), as a plain loop."""
    found: list[dict[str, Any]] = []
    last_positive: bool | None = None  # the last determined day's state
    for row in days:
        grade = row[f"{prefix}_grade"]
        if row[f"{prefix}_status"] != "ok":
            continue  # undetermined days neither start, continue nor end an episode
        if grade >= 1:
            if last_positive is not True:
                found.append({"onset": row["day"], "max": grade, "max_day": row["day"]})
                found[-1].update(positive=0, disagree=0, resolution=None)
            current = found[-1]
            if grade > current["max"]:
                current["max"], current["max_day"] = grade, row["day"]
            current["last"] = row["day"]
            current["positive"] += 1
            current["disagree"] += row.get(f"{prefix}_agreement") == "disagree"
        elif last_positive is True:
            found[-1]["resolution"] = row["day"]
        last_positive = grade >= 1
    return found


def reference_episodes(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    """ADR 0185 written as a plain loop over each patient's days, for comparison."""
    out: list[tuple[Any, ...]] = []
    by_patient: dict[Any, list[dict[str, Any]]] = {}
    for row in frame.to_dicts():
        by_patient.setdefault(row["patient_id"], []).append(row)
    for patient in sorted(by_patient):
        days = sorted(by_patient[patient], key=lambda r: r["day"])
        for syndrome, prefix in (("CRS", "crs"), ("ICANS", "icans")):
            found = reference_spans(days, prefix)
            for number, item in enumerate(found, start=1):
                duration = item["last"] - item["onset"] + 1
                fields = (item["onset"], item["max"], item["max_day"], duration)
                counts = (duration - item["positive"], item["disagree"])
                out.append((patient, syndrome, number, *fields, item["resolution"], *counts))
            if not found:
                unknown = sum(row[f"{prefix}_status"] != "ok" for row in days)
                disagreeing = sum(row.get(f"{prefix}_agreement") == "disagree" for row in days)
                out.append((patient, syndrome, *([None] * 6), unknown, disagreeing))
    return out


def random_course_frame(seed: int) -> pl.DataFrame:
    """Random hand-made timelines: several patients, gaps, unknown days, disagreements."""
    rng = random.Random(seed)
    tokens = ["0", "0", "0", "1", "2", "3", "4", "?", "-", "0!", "2!"]
    patients: list[object] = list(rng.sample(range(100), rng.randint(1, 12)))
    crs: dict[object, str] = {
        p: " ".join(rng.choice(tokens) for _ in range(rng.randint(1, 15))) for p in patients
    }
    icans: dict[object, str] = {
        p: " ".join(rng.choice(tokens) for _ in range(len(crs[p].split()))) for p in patients
    }
    frame = course_frame(crs, icans)
    if frame.height == 0:  # every day without a row
        return frame
    # course_frame leaves a syndrome's status null on days only the other one has.
    return frame.with_columns(
        pl.col("crs_status", "icans_status").fill_null("cannot_grade")
    ).sample(fraction=1.0, shuffle=rng.random() < 0.5, seed=seed)


@pytest.mark.parametrize("seed", range(40))
def test_episodes_equal_a_plain_loop(seed: int) -> None:
    frame = random_course_frame(seed)
    if frame.height == 0:
        return
    assert summarise_episodes(frame).rows() == reference_episodes(frame)


def test_sorted_text_and_integer_ids_take_the_same_course_as_shuffled_rows() -> None:
    records = _course_records()
    for ids in (str, ord):
        sorted_records = sorted(
            ({**record, "patient_id": ids(record["patient_id"])} for record in records),
            key=lambda record: (record["patient_id"], record["day"]),
        )
        shuffled = list(sorted_records)
        random.Random(3).shuffle(shuffled)
        in_order, out_of_order = timeline(sorted_records), timeline(shuffled)
        assert out_of_order.sort("patient_id", "day").equals(in_order)
        assert summarise_episodes(out_of_order).equals(summarise_episodes(in_order))


def test_duplicate_day_in_sorted_rows_is_still_refused() -> None:
    records = [day("A", 0), day("A", 1), day("A", 1), day("B", 0)]
    with pytest.raises(ValueError, match="patient_id='A', day=1 appears more than once"):
        timeline(records)


def test_a_table_in_several_chunks_grades_as_one() -> None:
    frame = frame_from_records(_course_records())
    pieces = pl.concat([frame.slice(0, 2), frame.slice(2, 3), frame.slice(5)], rechunk=False)
    assert pieces.n_chunks() > 1
    assert grade_timeline(pieces).equals(grade_timeline(frame))


def test_without_reasons_the_same_timeline_without_the_list_columns() -> None:
    frame = demo_patient_days()
    full = grade_timeline(frame)
    lean = grade_timeline(frame, reasons=False)
    lists = ["crs_reasons", "crs_missing", "icans_reasons", "icans_missing"]
    assert lean.columns == [name for name in TIMELINE_COLUMNS if name not in lists]
    assert lean.equals(full.drop(lists))
    assert summarise_episodes(lean).equals(summarise_episodes(full))


def test_input_columns_are_all_the_timeline_reads() -> None:
    frame = demo_patient_days().with_columns(pl.lit("ignored").alias("free_text_note"))
    read = frame.select(name for name in INPUT_COLUMNS if name in frame.columns)
    assert grade_timeline(read).equals(grade_timeline(frame))
