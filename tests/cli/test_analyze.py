"""``carta analyze survival|incidence|response|compare``: tables, JSON equal to the API, files
written atomically, bad input refused with exit code 2 and a message naming the column."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from carta.analytics.competing import gray_test
from carta.analytics.regression import cox_regression
from carta.analytics.survival import kaplan_meier, log_rank
from carta.cli import analyze
from carta.cli import main as carta_main

FIXTURES = Path("tests/analytics/r_fixtures")


def run(argv: list[str]) -> int:
    """``carta`` with the analyze command registered (as main.build_parser does)."""
    parser = argparse.ArgumentParser(prog="carta")
    parser.add_argument("--debug", action="store_true", default=False)
    commands = parser.add_subparsers()
    analyze.register(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    code: int = args.handler(args)
    return code


def json_of(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert run([*argv, "--format", "json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_exit_codes_are_those_of_main() -> None:
    assert (analyze.EXIT_OK, analyze.EXIT_USAGE) == (carta_main.EXIT_OK, carta_main.EXIT_USAGE)


def test_survival_json_equals_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    data = FIXTURES / "veteran.csv"
    document = json_of(
        capsys,
        [
            "analyze",
            "survival",
            str(data),
            "--time",
            "time",
            "--event",
            "status",
            "--group",
            "celltype",
            "--covariates",
            "karno,celltype",
        ],
    )
    frame = pl.read_csv(data)
    curves = kaplan_meier(frame, "time", "status", "celltype")
    assert [group["group"] for group in document["groups"]] == list(curves.levels)
    large = next(group for group in document["groups"] if group["group"] == "large")
    assert large["curve"]["survival"] == curves.curve("large")["survival"].to_list()
    assert large["median"] == 156.0
    assert [mark["time"] for mark in large["landmarks"]] == pytest.approx([182.625, 365.25, 730.5])
    assert document["log_rank"]["chi2"] == pytest.approx(
        log_rank(frame, "time", "status", "celltype").chi2
    )
    cox = cox_regression(frame, "time", "status", ["karno", "celltype"])
    assert [row["hr"] for row in document["cox"]["coefficients"]] == pytest.approx(
        cox.coefficients["hr"].to_list()
    )
    assert document["cox"]["reference_levels"] == {"celltype": "adeno"}
    assert document["cox"]["proportional_hazards"][-1]["term"] == "GLOBAL"


def test_survival_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        [
            "analyze",
            "survival",
            str(FIXTURES / "lung.csv"),
            "--time",
            "time",
            "--event",
            "status",
            "--group",
            "sex",
            "--landmarks",
            "365",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Log-rank test: chi2 = 10.3267, df = 1, p = 0.001311" in out
    assert "median_lower" in out and "365" in out


def test_undefined_numbers_are_json_null(capsys: pytest.CaptureFixture[str]) -> None:
    document = json_of(
        capsys,
        [
            "analyze",
            "survival",
            str(FIXTURES / "half.csv"),
            "--time",
            "time",
            "--event",
            "status",
            "--group",
            "arm",
            "--landmarks",
            "1,2",
        ],
    )
    x = document["groups"][0]
    assert x["median"] == 3.5 and x["median_upper"] is None
    assert x["curve"]["std_err"][-1] is None  # the curve reached 0


def test_incidence_with_gray_test(capsys: pytest.CaptureFixture[str]) -> None:
    data = FIXTURES / "competing.csv"
    document = json_of(
        capsys,
        [
            "analyze",
            "incidence",
            str(data),
            "--time",
            "time",
            "--event",
            "status",
            "--group",
            "arm",
            "--landmarks",
            "5,10",
        ],
    )
    expected = gray_test(pl.read_csv(data), "time", "status", "arm")
    assert document["gray_test"][0]["chi2"] == pytest.approx(expected.chi2)
    first = document["groups"][0]
    assert [entry["cause"] for entry in first["incidence"]] == [1, 2]
    assert [mark["time"] for mark in first["incidence"][0]["landmarks"]] == [5.0, 10.0]


def test_compare_json(capsys: pytest.CaptureFixture[str]) -> None:
    document = json_of(
        capsys,
        [
            "analyze",
            "compare",
            str(FIXTURES / "protocol.csv"),
            "--arm",
            "ld_dose",
            "--time",
            "time",
            "--event",
            "status",
            "--covariates",
            "age,sex,disease",
        ],
    )
    assert document["arms"] == {"reference": "flu25_cy250", "compared": "flu30_cy500"}
    assert document["weighted"]["cox"]["coefficients"][0]["hr"] == pytest.approx(
        0.755504387419452, rel=1e-9
    )
    assert {row["term"] for row in document["balance"]} >= {"age", "disease=mcl"}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from carta.synth import generate_network, write_parquet

    folder = tmp_path_factory.mktemp("export")
    write_parquet(generate_network(300, seed=5), folder)
    return folder


def test_response_from_an_export_folder(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json_of(
        capsys,
        [
            "analyze",
            "response",
            str(export),
            "--group",
            "target_antigen",
            "--covariates",
            "age_at_infusion_years",
        ],
    )
    assert sum(group["n"] for group in document["groups"]) == 300
    for group in document["groups"]:
        assert sum(group["best_response"].values()) == group["n"]
        assert group["orr"]["lower"] <= group["orr"]["rate"] <= group["orr"]["upper"]
    assert document["duration_of_response"] is not None
    assert document["logistic"]["coefficients"][0]["term"] == "Intercept"


def test_toxicity_incidence_from_an_export_folder(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json_of(
        capsys,
        [
            "analyze",
            "incidence",
            str(export),
            "--toxicity",
            "--time",
            "crs_severe_time",
            "--event",
            "crs_severe_status",
        ],
    )
    (group,) = document["groups"]
    assert group["n"] == 300 and group["events"] > 0
    assert max(group["incidence"][0]["curve"]["time"]) <= 30
    (by_grade,) = document["toxicity"]["crs"]["by_grade"]
    assert by_grade["n"] + by_grade["not_graded"] == 300
    assert by_grade["grade_3_plus"] == group["events"]  # the same grade >= 3 events
    assert document["toxicity"]["icans"]["onset_day"][0]["min"] >= 0


def test_output_file_is_written_and_bad_input_leaves_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "km.json"
    data = str(FIXTURES / "lung.csv")
    assert (
        run(
            [
                "analyze",
                "survival",
                data,
                "--time",
                "time",
                "--event",
                "status",
                "--format",
                "json",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    before = target.read_text()
    assert json.loads(before)["n"] == 228
    code = run(
        ["analyze", "survival", data, "--time", "tiem", "--event", "status", "-o", str(target)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "no column 'tiem'" in err and "did you mean 'time'" in err
    assert target.read_text() == before
    assert [path.name for path in tmp_path.iterdir()] == ["km.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["survival", "--time", "time", "--event", "ph_ecog"], "column 'ph_ecog' (event)"),
        (
            ["survival", "--time", "time", "--event", "status", "--group", "ph_ecog"],
            "column 'ph_ecog' (group) has 1 missing value",
        ),
        (
            ["survival", "--time", "time", "--event", "status", "--landmarks", "a,b"],
            "--landmarks must be numbers",
        ),
        (
            ["survival", "--time", "time", "--event", "status", "--conf-level", "95"],
            "--conf-level must be between 0 and 1",
        ),
        (
            ["incidence", "--time", "time", "--event", "age"],
            "column 'age' (event) must hold the codes 0 (censored), 1 (event of interest), 2 (competing event)",
        ),
        (
            [
                "compare",
                "--arm",
                "ph_ecog",
                "--time",
                "time",
                "--event",
                "status",
                "--covariates",
                "age",
            ],
            "column 'ph_ecog' (group) has 1 missing value",
        ),
        (["response", "--response", "sex"], "column 'sex' (response) holds"),
    ],
)
def test_bad_input_exits_2_naming_the_column(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["analyze", argv[0], str(FIXTURES / "lung.csv"), *argv[1:]])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert captured.out == ""


def test_unreadable_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["analyze", "survival", str(tmp_path / "absent.csv"), "--time", "t", "--event", "e"])
        == 2
    )
    assert "no such file" in capsys.readouterr().err


def test_analyze_without_an_analysis_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["analyze"]) == 2
    assert "survival" in capsys.readouterr().err
