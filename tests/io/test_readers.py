"""Reading CSV, JSON Lines and Parquet: values as written, unreadable files refused clearly."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from carta.io.problems import BadInputError
from carta.io.readers import format_from_path, read_table


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(BadInputError) as caught:
        read_table(path)
    return [str(problem) for problem in caught.value.problems]


# --- CSV -----------------------------------------------------------------------------------


def test_csv_cells_are_read_as_text_and_empty_cells_are_null(tmp_path: Path) -> None:
    path = write(tmp_path / "days.csv", "patient_id,temperature_c,hypotension\n007,38.5,\n")
    table = read_table(path)
    assert table.format == "csv"
    assert table.frame.schema == {
        "patient_id": pl.String,
        "temperature_c": pl.String,
        "hypotension": pl.String,
    }
    assert table.frame.row(0) == ("007", "38.5", None)
    assert table.line_of(0) == 2  # the header is line 1


def test_csv_with_a_utf8_byte_order_mark_reads_its_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfpatient_id,temperature_c\nA,38\n")
    assert read_table(path).frame.columns == ["patient_id", "temperature_c"]


def test_latin1_csv_is_refused_as_not_utf8_with_the_line_and_a_remedy(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.csv", "patient_id,note\nA,ok\nB,café\n", encoding="latin-1")
    (message,) = problems_of(path)
    assert message.startswith("line 3: the file is not UTF-8")
    assert "iconv" in message and "UTF-8" in message


def test_gbk_csv_is_named_as_probably_gbk(tmp_path: Path) -> None:
    path = write(tmp_path / "gbk.csv", "patient_id,note\nA,发热\n", encoding="gbk")
    (message,) = problems_of(path)
    assert "line 2" in message and "not UTF-8" in message
    assert "GBK" in message  # the remedy names the encoding to convert from


def test_non_utf8_header_is_refused_too(tmp_path: Path) -> None:
    path = write(tmp_path / "head.csv", "température\n38\n", encoding="latin-1")
    (message,) = problems_of(path)
    assert message.startswith("line 1: the file is not UTF-8")


def test_ragged_csv_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "ragged.csv", "a,b\n1,2\n3,4,5\n")
    (message,) = problems_of(path)
    assert message.startswith("line 3:") and "3 cells" in message and "2 columns" in message


def test_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", "temperature_c,temperature_c\n38,39\n")
    (message,) = problems_of(path)
    assert "temperature_c" in message and "twice" in message


def test_semicolon_separated_csv_is_refused_with_the_remedy(tmp_path: Path) -> None:
    path = write(tmp_path / "excel.csv", "patient_id;temperature_c\nA;38,5\n")
    (message,) = problems_of(path)
    assert "separated by ';'" in message and "comma" in message


def test_windows_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path / "crlf.csv", "patient_id,temperature_c\r\nA,38.5\r\n")
    assert read_table(path).frame.rows() == [("A", "38.5")]


def test_empty_csv_is_refused(tmp_path: Path) -> None:
    (message,) = problems_of(write(tmp_path / "empty.csv", ""))
    assert "empty" in message


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    assert "no such file" in problems_of(tmp_path / "nope.csv")[0]
    assert "directory" in problems_of(tmp_path)[0]


# --- JSON Lines ----------------------------------------------------------------------------


def test_jsonl_flattens_nested_groups_and_keeps_vasopressors_as_a_list(tmp_path: Path) -> None:
    path = write(
        tmp_path / "days.jsonl",
        '{"temperature_c": 38.5, "ice_items": {"orientation_year": 1},'
        ' "vasopressors": ["norepinephrine"], "anc_measurements": [{"day": 31, "anc": 400}]}\n',
    )
    row = read_table(path).frame.row(0, named=True)
    assert row == {
        "temperature_c": 38.5,
        "ice_items.orientation_year": 1,
        "anc_measurements.day": [31],
        "anc_measurements.anc": [400],
        "vasopressors": ["norepinephrine"],
    }


def test_jsonl_blank_lines_are_skipped_and_rows_keep_their_file_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "days.jsonl", '{"a": 1}\n\n\n{"a": 2}\n')
    table = read_table(path)
    assert table.frame["a"].to_list() == [1, 2]
    assert [table.line_of(0), table.line_of(1)] == [1, 4]


def test_malformed_json_lines_are_each_named(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", '{"a": 1}\n{"a": 2,}\n[1, 2]\n{"a": \n')
    messages = problems_of(path)
    assert len(messages) == 3
    assert messages[0].startswith("line 2: malformed JSON")
    assert messages[1].startswith("line 3: expected one JSON object per line")
    assert messages[2].startswith("line 4: malformed JSON")


def test_jsonl_column_of_mixed_json_types_keeps_every_value_as_text(tmp_path: Path) -> None:
    # Polars alone would turn `true` into 1.0 among numbers; the validator must see `true`.
    path = write(tmp_path / "mixed.jsonl", '{"t": 38.5}\n{"t": true}\n{"t": {"x": 1}}\n')
    assert read_table(path).frame["t"].to_list() == ["38.5", "true", '{"x": 1}']


def test_jsonl_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.jsonl", '{"note": "café"}\n', encoding="latin-1")
    assert "not UTF-8" in problems_of(path)[0]


# --- Parquet -------------------------------------------------------------------------------


def test_parquet_keeps_types_and_flattens_structs(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "temperature_c": [38.5],
            "ice_items": [{"orientation_year": 1, "orientation_month": 0}],
            "anc_measurements": [[{"day": 31, "anc": 400.0}, {"day": 35, "anc": 300.0}]],
        }
    )
    frame.write_parquet(tmp_path / "days.parquet")
    table = read_table(tmp_path / "days.parquet")
    assert table.line_of(0) is None
    assert table.frame.row(0, named=True) == {
        "temperature_c": 38.5,
        "ice_items.orientation_year": 1,
        "ice_items.orientation_month": 0,
        "anc_measurements.day": [31, 35],
        "anc_measurements.anc": [400.0, 300.0],
    }


def test_a_file_named_parquet_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "fake.parquet", "a,b\n1,2\n")
    (message,) = problems_of(path)
    assert message.startswith("not a Parquet file")


# --- formats -------------------------------------------------------------------------------


def test_format_from_extension_and_from_content(tmp_path: Path) -> None:
    assert format_from_path(Path("x.CSV")) == "csv"
    assert format_from_path(Path("x.ndjson")) == "jsonl"
    assert format_from_path(Path("x.pq")) == "parquet"
    assert format_from_path(Path("x.txt")) is None
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "data.bin")
    assert read_table(tmp_path / "data.bin").format == "parquet"
    assert read_table(write(tmp_path / "data.txt", '{"a": 1}\n')).format == "jsonl"
    assert read_table(write(tmp_path / "data.dat", "a\n1\n")).format == "csv"
