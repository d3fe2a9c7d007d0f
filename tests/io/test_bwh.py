"""The BWH cohort importer: units, spellings, half grades, courses, CRS fields, refusals by row."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from carta.analytics.forecast import columns as c
from carta.io.bwh import bwh_to_canonical, read_bwh, subtype_of, temperature_unit
from carta.io.problems import BadInputError
from carta.io.readers import read_table
from tests.analytics.forecast.helpers import BWH_HEADER, bwh_text, synthetic_frame

BLANK_CRS = ",,,,"


def row(
    sid: str = "1",
    day: int = 0,
    temp: str = "37.0",
    crp: str = "10.0",
    grade: str = "0.0",
    subtype: str = "DLBCL",
    diagnosis: str = "Lymphoma",
    crs: str = BLANK_CRS,
    ferritin: str = "500",
    age: str = "60",
    sex: str = "M",
) -> str:
    return (
        f"{sid},{age},{sex},{diagnosis},{subtype},1.0,{day},{temp},{crp},{ferritin},{grade},"
        f"0.2,12.0,4.5,{crs}"
    )


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "bwh.csv"
    path.write_text("\n".join([BWH_HEADER, *rows]) + "\n")
    return path


def frame_of(tmp_path: Path, *rows: str, **options: str) -> pl.DataFrame:
    return read_bwh(write(tmp_path, *rows), **options).frame  # type: ignore[arg-type]


def problems_of(tmp_path: Path, *rows: str) -> list[str]:
    with pytest.raises(BadInputError) as caught:
        read_bwh(write(tmp_path, *rows))
    return [str(problem) for problem in caught.value.problems]


def test_celsius_and_fahrenheit_rows_become_degc_rounded_to_a_tenth(tmp_path: Path) -> None:
    frame = frame_of(
        tmp_path, row(day=0, temp="38.45"), row(day=1, temp="101.3"), row(day=2, temp="")
    )
    assert frame[c.TEMPERATURE_C].to_list() == [38.5, 38.5, None]
    assert frame["source_temperature_unit"].to_list() == ["C", "F", None]
    assert temperature_unit(60.0) is None


def test_crp_scale_follows_the_course_recording_source(tmp_path: Path) -> None:
    celsius = frame_of(tmp_path, row(sid="1", temp="37.0", crp="111"))
    fahrenheit = frame_of(tmp_path, row(sid="2", temp="98.6", crp="1110"))
    assert celsius[c.CRP_MG_DL].item() == pytest.approx(11.1)  # mg/L -> mg/dL
    assert fahrenheit[c.CRP_MG_DL].item() == pytest.approx(11.1)  # tenths of mg/L -> mg/dL
    assert fahrenheit["source_crp_scale"].item() == "tenth_mg_L"
    forced = frame_of(tmp_path, row(sid="2", temp="98.6", crp="111"), crp_scale="mg_L")
    assert forced[c.CRP_MG_DL].item() == pytest.approx(11.1)


def test_half_step_grades_round_up_by_default_or_down(tmp_path: Path) -> None:
    rows = (row(day=0, grade="0.5"), row(day=1, grade="2.5"), row(day=2, grade="3.0"))
    assert frame_of(tmp_path, *rows)[c.RECORDED_ICANS_GRADE].to_list() == [1, 3, 3]
    down = frame_of(tmp_path, *rows, half_grades="down")
    assert down[c.RECORDED_ICANS_GRADE].to_list() == [0, 2, 3]
    assert down["source_icans_mean_grade"].to_list() == [0.5, 2.5, 3.0]


@pytest.mark.parametrize(
    ("spelling", "disease"),
    [
        ("DLBCL", "lbcl"),
        ("DL BCL", "lbcl"),
        ("PMBCL (primary mediastinal B-cell lymphma)", "lbcl"),
        ("Mantle cell lymphoma", "mcl"),
        ("MCL", "mcl"),
        ("follicular lymphoma", "fl"),
        ("B-ALL", "b_all"),
        ("aggressive BNHL", "other"),
    ],
)
def test_subtype_spellings_map_to_disease_words(spelling: str, disease: str) -> None:
    found = subtype_of(spelling)
    assert found is not None and found[0] == disease


def test_unknown_subtypes_and_contradicting_diagnoses_are_refused(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        row(sid="1", subtype="Hodgkin"),
        row(sid="2", subtype="MM", diagnosis="Lymphoma"),
    )
    assert found[0].startswith("row 1 (line 2): Subtype = 'Hodgkin': expected a subtype: one of")
    assert (
        found[1] == "row 2 (line 3): Diagnosis = 'Lymphoma': expected Myeloma (the subtype is MM)"
    )


def test_impossible_values_are_refused_with_row_column_and_value(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        row(day=0, temp="60.2"),
        row(day=1, grade="2.3"),
        row(day=2, crp="-4"),
        row(day=3, sex="X"),
    )
    assert found == [
        "row 1 (line 2): Temp = 60.2: expected a temperature in degC (30-45) or degF (86-113)",
        "row 2 (line 3): meanscore = 2.3: expected an ICANS grade from 0 to 5 in steps of 0.5",
        "row 3 (line 4): CRP = -4.0: expected a number >= 0",
        "row 4 (line 5): Sex = 'X': expected M or F",
    ]


def test_text_in_a_number_column_is_refused_before_anything_else(tmp_path: Path) -> None:
    found = problems_of(tmp_path, row(day=0, temp="60.2"), row(day=1, crp="high"))
    assert found == ["row 2 (line 3): CRP = 'high': expected a number"]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bwh.csv"
    path.write_text("SID,HospitalDay,Temp\n1,0,37\n")
    with pytest.raises(BadInputError) as caught:
        read_bwh(path)
    assert "the file has no 'Age' column" in str(caught.value.problems[0])


def test_a_restarting_or_non_adjacent_sid_is_a_new_course_of_the_same_person(
    tmp_path: Path,
) -> None:
    imported = read_bwh(
        write(
            tmp_path,
            row(sid="7", day=0),
            row(sid="7", day=1),
            row(sid="7", day=-1, temp="98.2"),  # days start again: course 2
            row(sid="7", day=0, temp="98.6"),
            row(sid="8", day=0),
            row(sid="7", day=0),  # not adjacent: course 3
        )
    )
    frame = imported.frame
    assert frame[c.PATIENT_ID].to_list() == ["7", "7", "7/2", "7/2", "8", "7/3"]
    assert frame[c.PERSON_ID].to_list() == ["7", "7", "7", "7", "8", "7"]
    assert any("starts course 2" in note for note in imported.notes)
    assert any("starts course 3" in note for note in imported.notes)


def test_a_second_raters_row_is_merged_keeping_the_higher_grade(tmp_path: Path) -> None:
    imported = read_bwh(
        write(tmp_path, row(day=6), row(day=7, grade="0.5"), row(day=7, grade="1.0"), row(day=8))
    )
    assert imported.frame[c.DAY].to_list() == [6, 7, 8]
    assert imported.frame[c.RECORDED_ICANS_GRADE].to_list() == [0, 1, 0]
    assert imported.frame["source_row"].to_list() == [1, 2, 4]
    assert any("kept 1.0" in note for note in imported.notes)


def test_a_repeated_day_with_other_values_is_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, row(day=7, crp="10"), row(day=7, crp="20"))
    assert found == [
        "row 2 (line 3): HospitalDay = 7: expected a day after 7 (row 1 has the same SID and "
        "day with different CRP)"
    ]


def test_crs_fields_are_spread_over_the_course(tmp_path: Path) -> None:
    frame = frame_of(
        tmp_path,
        row(sid="1", day=0, crs="2.0,3.0,5.0,1.0,1.0"),
        row(sid="1", day=1),
        row(sid="2", day=0, crs="0.0,,-43.0,0.0,0.0"),
        row(sid="2", day=1),
    )
    assert frame[c.CRS_PEAK_GRADE].to_list() == [2, 2, 0, 0]
    assert frame[c.CRS_ONSET_DAY].to_list() == [3, 3, None, None]
    assert frame[c.CRS_PEAK_DAY].to_list() == [5, 5, None, None]  # a grade-0 peak has no day
    assert frame["source_tocilizumab_doses"].to_list() == [1, 1, 0, 0]


def test_conflicting_crs_rows_in_a_course_are_refused(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path, row(day=0, crs="2.0,3.0,5.0,1.0,1.0"), row(day=1, crs="1.0,3.0,5.0,1.0,1.0")
    )
    assert found[0].startswith("row 2 (line 3): CRS Peak Severity")


def test_a_whole_synthetic_cohort_round_trips_through_the_bwh_layout(tmp_path: Path) -> None:
    original = synthetic_frame().filter(pl.col(c.PATIENT_ID).cast(pl.Int64) <= 12)
    path = tmp_path / "cohort.csv"
    path.write_text(bwh_text(original))
    imported = bwh_to_canonical(read_table(path)).frame
    assert imported.height == original.height
    assert imported[c.PATIENT_ID].to_list() == original[c.PATIENT_ID].to_list()
    assert imported[c.TEMPERATURE_C].to_list() == pytest.approx(
        original[c.TEMPERATURE_C].to_list(), abs=0.051, nan_ok=True
    )
    crp = imported[c.CRP_MG_DL].fill_null(-1).to_list()
    assert crp == pytest.approx(original[c.CRP_MG_DL].fill_null(-1).to_list(), abs=0.006)
    assert imported[c.RECORDED_ICANS_GRADE].equals(original[c.RECORDED_ICANS_GRADE])
    assert imported[c.DISEASE].cast(pl.String).equals(original[c.DISEASE].cast(pl.String))
