"""Writing results: format choice, CSV list cells, atomic replacement, stdout."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest

from carta.io import writers
from carta.io.writers import (
    OutputError,
    check_output,
    output_format,
    write_atomically,
    write_frame,
)

RESULT = pl.DataFrame(
    {
        "patient_id": ["A", "B"],
        "status": ["ok", "cannot_grade"],
        "grade": [2, None],
        "reasons": [["crs.fever", "crs.hypotension.fluids"], []],
        "missing": [[], ["temperature_c"]],
    }
)


def test_output_format_from_option_then_extension_then_csv() -> None:
    assert output_format(Path("out.csv"), "jsonl") == "jsonl"
    assert output_format(Path("out.parquet"), None) == "parquet"
    assert output_format(Path("out.JSONL"), None) == "jsonl"
    assert output_format(None, None) == "csv"
    with pytest.raises(OutputError, match="--format"):
        output_format(Path("out.xlsx"), None)


def test_unwritable_outputs_are_refused_before_any_work(tmp_path: Path) -> None:
    check_output(tmp_path / "out.csv", "csv")
    check_output(None, "jsonl")
    with pytest.raises(OutputError, match="does not exist"):
        check_output(tmp_path / "no" / "out.csv", "csv")
    with pytest.raises(OutputError, match="directory"):
        check_output(tmp_path, "csv")
    with pytest.raises(OutputError, match="-o FILE"):
        check_output(None, "parquet")


def test_csv_joins_list_cells_with_semicolons(tmp_path: Path) -> None:
    write_frame(RESULT, tmp_path / "out.csv", "csv")
    assert (tmp_path / "out.csv").read_text().splitlines() == [
        "patient_id,status,grade,reasons,missing",
        "A,ok,2,crs.fever;crs.hypotension.fluids,",
        "B,cannot_grade,,,temperature_c",
    ]


def test_jsonl_and_parquet_keep_lists(tmp_path: Path) -> None:
    write_frame(RESULT, tmp_path / "out.jsonl", "jsonl")
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert first["reasons"] == ["crs.fever", "crs.hypotension.fluids"]
    write_frame(RESULT, tmp_path / "out.parquet", "parquet")
    assert pl.read_parquet(tmp_path / "out.parquet").equals(RESULT)


def test_stdout_gets_csv_or_jsonl_text() -> None:
    out = io.StringIO()
    write_frame(RESULT, None, "csv", out)
    assert out.getvalue().startswith("patient_id,status,grade,reasons,missing\n")
    out = io.StringIO()
    write_frame(RESULT, None, "jsonl", out)
    assert len(out.getvalue().splitlines()) == 2


def test_atomic_write_replaces_the_file_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)

    def fail(temporary: Path) -> None:
        temporary.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, fail)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary left

    write_frame(RESULT, target, "csv")
    assert target.read_text().startswith("patient_id,")
    assert target.stat().st_mode & 0o777 == 0o640  # the existing file's permissions kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_new_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    write_frame(RESULT, tmp_path / "new.csv", "csv")
    mode = (tmp_path / "new.csv").stat().st_mode & 0o777
    assert mode & 0o044  # readable by others as with open(), not the 0600 of a temporary file


def test_parquet_codes_few_words_as_enums_and_keeps_every_value(tmp_path: Path) -> None:
    rows = 3 * 40  # more distinct patient ids than a coded column may have in its sample
    frame = pl.DataFrame(
        {
            "patient_id": [f"P{i:04d}" for i in range(rows)],
            "status": ["ok", "cannot_grade", None] * 40,
            "reasons": [["crs.fever", "crs.hypoxia.low_flow"], [], None] * 40,
        }
    )
    assert rows > writers.SAMPLE_MAX_WORDS
    coded = writers.dictionary_coded(frame)
    assert coded.schema["patient_id"] == pl.String
    assert coded.schema["status"] == pl.Enum(["cannot_grade", "ok"])
    assert coded.schema["reasons"] == pl.List(pl.Enum(["crs.fever", "crs.hypoxia.low_flow"]))
    write_frame(frame, tmp_path / "out.parquet", "parquet")
    assert pl.read_parquet(tmp_path / "out.parquet").to_dicts() == frame.to_dicts()
