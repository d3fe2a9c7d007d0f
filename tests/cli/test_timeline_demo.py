"""``carta grade timeline`` and ``carta demo --episodes``."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from carta.cli.main import EXIT_USAGE, main

CRS_ICANS_HEADER = (
    "patient_id,day,temperature_c,fever_attributable_to_other_cause,crs_previously_diagnosed,"
    "antipyretic_or_anticytokine_given,hypotension,vasopressors,"
    "hypotension_attributable_to_other_cause,oxygen_device,oxygen_flow_l_min,"
    "hypoxia_attributable_to_other_cause,died_due_to_crs,age_years,tool,ice_score,"
    "consciousness,consciousness_attributable_to_other_cause,seizure,motor,icp_edema,"
    "died_due_to_icans,recorded_crs_grade\n"
)
CALM = "none,none,false,none,,false,false,50,ICE,10,alert,false,none,none,none,false"
# Day 1: fever only (CRS 1); day 2: fever + one vasopressor + low-flow O2 (CRS 3), treated;
# day 3: afebrile, nothing else, waiver active -> 0 (a.2 [S]): one CRS episode, days 1-2.
DAYS = (
    f"A,1,38.6,false,false,false,{CALM},1\n"
    "A,2,39.0,false,false,true,present,norepinephrine,false,nasal_cannula,4,false,false,"
    "50,ICE,10,alert,false,none,none,none,false,2\n"
    f"A,3,37.0,false,false,false,{CALM},\n"
)


def timeline_csv(tmp_path: Path) -> Path:
    path = tmp_path / "days.csv"
    path.write_text(CRS_ICANS_HEADER + DAYS)
    return path


def test_timeline_per_day(tmp_path: Path) -> None:
    out = tmp_path / "timeline.jsonl"
    assert main(["grade", "timeline", str(timeline_csv(tmp_path)), "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["patient_id"], r["day"]) for r in rows] == [("A", 1), ("A", 2), ("A", 3)]
    assert [r["crs_grade"] for r in rows] == [1, 3, 0]
    assert [r["icans_grade"] for r in rows] == [0, 0, 0]
    assert [r["crs_agreement"] for r in rows] == ["agree", "disagree", "not_recorded"]


def test_timeline_episodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "timeline", str(timeline_csv(tmp_path)), "--episodes"]) == 0
    episodes = pl.read_csv(capsys.readouterr().out.encode())
    crs = episodes.filter(pl.col("syndrome") == "CRS").row(0, named=True)
    assert (crs["onset_day"], crs["max_grade"], crs["max_grade_day"]) == (1, 3, 2)
    assert (crs["duration_days"], crs["resolution_day"]) == (2, 3)


def test_timeline_bad_values_and_duplicate_days_are_input_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CRS_ICANS_HEADER + DAYS.replace("A,3,", "A,three,"))
    assert main(["grade", "timeline", str(path)]) == EXIT_USAGE
    assert "row 3 (line 4): day = 'three': expected a whole number" in capsys.readouterr().err
    path.write_text(CRS_ICANS_HEADER + DAYS.replace("A,3,", "A,2,"))
    assert main(["grade", "timeline", str(path)]) == EXIT_USAGE
    assert "duplicate patient-day" in capsys.readouterr().err


def test_demo_episodes_prints_the_episode_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--episodes"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("patient_id"))
    for column in ("syndrome", "onset_day", "max_grade", "duration_days"):
        assert column in header
    assert any(line.startswith("DEMO-") and "CRS" in line for line in lines)
    assert "synthetic" in out and "carta grade timeline" in out


def test_timeline_of_a_file_without_icans_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crs_only.csv"
    path.write_text("patient_id,day,temperature_c\nA,1,38.5\nA,2,37.0\n")
    assert main(["grade", "timeline", str(path), "--episodes"]) == 0
    episodes = pl.read_csv(capsys.readouterr().out.encode())
    icans = episodes.filter(pl.col("syndrome") == "ICANS").row(0, named=True)
    assert icans["episode"] is None and icans["days_not_determinable"] == 2
