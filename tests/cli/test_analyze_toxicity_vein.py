"""``carta analyze toxicity`` and ``carta analyze vein-to-vein``: JSON equal to the library
functions on a synthetic cohort, tables, and bad input refused with exit code 2 naming the
column and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from carta.analytics.cohort import describe, read_cohort
from carta.analytics.competing import incidence_by_grade
from carta.analytics.regression import logistic_regression, vein_to_vein_association
from tests.cli.test_analyze import json_of, run

COVARIATES = ["age_at_infusion_years", "prior_lines"]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from carta.synth import generate_network, write_parquet

    folder = tmp_path_factory.mktemp("export")
    write_parquet(generate_network(400, seed=11), folder)
    return folder


@pytest.fixture(scope="module")
def cohort(export: Path) -> pl.DataFrame:
    return read_cohort(export, toxicity=True)


def severe(cohort: pl.DataFrame, syndrome: str) -> pl.DataFrame:
    """The graded patients with a 0/1 grade >= 3 column, written independently of the CLI."""
    grade = pl.col(f"{syndrome}_max_grade")
    return cohort.filter(grade.is_not_null()).with_columns(
        (grade >= 3).cast(pl.Int8).alias("severe")
    )


def test_toxicity_json_equals_the_library(
    export: Path, cohort: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json_of(
        capsys,
        [
            "analyze",
            "toxicity",
            str(export),
            "--group",
            "target_antigen",
            "--covariates",
            ",".join(COVARIATES),
        ],
    )
    assert document["analysis"] == "toxicity" and document["severe_grade"] == 3
    for syndrome in ("crs", "icans"):
        part = document[syndrome]
        expected = incidence_by_grade(cohort, f"{syndrome}_max_grade", "target_antigen")
        assert part["by_grade"] == expected.to_dicts()
        assert sum(row["n"] + row["not_graded"] for row in part["by_grade"]) == 400
        with_syndrome = cohort.filter(pl.col(f"{syndrome}_max_grade") >= 1)
        onset = describe(with_syndrome, f"{syndrome}_onset_day", "target_antigen")
        assert part["onset_day"] == onset.to_dicts()
        days = describe(with_syndrome, f"{syndrome}_days", "target_antigen")
        assert part["days"] == days.to_dicts()
        model = logistic_regression(severe(cohort, syndrome), "severe", COVARIATES)
        logistic = part["logistic"]
        assert logistic["outcome"] == f"{syndrome} grade >= 3"
        assert logistic["n"] == model.n and logistic["outcomes"] == model.outcomes
        assert logistic["outcomes"] == sum(row["grade_3_plus"] for row in part["by_grade"])
        assert [row["odds_ratio"] for row in logistic["coefficients"]] == pytest.approx(
            model.coefficients["odds_ratio"].to_list(), rel=1e-12
        )
        assert [row["p"] for row in logistic["coefficients"]] == pytest.approx(
            model.coefficients["p"].to_list(), rel=1e-9
        )


def test_toxicity_table_without_covariates(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["analyze", "toxicity", str(export)]) == 0
    out = capsys.readouterr().out
    assert "CRS by maximum grade" in out and "ICANS onset day" in out
    assert "Logistic regression" not in out
    document = json_of(capsys, ["analyze", "toxicity", str(export)])
    assert document["crs"]["logistic"] is None and document["group"] is None


def test_toxicity_from_a_file_with_the_columns(
    cohort: pl.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A per-patient CSV (text cells) with the toxicity columns gives the same numbers."""
    columns = [f"{s}_{p}" for s in ("crs", "icans") for p in ("max_grade", "onset_day", "days")]
    path = tmp_path / "toxicity.csv"
    cohort.select("product_code", *columns).write_csv(path)
    from_file = json_of(capsys, ["analyze", "toxicity", str(path), "--group", "product_code"])
    expected = incidence_by_grade(cohort, "icans_max_grade", "product_code")
    # The same rows; a CSV's text groups come alphabetically, the export's in product order.
    by_group = {row["group"]: row for row in expected.to_dicts()}
    assert {row["group"]: row for row in from_file["icans"]["by_grade"]} == by_group


def test_toxicity_separation_is_reported_naming_the_syndrome(
    cohort: pl.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A covariate that is 1 exactly for the patients with severe ICANS separates them."""
    path = tmp_path / "separated.csv"
    cohort.with_columns(
        (pl.col("icans_max_grade").fill_null(0) >= 3).cast(pl.Int8).alias("marker")
    ).select(
        "marker",
        *[f"{s}_{p}" for s in ("crs", "icans") for p in ("max_grade", "onset_day", "days")],
    ).write_csv(path)
    assert run(["analyze", "toxicity", str(path), "--covariates", "marker"]) == 2
    captured = capsys.readouterr()
    assert "logistic regression of severe ICANS" in captured.err
    assert captured.out == ""


def test_vein_to_vein_json_equals_the_library(
    export: Path, cohort: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json_of(
        capsys,
        [
            "analyze",
            "vein-to-vein",
            str(export),
            "--time",
            "os_days",
            "--event",
            "os_event",
            "--group",
            "target_antigen",
            "--covariates",
            ",".join(COVARIATES),
            "--per-days",
            "14",
        ],
    )
    result = vein_to_vein_association(
        cohort,
        "os_days",
        "os_event",
        group="target_antigen",
        adjusted_for=COVARIATES,
        per_days=14,
    )
    assert document["distribution"] == result.distribution.to_dicts()
    assert sum(row["n"] for row in document["distribution"]) == 400
    coefficients = result.model.coefficients
    assert document["hazard_ratio"]["term"] == "vein_to_vein_days_per_14" == result.term
    row = coefficients.filter(coefficients["term"] == result.term).row(0, named=True)
    for key in ("hr", "hr_lower", "hr_upper", "p"):
        assert document["hazard_ratio"][key] == pytest.approx(row[key], rel=1e-12)
    assert [r["term"] for r in document["cox"]["coefficients"]] == [result.term, *COVARIATES]
    assert document["per_days"] == 14 and document["cox"]["events"] == result.model.events
    # Per two weeks is the square of per week (the same model, the coefficient doubled).
    weekly = vein_to_vein_association(cohort, "os_days", "os_event", adjusted_for=COVARIATES)
    weekly_hr = weekly.model.coefficients.row(0, named=True)["hr"]
    assert document["hazard_ratio"]["hr"] == pytest.approx(weekly_hr**2, rel=1e-6)


def test_vein_to_vein_table(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["analyze", "vein-to-vein", str(export), "--time", "os_days", "--event", "os_event"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "Hazard ratio of os_days / os_event per 7 days longer:" in out
    assert "vein_to_vein_days_per_7" in out and "GLOBAL" in out


def write(tmp_path: Path, rows: dict[str, list[Any]]) -> str:
    path = tmp_path / "cohort.csv"
    pl.DataFrame(rows).write_csv(path)
    return str(path)


COHORT = {
    "os_days": [100, 200, 300, 400, 500, 600],
    "os_event": [1, 0, 1, 1, 0, 1],
    "vein_to_vein_days": [20, 25, 30, 35, 28, 22],
}


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        (COHORT, ["--per-days", "0"], "--per-days must be a positive number of days, not 0"),
        (COHORT, ["--per-days", "nan"], "--per-days must be a positive number of days"),
        (
            {**COHORT, "vein_to_vein_days": [20, 25, -3, 35, 28, 22]},
            [],
            "column 'vein_to_vein_days' has negative vein-to-vein times",
        ),
        (
            {**COHORT, "vein_to_vein_days": ["20", "25", "long", "35", "28", "22"]},
            [],
            "column 'vein_to_vein_days'",
        ),
        ({**COHORT, "os_event": [1, 0, 3, 1, 0, 1]}, [], "column 'os_event' (event)"),
        (
            {k: v for k, v in COHORT.items() if k != "vein_to_vein_days"},
            [],
            "no column 'vein_to_vein_days'",
        ),
        (COHORT, ["--covariates", "age"], "no column 'age'"),
    ],
)
def test_vein_to_vein_bad_input(
    rows: dict[str, list[Any]],
    options: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = write(tmp_path, rows)
    argv = ["analyze", "vein-to-vein", data, "--time", "os_days", "--event", "os_event"]
    assert run([*argv, *options]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (COHORT, "no toxicity columns: the data have no column 'crs_max_grade'"),
        (
            {
                "crs_max_grade": [0, 1, 7],
                "crs_onset_day": [None, 2, 3],
                "crs_days": [0, 2, 4],
                "icans_max_grade": [0, 0, 1],
                "icans_onset_day": [None, None, 4],
                "icans_days": [0, 0, 1],
            },
            "column 'crs_max_grade' (grade) must hold [0, 1, 2, 3, 4, 5]; found [7.0]",
        ),
        (
            {
                "crs_max_grade": [0, 1, 2],
                "crs_onset_day": [None, 2, 3],
                "crs_days": [0, -2, 4],
                "icans_max_grade": [0, 0, 1],
                "icans_onset_day": [None, None, 4],
                "icans_days": [0, 0, 1],
            },
            "column 'crs_days' (toxicity) has negative values",
        ),
        (
            {
                "crs_max_grade": [0, 1, 2],
                "crs_onset_day": ["", "2", "soon"],
                "crs_days": [0, 2, 4],
                "icans_max_grade": [0, 0, 1],
                "icans_onset_day": [None, None, 4],
                "icans_days": [0, 0, 1],
            },
            "column 'crs_onset_day'",
        ),
    ],
)
def test_toxicity_bad_input(
    rows: dict[str, list[Any]], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["analyze", "toxicity", write(tmp_path, rows)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_toxicity_of_an_export_without_patient_days(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    copy = tmp_path / "export"
    shutil.copytree(export, copy, ignore=shutil.ignore_patterns("patient_days"))
    assert run(["analyze", "toxicity", str(copy)]) == 2
    assert "the toxicity columns need patient-days" in capsys.readouterr().err
