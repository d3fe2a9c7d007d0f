"""``carta grade`` with a stand-in rule: formats, errors, atomic output, warnings.

The stand-in (``tests/io/fake_rule.py``) keeps these tests about the file layer; the tests with
the real rules are in ``test_grade_rules.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from carta.cli import grade as grade_module
from carta.cli.main import EXIT_USAGE, main
from carta.io.problems import MAX_LISTED_PROBLEMS
from tests.io.fake_rule import fake_rule

GOOD_CSV = """\
patient_id,day,temperature_c,hypotension,vasopressors,ice_items.orientation_year,times_days
A,1,38.5,present,norepinephrine;vasopressin,1,0;1;2
A,2,37.0,none,none,,
B,1,,,,0,5
"""
EXPECTED_ROWS = [
    # patient_id, day, status, grade, n_vasopressors, samples, reasons, missing, criteria
    ("A", 1, "ok", 1, 2, 3, ["fake.fever"], [], "ASTCT CRS 2019"),
    ("A", 2, "ok", 0, 0, None, [], [], "ASTCT CRS 2019"),
    ("B", 1, "cannot_grade", None, 0, 1, [], ["temperature_c"], "ASTCT CRS 2019"),
]


@pytest.fixture(autouse=True)
def stand_in_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grade_module, "get_rule", lambda name: fake_rule(name))


def good_csv(tmp_path: Path) -> Path:
    path = tmp_path / "days.csv"
    path.write_text(GOOD_CSV)
    return path


def test_csv_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "crs", str(good_csv(tmp_path))]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "patient_id,day,status,grade,n_vasopressors,samples,reasons,missing,criteria",
        "A,1,ok,1,2,3,fake.fever,,ASTCT CRS 2019",
        "A,2,ok,0,0,,,,ASTCT CRS 2019",
        "B,1,cannot_grade,,0,1,,temperature_c,ASTCT CRS 2019",
    ]
    assert captured.err == ""


@pytest.mark.parametrize("out_format", ["csv", "jsonl", "parquet"])
def test_round_trip_through_every_format(tmp_path: Path, out_format: str) -> None:
    """CSV in -> each format out -> read back -> graded again from that format: same rows."""
    first = tmp_path / f"first.{out_format}"
    assert main(["grade", "crs", str(good_csv(tmp_path)), "-o", str(first)]) == 0
    if out_format == "parquet":
        rows = pl.read_parquet(first).rows()
    elif out_format == "jsonl":
        rows = pl.read_ndjson(first).rows()
    else:
        rows = [tuple(r) for r in pl.read_csv(first).rows()]
    if out_format != "csv":  # CSV joins lists: compare those rows as text below
        assert rows == EXPECTED_ROWS
    else:
        assert [r[:6] for r in rows] == [r[:6] for r in EXPECTED_ROWS]


@pytest.mark.parametrize("in_format", ["jsonl", "parquet"])
def test_same_result_from_jsonl_and_parquet_input(tmp_path: Path, in_format: str) -> None:
    records = [
        {
            "patient_id": "A",
            "day": 1,
            "temperature_c": 38.5,
            "hypotension": "present",
            "vasopressors": ["norepinephrine", "vasopressin"],
            "ice_items": {"orientation_year": 1},
            "times_days": [0, 1, 2],
        },
        {
            "patient_id": "A",
            "day": 2,
            "temperature_c": 37,
            "hypotension": "none",
            "vasopressors": [],
        },
        {"patient_id": "B", "day": 1, "ice_items": {"orientation_year": 0}, "times_days": [5]},
    ]
    path = tmp_path / f"days.{in_format}"
    if in_format == "jsonl":
        path.write_text("".join(json.dumps(record) + "\n" for record in records))
    else:
        # A Parquet file as another tool writes it: nested struct, list of agents.
        pl.DataFrame(records).write_parquet(path)
    out = tmp_path / "out.parquet"
    assert main(["grade", "crs", str(path), "-o", str(out)]) == 0
    assert pl.read_parquet(out).rows() == EXPECTED_ROWS


def test_format_option_overrides_the_extension(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", "crs", str(good_csv(tmp_path)), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0])["reasons"] == ["fake.fever"]
    assert main(["grade", "crs", str(good_csv(tmp_path)), "--format", "parquet"]) == EXIT_USAGE
    assert "-o FILE" in capsys.readouterr().err


BAD_CSV = """\
patient_id,temperature_c,hypotension,vasopressors,fever_attributable_to_other_cause
A,38.5,present,norepinephrine,false
B,hot,present,,
C,39,low,dobutamine,perhaps
"""


def test_bad_values_are_listed_one_per_line_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(BAD_CSV)
    target = tmp_path / "out.parquet"
    target.write_bytes(b"previous result")
    assert main(["grade", "crs", str(source), "-o", str(target)]) == EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert err[:4] == [
        f"carta: {source}: row 2 (line 3): temperature_c = 'hot': expected a number",
        f"carta: {source}: row 3 (line 4): hypotension = 'low': expected one of none, present",
        f"carta: {source}: row 3 (line 4): vasopressors = 'dobutamine': expected vasopressor "
        "names separated by ';', each one of norepinephrine, epinephrine, phenylephrine, "
        "dopamine, vasopressin, angiotensin_ii; or 'none' for no vasopressor",
        f"carta: {source}: row 3 (line 4): fever_attributable_to_other_cause = 'perhaps': "
        "expected true or false (yes/no and 1/0 are accepted too)",
    ]
    assert "4 problems; nothing was written" in err[4]
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.parquet"]


def test_many_problems_are_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("temperature_c\n" + "warm\n" * (MAX_LISTED_PROBLEMS + 7))
    assert main(["grade", "crs", str(source)]) == EXIT_USAGE
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len([line for line in lines if "expected a number" in line]) == MAX_LISTED_PROBLEMS
    assert "... and 7 more problems" in captured.err
    assert f"{MAX_LISTED_PROBLEMS + 7} problems; nothing was written" in captured.err
    assert captured.out == ""


def test_wrong_encoding_is_a_clear_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "latin.csv"
    source.write_bytes("patient_id,temperature_c\nJosé,38\n".encode("latin-1"))
    target = tmp_path / "out.csv"
    assert main(["grade", "crs", str(source), "-o", str(target)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "line 2: the file is not UTF-8" in err and "iconv" in err
    assert "Traceback" not in err
    assert not target.exists()


def test_malformed_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "days.jsonl"
    source.write_text('{"temperature_c": 38}\n{"temperature_c": 39\n')
    assert main(["grade", "crs", str(source)]) == EXIT_USAGE
    assert f"carta: {source}: line 2: malformed JSON" in capsys.readouterr().err


def test_not_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "days.parquet"
    source.write_text("temperature_c\n38\n")
    assert main(["grade", "crs", str(source)]) == EXIT_USAGE
    assert "not a Parquet file" in capsys.readouterr().err


def test_missing_input_and_missing_output_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", "crs", str(tmp_path / "none.csv")]) == EXIT_USAGE
    assert "no such file" in capsys.readouterr().err
    out = tmp_path / "no" / "out.csv"
    assert main(["grade", "crs", str(good_csv(tmp_path)), "-o", str(out)]) == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err


def test_unknown_columns_are_warned_about_once_and_grading_continues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "days.csv"
    source.write_text("patient_id,temprature_c,hypotension,note\nA,38.5,none,x\nB,39,none,y\n")
    assert main(["grade", "crs", str(source)]) == 0
    captured = capsys.readouterr()
    (warning,) = captured.err.splitlines()
    assert warning == (
        f"carta: warning: {source}: these columns are not inputs of crs: "
        "temprature_c (did you mean temperature_c?), note"
    )
    assert len(captured.out.splitlines()) == 3


def test_a_file_without_any_input_column_is_graded_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "days.csv"
    source.write_text("patient_id,temp\nA,38.5\n")
    assert main(["grade", "crs", str(source)]) == 0
    captured = capsys.readouterr()
    assert "none of the columns crs reads is present" in captured.err
    assert captured.out.splitlines()[1].startswith("A,cannot_grade,")
    source.write_text("patient_id,vasopressors\nA,none\n")  # read, as the six flags
    assert main(["grade", "crs", str(source)]) == 0
    assert capsys.readouterr().err == ""


def test_episodes_only_with_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "crs", str(good_csv(tmp_path)), "--episodes"]) == EXIT_USAGE
    assert "timeline" in capsys.readouterr().err


def test_large_input_is_graded_in_chunks_with_progress_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(grade_module, "CHUNK_ROWS", 4)
    monkeypatch.setattr(grade_module, "PROGRESS_MIN_ROWS", 5)
    rows = 10
    source = tmp_path / "days.parquet"
    pl.DataFrame({"temperature_c": [37.0 + i / 2 for i in range(rows)]}).write_parquet(source)
    assert main(["grade", "crs", str(source), "--format", "jsonl"]) == 0
    captured = capsys.readouterr()
    grades = [json.loads(line)["grade"] for line in captured.out.splitlines()]
    assert grades == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
    assert "100%" in captured.err  # the bar went to stderr, stdout stayed clean
