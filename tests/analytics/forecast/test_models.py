"""Model selection by grouped validation, calibrated forecasts, missing inputs, contributions."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.features import build_features, label_frame
from carta.analytics.forecast.models import (
    STATUS,
    STATUS_BEFORE_INFUSION,
    STATUS_OK,
    VERSION_COLUMN,
    ForecastError,
    TargetModel,
    explain,
    fit_forecaster,
    fit_target,
    grouped_splits,
    metrics,
    predict,
    training_data,
)
from tests.analytics.forecast.helpers import BOOSTING, RIDGE, days, ridge_model, synthetic_frame


def test_grouped_splits_never_put_a_person_on_both_sides() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(30), 10)
    y = (rng.random(groups.size) < 0.3).astype(np.int64)
    for train, test in grouped_splits(y, groups, 5, seed=1):
        assert not set(groups[train]) & set(groups[test])


def test_courses_of_one_person_stay_in_one_fold() -> None:
    frame = synthetic_frame()
    # Pretend pairs of patients are two courses of one person.
    paired = frame.with_columns(
        (pl.col(c.PATIENT_ID).cast(pl.Int64) // 2).cast(pl.String).alias(c.PERSON_ID)
    )
    data = training_data(build_features(paired), label_frame(paired), c.ICANS_ANY)
    for train, test in grouped_splits(data.y, data.groups, 3, seed=0):
        assert not set(data.groups[train]) & set(data.groups[test])
        assert not set(data.patients[train]) & set(data.patients[test])


def test_metrics_on_a_known_example() -> None:
    scores = metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert scores["auroc"] == pytest.approx(0.75)
    assert scores["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert metrics([0, 0], [0.1, 0.2])["auroc"] is None


def test_the_model_learns_the_synthetic_signal() -> None:
    model = ridge_model()
    assert set(model.targets) == set(c.TARGETS)
    for target in model.targets.values():
        cv = target.summary["selected_cv"]
        assert cv["auroc"] > 0.7, target.target
        assert target.summary["folds"] == 3


def test_selection_picks_the_best_cross_validated_candidate() -> None:
    frame = synthetic_frame()
    data = training_data(build_features(frame), label_frame(frame), c.ICANS_SEVERE)
    fitted = fit_target(data, c.ICANS_SEVERE, candidates=(RIDGE, BOOSTING), folds=3, seed=0)
    best = max(fitted.selection, key=lambda row: row["auroc"])
    assert fitted.candidate.name == best["candidate"]
    assert {row["candidate"] for row in fitted.selection} == {RIDGE.name, BOOSTING.name}


def test_predictions_one_row_per_input_row_with_missing_inputs_and_factors() -> None:
    model = ridge_model()
    frame = synthetic_frame()
    result = predict(model, frame)
    assert result.height == frame.height
    assert result.select(c.PATIENT_ID, c.DAY).equals(frame.select(c.PATIENT_ID, c.DAY))
    for column in c.PROBABILITY_COLUMNS.values():
        after = result.filter(pl.col(c.DAY) >= 0)[column]
        assert after.null_count() == 0
        assert after.min() >= 0.0 and after.max() <= 1.0
    before = result.filter(pl.col(c.DAY) < 0)
    assert before.height > 0
    assert (before[STATUS] == STATUS_BEFORE_INFUSION).all()
    assert before["p_icans_5d"].null_count() == before.height
    assert (result.filter(pl.col(c.DAY) >= 0)[STATUS] == STATUS_OK).all()
    # The synthetic network has no WBC and no procalcitonin: listed on every row, if used.
    if c.WBC_PER_UL in model.inputs:
        assert result["missing_inputs"].list.contains(c.WBC_PER_UL).all()
    factors = result.filter(pl.col(c.DAY) >= 0)["factors_icans_5d"]
    assert (factors.list.len() == 3).all()
    assert (result[VERSION_COLUMN] == model.version).all()


def test_a_day_without_any_observation_still_gets_a_forecast_and_says_what_was_missing() -> None:
    model = ridge_model()
    empty = days("Z", {c.TEMPERATURE_C: [None, None, None]})
    result = predict(model, empty)
    assert result["p_icans_5d"].null_count() == 0
    missing = set(result["missing_inputs"][0])
    assert {c.TEMPERATURE_C, c.CRP_MG_DL, c.AGE_YEARS} <= missing
    assert missing <= set(model.inputs)


def test_missing_values_are_handled_by_the_fitted_pipeline_not_by_a_normal_value() -> None:
    model = ridge_model()
    target = model.targets[c.ICANS_ANY]
    imputer = target.base()[0]
    frame = synthetic_frame()
    data = training_data(build_features(frame), label_frame(frame), c.ICANS_ANY)
    # The imputer holds the training medians (learned, stored, reused at prediction) ...
    assert np.allclose(imputer.statistics_, np.nanmedian(data.x, axis=0), equal_nan=True)
    # ... and every input that can be missing has an explicit indicator beside its value.
    assert f"{c.IL6_PG_ML}__never" in target.columns
    assert f"{c.IL6_PG_ML}__missing_today" in target.columns


def test_future_rows_do_not_change_earlier_forecasts() -> None:
    model = ridge_model()
    frame = synthetic_frame()
    cut = 4
    before = predict(model, frame).filter(pl.col(c.DAY) <= cut).sort(c.PATIENT_ID, c.DAY)
    rng = np.random.default_rng(5)
    future = frame.filter(pl.col(c.DAY) > cut)
    altered = future.with_columns(
        pl.Series(c.CRP_MG_DL, rng.uniform(0, 30, future.height)),
        pl.Series(c.RECORDED_ICANS_GRADE, rng.integers(0, 5, future.height)),
    ).sample(fraction=0.7, shuffle=True, seed=3)
    changed = pl.concat([altered, frame.filter(pl.col(c.DAY) <= cut)])
    after = predict(model, changed).filter(pl.col(c.DAY) <= cut).sort(c.PATIENT_ID, c.DAY)
    assert after.equals(before)


def test_logistic_contributions_add_up_to_the_log_odds() -> None:
    model = ridge_model()
    target = model.targets[c.ICANS_ANY]
    features = build_features(synthetic_frame(), model.categories)
    x = features.matrix(target.columns).to_numpy().astype(np.float64)
    inputs, values = target.contributions(x)
    base = target.base()
    intercept = base[-1].intercept_[0]
    assert np.allclose(values.sum(axis=1) + intercept, base.decision_function(x))
    assert len(inputs) == values.shape[1]


def test_boosting_contributions_vanish_for_an_input_at_its_reference() -> None:
    frame = synthetic_frame()
    data = training_data(build_features(frame), label_frame(frame), c.ICANS_ANY)
    fitted = fit_target(data, c.ICANS_ANY, candidates=(BOOSTING,), folds=3, seed=0)
    x = data.x[:50].copy()
    inputs, values = _contributions_at_reference(fitted, x)
    assert np.all(np.isfinite(values))
    assert np.allclose(values[:, inputs.index(c.DAY)], 0.0)
    assert np.abs(values).sum() > 0


def _contributions_at_reference(
    fitted: TargetModel, x: np.ndarray
) -> tuple[tuple[str, ...], np.ndarray]:
    day_column = fitted.columns.index("day__value")
    x[:, day_column] = fitted.reference[day_column]
    return fitted.contributions(x)


def test_explain_lists_ranked_contributions_for_forecast_days() -> None:
    model = ridge_model()
    frame = synthetic_frame().filter(pl.col(c.PATIENT_ID) == "1")
    long = explain(model, frame, top=2)
    assert long[c.DAY].min() >= 0
    assert set(long["rank"].unique().to_list()) == {1, 2}
    first = (
        long.filter(pl.col("target") == c.ICANS_ANY)
        .group_by(c.DAY)
        .agg(
            pl.col("contribution").abs().max().alias("largest"),
            pl.col("contribution").filter(pl.col("rank") == 1).abs().first().alias("top"),
        )
    )
    assert (first["largest"] == first["top"]).all()


def test_targets_without_events_are_skipped_and_recorded() -> None:
    frame = synthetic_frame().with_columns(pl.lit(None, dtype=pl.Int64).alias(c.RECORDED_CRS_GRADE))
    model = fit_forecaster(frame, candidates=(RIDGE,), folds=3, targets=(c.ICANS_ANY, c.CRS_2))
    assert set(model.targets) == {c.ICANS_ANY}
    assert c.CRS_2 in model.skipped
    assert model.card["skipped_targets"] == model.skipped


def test_no_trainable_target_is_an_error() -> None:
    frame = synthetic_frame().with_columns(
        pl.lit(0, dtype=pl.Int64).alias(c.RECORDED_ICANS_GRADE),
        pl.lit(None, dtype=pl.Int64).alias(c.RECORDED_CRS_GRADE),
    )
    with pytest.raises(ForecastError, match="no forecast could be trained"):
        fit_forecaster(frame, candidates=(RIDGE,), folds=3)


def test_the_card_names_data_features_and_validation() -> None:
    card = ridge_model().card
    assert (
        card["data"]["sha256"]
        and card["data"]["patients"] == synthetic_frame()[c.PATIENT_ID].n_unique()
    )
    assert card["validation"]["folds"] == 3
    assert card["targets"][c.ICANS_ANY]["selected"] == RIDGE.name
    assert c.WBC_PER_UL in card["inputs_not_available_in_training"]
    assert "does not replace clinical judgement" in card["intended_use"]


def test_an_empty_input_gives_an_empty_forecast_with_the_columns() -> None:
    model = ridge_model()
    empty = synthetic_frame().head(0)
    result = predict(model, empty)
    assert result.height == 0
    assert result.columns == predict(model, synthetic_frame().head(3)).columns
