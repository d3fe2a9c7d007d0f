"""The registry export reader: canonical units, and bad values refused by row and column."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.canonical import CANONICAL_COLUMNS, registry_frame
from carta.io.problems import BadInputError
from carta.io.readers import read_table


def read(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "export.csv"
    path.write_text(text)
    return registry_frame(read_table(path))


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(BadInputError) as caught:
        read(tmp_path, text)
    return [str(problem) for problem in caught.value.problems]


def test_alternate_units_are_converted(tmp_path: Path) -> None:
    frame = read(
        tmp_path,
        "patient_id,day,temperature_f,crp_mg_L,wbc_10e9_L,ferritin_ug_L,extra_column\n"
        "007,0,101.3,45,2.5,800,anything\n",
    )
    row = frame.row(0, named=True)
    assert row[c.PATIENT_ID] == "007" and row[c.PERSON_ID] == "007"
    assert row[c.TEMPERATURE_C] == pytest.approx(38.5)
    assert row[c.CRP_MG_DL] == pytest.approx(4.5)
    assert row[c.WBC_PER_UL] == pytest.approx(2500.0)
    assert row[c.FERRITIN_NG_ML] == pytest.approx(800.0)
    assert tuple(frame.columns[: len(CANONICAL_COLUMNS)]) == CANONICAL_COLUMNS
    assert "extra_column" not in frame.columns


def test_a_quantity_in_two_units_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, "patient_id,day,crp_mg_dL,crp_mg_L\nA,0,1,10\n")
    assert found == ["the file has both crp_mg_dL and crp_mg_L; give one of them"]


def test_bad_values_are_refused_with_their_rows(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "patient_id,day,temperature_c,recorded_icans_grade,disease\n"
        "A,0,98.6,0,lbcl\n"
        "A,1,38.0,7,lbcl\n"
        ",2,37.0,0,lbcl\n"
        "A,1,37.0,0,lbcl\n",
    )
    assert "row 1 (line 2): temperature_c = 98.6: expected a number from 30 to 45 degC" in found
    assert any(text.startswith("row 2 (line 3): recorded_icans_grade = 7") for text in found)
    assert any(text.startswith("row 3 (line 4): patient_id") for text in found)
    assert any("row 4 (line 5): day" in text and "more than once" in text for text in found)


def test_text_in_a_number_column_and_unknown_words_are_named(tmp_path: Path) -> None:
    found = problems(tmp_path, "patient_id,day,crp_mg_dL,disease\nA,0,high,lymphoma\n")
    assert any("crp_mg_dL = 'high': expected a number" in text for text in found)
    assert any("disease = 'lymphoma': expected one of lbcl" in text for text in found)


def test_identifiers_are_required(tmp_path: Path) -> None:
    assert problems(tmp_path, "id,temperature_c\n1,37\n") == [
        "the file has no patient_id column (required)",
        "the file has no day column (required)",
    ]


def test_parquet_exports_keep_their_types(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    pl.DataFrame(
        {
            "patient_id": [1, 1],
            "day": [0, 1],
            "recorded_icans_grade": [0, 2],
            "tocilizumab_given": [False, True],
        }
    ).write_parquet(path)
    frame = registry_frame(read_table(path))
    assert frame[c.PATIENT_ID].to_list() == ["1", "1"]
    assert frame[c.TOCILIZUMAB_GIVEN].to_list() == [False, True]
