"""``carta forecast train|predict`` through its own parser (``register``), as main will wire it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl
import pytest

from carta.analytics.forecast import columns as c
from carta.cli.forecast import register
from tests.analytics.forecast.helpers import bwh_text, synthetic_frame

QUICK = ["--models", "logistic-ridge", "--folds", "3"]


def carta(argv: list[str]) -> int:
    """Parse like ``carta`` does and run the handler."""
    parser = argparse.ArgumentParser(prog="carta")
    parser.add_argument("--debug", action="store_true")
    register(parser.add_subparsers(title="commands", metavar="COMMAND"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    code: int = args.handler(args)
    return code


@pytest.fixture(scope="module")
def registry_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("forecast")
    data = folder / "patient_days.parquet"
    synthetic_frame().write_parquet(data)
    model = folder / "model.joblib"
    assert (
        carta(["forecast", "train", "--format", "registry", str(data), "-o", str(model), *QUICK])
        == 0
    )
    return data, model


def test_train_writes_the_model_and_its_card(registry_files: tuple[Path, Path]) -> None:
    _, model = registry_files
    card = json.loads(model.with_name("model.card.json").read_text(encoding="utf-8"))
    assert card["data"]["format"] == "registry"
    assert card["data"]["source"] == "patient_days.parquet"
    assert set(card["targets"]) == set(c.TARGETS)
    assert model.stat().st_size > 1000


def test_predict_writes_one_row_per_patient_day(
    registry_files: tuple[Path, Path], tmp_path: Path
) -> None:
    data, model = registry_files
    out = tmp_path / "forecast.csv"
    assert (
        carta(
            [
                "forecast",
                "predict",
                "--format",
                "registry",
                "-m",
                str(model),
                str(data),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    result = pl.read_csv(out)
    assert result.height == synthetic_frame().height
    assert result.columns[:6] == [
        c.PATIENT_ID,
        c.DAY,
        "forecast_status",
        "p_icans_5d",
        "p_severe_icans_5d",
        "p_crs2_5d",
    ]
    assert {"missing_inputs", "carried_forward", "factors_icans_5d", "model_version"} <= set(
        result.columns
    )
    after = result.filter(pl.col(c.DAY) >= 0)
    assert after["p_icans_5d"].min() >= 0 and after["p_icans_5d"].max() <= 1


def test_predict_to_standard_output(
    registry_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, model = registry_files
    small = tmp_path / "one.csv"
    small.write_text("patient_id,day,temperature_c,crp_mg_dL\nX,0,38.9,12\nX,1,39.4,\n")
    assert carta(["forecast", "predict", "--format", "registry", "-m", str(model), str(small)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("patient_id,day,forecast_status,p_icans_5d")
    assert len(lines) == 3 and lines[2].startswith("X,1,ok,")


def test_bad_input_is_refused_by_row_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("patient_id,day,temperature_c\nA,0,98.6\nA,1,37.0\n")
    model = tmp_path / "model.joblib"
    assert carta(["forecast", "train", "--format", "registry", str(data), "-o", str(model)]) == 2
    err = capsys.readouterr().err
    assert "row 1 (line 2): temperature_c = 98.6" in err and "nothing was written" in err
    assert not model.exists()


def test_untrainable_data_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "quiet.csv"
    data.write_text(
        "patient_id,day,recorded_icans_grade\n" + "".join(f"A,{d},0\n" for d in range(10))
    )
    model = tmp_path / "model.joblib"
    assert carta(["forecast", "train", "--format", "registry", str(data), "-o", str(model)]) == 2
    assert "no forecast could be trained" in capsys.readouterr().err
    assert not model.exists()


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    data.write_text("patient_id,day\nA,0\n")
    assert (
        carta(
            [
                "forecast",
                "train",
                "--format",
                "registry",
                str(data),
                "-o",
                str(tmp_path / "no" / "m.joblib"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    assert (
        carta(
            [
                "forecast",
                "train",
                "--format",
                "registry",
                str(data),
                "-o",
                str(tmp_path / "m"),
                "--models",
                "svm",
            ]
        )
        == 2
    )
    assert "--models" in capsys.readouterr().err
    assert (
        carta(
            [
                "forecast",
                "predict",
                "--format",
                "registry",
                "-m",
                str(tmp_path / "none.joblib"),
                str(data),
            ]
        )
        == 2
    )
    assert "no model file" in capsys.readouterr().err
    assert carta(["forecast"]) == 2
    assert carta(["forecast", "train", str(data), "-o", "m"]) == 2  # --format is required


def test_bwh_format_trains_and_predicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "cohort.csv"
    data.write_text(bwh_text(synthetic_frame()))
    model = tmp_path / "bwh.joblib"
    assert carta(["forecast", "train", "--format", "bwh", str(data), "-o", str(model), *QUICK]) == 0
    out = tmp_path / "forecast.parquet"
    assert (
        carta(
            ["forecast", "predict", "--format", "bwh", "-m", str(model), str(data), "-o", str(out)]
        )
        == 0
    )
    result = pl.read_parquet(out)
    assert result.height == synthetic_frame().height
    assert isinstance(result["missing_inputs"].dtype, pl.List)
    # IL-6 is measured on a quarter of the synthetic days: some days list it as missing.
    listed = result["missing_inputs"].cast(pl.List(pl.String))
    assert listed.list.contains(c.IL6_PG_ML).any()
    assert not listed.list.contains(c.PROCALCITONIN_NG_ML).any()  # never in training: unused
    assert "written to" in capsys.readouterr().err
