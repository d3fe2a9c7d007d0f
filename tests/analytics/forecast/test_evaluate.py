"""Nested grouped cross-validation: persons held out whole, the baseline in the same folds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.evaluate import (
    BASELINE,
    MODEL,
    baseline_cells,
    baseline_rule,
    nested_cross_validation,
    outer_folds,
    patient_metrics,
    plot_calibration,
)
from carta.analytics.forecast.features import build_features, label_frame
from carta.analytics.forecast.models import ForecastError
from tests.analytics.forecast.helpers import RIDGE, days, synthetic_frame


@pytest.fixture(scope="module")
def evaluation():  # type: ignore[no-untyped-def]
    return nested_cross_validation(
        synthetic_frame(), folds=3, inner_folds=2, seed=0, candidates=(RIDGE,)
    )


def test_every_person_is_tested_exactly_once(evaluation) -> None:  # type: ignore[no-untyped-def]
    frame = synthetic_frame()
    folds = evaluation.predictions.group_by(c.PERSON_ID).agg(pl.col("fold").n_unique())
    assert (folds["fold"] == 1).all()
    assert evaluation.predictions.height == frame.height
    assert evaluation.predictions[c.PERSON_ID].n_unique() == frame[c.PERSON_ID].n_unique()
    # Each fold's model was trained without that fold's persons: one version per fold.
    assert evaluation.predictions.group_by("fold").agg(pl.col("model_version").n_unique())[
        "model_version"
    ].to_list() == [1, 1, 1]


def test_tables_cover_targets_subsets_and_both_methods(evaluation) -> None:  # type: ignore[no-untyped-def]
    rows = evaluation.rows
    assert set(rows["target"]) == set(c.TARGETS)
    assert set(rows["subset"]) == {"all days", "before onset"}
    assert set(rows["method"]) == {MODEL, BASELINE}
    model = rows.filter((pl.col("method") == MODEL) & (pl.col("subset") == "all days"))
    assert (model["auroc"] > 0.6).all()
    assert set(evaluation.patients["outcome"]) == {"develops ICANS", "develops severe ICANS"}
    assert evaluation.calibration.height > 0


def test_calibration_plots_are_written(evaluation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    written = plot_calibration(evaluation, tmp_path)
    assert {path.name for path in written} == {f"calibration_{t}.png" for t in c.TARGETS}
    assert all(path.stat().st_size > 1000 for path in written)


def test_outer_folds_are_stratified_and_need_enough_cases() -> None:
    frame = synthetic_frame()
    folds = outer_folds(frame, 3, seed=0)
    per_fold = folds.group_by("fold").agg(pl.col("case").sum())["case"].to_numpy()
    assert per_fold.max() - per_fold.min() <= 1
    with pytest.raises(ForecastError, match="outer folds need"):
        outer_folds(frame, 3, seed=0, stratify_grade=5)


def test_the_baseline_uses_only_training_rates() -> None:
    train = pl.concat(
        [
            days(
                "A", {c.TEMPERATURE_C: [39.0] * 8, c.RECORDED_ICANS_GRADE: [0, 0, 1, 1, 1, 1, 1, 1]}
            ),
            days("B", {c.TEMPERATURE_C: [37.0] * 8, c.RECORDED_ICANS_GRADE: [0] * 8}),
        ]
    )
    test = pl.concat([days("C", {c.TEMPERATURE_C: [39.5]}), days("D", {c.TEMPERATURE_C: [36.5]})])
    features = build_features(train)
    predicted = baseline_rule(features, label_frame(train), build_features(test))
    # Fever cell in training: A's days 0-6 are labelled, all positive -> (7 + 1) / (7 + 2)
    # (day 7 has no following days: unknown, left out).
    assert predicted["baseline_p_icans_5d"].to_list()[0] == pytest.approx(8 / 9)
    # The fever-free test patient falls in B's cell: 3 labelled negatives -> 1 / 5.
    assert predicted["baseline_p_icans_5d"].to_list()[1] == pytest.approx(1 / 5)
    cells = baseline_cells(build_features(test).frame).to_list()
    assert cells[0] != cells[1]


def test_patient_level_before_onset_ignores_the_onset_day_and_after() -> None:
    predictions = pl.DataFrame(
        {
            c.PATIENT_ID: ["A"] * 4 + ["B"] * 4,
            c.DAY: [0, 1, 2, 3] * 2,
            "icans_so_far": [0, 0, 2, 2, 0, 0, 0, 0],
            "p_icans_5d": [0.2, 0.3, 0.99, 0.99, 0.4, 0.1, 0.1, 0.1],
            "baseline_p_icans_5d": [0.5] * 8,
        }
    )
    table = patient_metrics(predictions, [c.ICANS_ANY])
    model = table.filter(pl.col("method") == MODEL)
    all_days = model.filter(pl.col("days") == "all days")["auroc"].item()
    before = model.filter(pl.col("days") == "before onset")["auroc"].item()
    assert all_days == 1.0  # A's 0.99 after onset beats B's 0.4
    assert before == 0.0  # before onset A peaks at 0.3 < B's 0.4
    assert np.isclose(table.filter(pl.col("method") == BASELINE)["auroc"].to_numpy(), 0.5).all()
