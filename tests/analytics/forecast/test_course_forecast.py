"""The one-course path (the patient page's, ADR 0288): ``predict_course`` gives exactly
``predict``'s forecasts, and the compact evaluator exactly scikit-learn's probabilities and
contributions, for every model kind; anything it cannot read goes to scikit-learn."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn.calibration import CalibratedClassifierCV

from carta.analytics.forecast import columns as c
from carta.analytics.forecast import models
from carta.analytics.forecast.canonical import conform
from carta.analytics.forecast.features import build_features, label_frame
from carta.analytics.forecast.models import (
    DEFAULT_CANDIDATES,
    CompactModel,
    ForecastModel,
    TargetModel,
    compact_model,
    fit_forecaster,
    predict,
    predict_course,
    training_data,
)
from tests.analytics.forecast.helpers import BOOSTING, days, ridge_model, synthetic_frame

LASSO = DEFAULT_CANDIDATES[1]
RELATIVE = 1e-12


@cache
def boosting_model() -> ForecastModel:
    return fit_forecaster(synthetic_frame(), candidates=(BOOSTING,), folds=3, seed=0)


@cache
def lasso_model() -> ForecastModel:
    return fit_forecaster(synthetic_frame(seed=5), candidates=(LASSO,), folds=3, seed=2)


MODELS = {"ridge": ridge_model, "lasso": lasso_model, "boosting": boosting_model}


def _patients() -> list[pl.DataFrame]:
    frame = synthetic_frame()
    return [part for _, part in frame.group_by(c.PATIENT_ID, maintain_order=True)]


def _assert_same_forecast(model: ForecastModel, rows: Sequence[Mapping[str, Any]]) -> None:
    """``predict_course`` of the rows against ``predict`` of their frame, every column."""
    fast = predict_course(model, rows)
    assert fast is not None, "the rows went to the frame path"
    frame = pl.DataFrame(list(rows)) if rows else pl.DataFrame()
    expected = predict(model, days_frame(frame))
    assert fast.patient_id == expected[c.PATIENT_ID][0]
    assert fast.days == expected[c.DAY].to_list()
    assert fast.after == (expected[models.STATUS] == models.STATUS_OK).to_list()
    assert fast.missing == expected["missing_inputs"].to_list()
    assert fast.carried == expected["carried_forward"].to_list()
    assert fast.version == expected[models.VERSION_COLUMN][0]
    assert set(fast.probabilities) == set(model.targets)
    for target in model.targets:
        want = expected[c.PROBABILITY_COLUMNS[target]].to_list()
        got = fast.probabilities[target]
        assert [p is None for p in got] == [p is None for p in want]
        for mine, theirs in zip(got, want, strict=True):
            if mine is not None:
                assert mine == pytest.approx(theirs, rel=RELATIVE, abs=0.0)
        factors = [fast.factors(target, row) for row in range(len(fast.days))]
        assert factors == expected[f"factors_{target}"].to_list()


def days_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The canonical frame of rows (as the registry adapter makes it)."""
    canonical: pl.DataFrame = conform(frame)
    return canonical


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_synthetic_course_forecasts_as_predict_does(kind: str) -> None:
    model = MODELS[kind]()
    assert all(compact_model(fitted) is not None for fitted in model.targets.values())
    patients = _patients()
    assert len(patients) >= 50
    for patient in patients:
        _assert_same_forecast(model, patient.to_dicts())


def test_rows_in_any_order_and_late_values_forecast_as_predict_does() -> None:
    model = ridge_model()
    course = days(
        "A",
        {
            c.TEMPERATURE_C: [None, 38.5, None, 37.0, 40.1, None, 39.0],
            c.CRP_MG_DL: [None, None, None, None, None, 3.0, 0.0],
            c.IL6_PG_ML: [None, None, None, 120.0, None, None, None],
            c.BASELINE_EASIX: [None, 0.0, None, 4.0, None, None, None],
            c.AGE_YEARS: [None, None, 61, None, None, None, None],
            c.DISEASE: [None, "lbcl", None, None, "mm", None, None],
            c.PRODUCT_CODE: [None, None, "axi-cel", None, None, None, "a-level-never-seen"],
            c.RECORDED_ICANS_GRADE: [0, None, 2, None, 1, None, 0],
            c.RECORDED_CRS_GRADE: [None, None, None, 1, None, 3, 2],
            c.TOCILIZUMAB_GIVEN: [False, None, True, False, None, False, False],
            c.CRS_PEAK_GRADE: [2] * 7,
            c.CRS_ONSET_DAY: [1] * 7,
            c.CRS_PEAK_DAY: [3] * 7,
        },
        first_day=-2,
    )
    rows = course.to_dicts()
    for order in (rows, rows[::-1], rows[3:] + rows[:3]):
        _assert_same_forecast(model, order)


def test_only_days_before_infusion_have_no_probability_or_factors() -> None:
    rows = days("A", {c.TEMPERATURE_C: [37.0, 38.2]}, first_day=-3).to_dicts()
    _assert_same_forecast(ridge_model(), rows)
    fast = predict_course(ridge_model(), rows)
    assert fast is not None
    assert all(p is None for values in fast.probabilities.values() for p in values)
    assert fast.factors(c.ICANS_ANY, 1) is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (c.TEMPERATURE_C, float("nan")),  # a NaN is a value in a frame, null here
        (c.CRP_MG_DL, Decimal("2.5")),  # a type the frame would cast
        (c.RECORDED_ICANS_GRADE, 1.0),  # an Int64 column given a float
        (c.DISEASE, "not-a-disease"),  # the canonical frame refuses it
        (c.DAY, None),
        (c.TOCILIZUMAB_GIVEN, 1),
    ],
)
def test_values_a_frame_reads_otherwise_go_to_the_frame_path(column: str, value: Any) -> None:
    rows = days("A", {c.TEMPERATURE_C: [37.0, 38.2, 39.0]}).to_dicts()
    assert predict_course(ridge_model(), rows) is not None
    rows[1][column] = value
    assert predict_course(ridge_model(), rows) is None


def test_two_courses_or_none_go_to_the_frame_path() -> None:
    rows = days("A", {c.TEMPERATURE_C: [37.0, 38.2]}).to_dicts()
    rows[1][c.PATIENT_ID] = "B"
    assert predict_course(ridge_model(), rows) is None
    assert predict_course(ridge_model(), []) is None


def test_a_slope_over_zero_days_goes_to_the_frame_path() -> None:
    rows = days("A", {c.TEMPERATURE_C: [37.0, 38.0, 38.0]}).to_dicts()
    for row in rows:
        row[c.DAY] = 1
    assert predict_course(ridge_model(), rows) is None


# --- the compact evaluator against scikit-learn itself ---------------------------------------


def _matrices(fitted: TargetModel) -> list[np.ndarray]:
    """Realistic rows with missing values (the synthetic cohort's features), whole and a few
    rows at a time, column-major as the prediction paths give them, plus random values."""
    features = build_features(synthetic_frame(patients=30, seed=21))
    x = features.matrix(fitted.columns).to_numpy().astype(np.float64)
    assert np.isnan(x).any(), "the check needs missing values"
    rng = np.random.default_rng(4)
    noisy = np.where(rng.random(x.shape) < 0.3, np.nan, x + rng.normal(0.0, 1.0, x.shape))
    return [x, x[:7], x[-1:], np.asfortranarray(noisy[:40]), np.ascontiguousarray(noisy[:40])]


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_the_compact_model_gives_sklearns_probabilities_and_contributions(kind: str) -> None:
    for fitted in MODELS[kind]().targets.values():
        compact = compact_model(fitted)
        assert compact is not None
        for x in _matrices(fitted):
            probability, inputs, values = compact.evaluate(x)
            expected = fitted.calibrated.predict_proba(x)[:, 1]
            np.testing.assert_allclose(probability, expected, rtol=RELATIVE, atol=0.0)
            expected_inputs, expected_values = fitted.contributions(x)
            assert inputs == expected_inputs
            np.testing.assert_allclose(values, expected_values, rtol=RELATIVE, atol=1e-15)


def _recalibrated(fitted: TargetModel, **settings: Any) -> TargetModel:
    """The same target refitted with another calibration (one the compact model does not
    read)."""
    frame = synthetic_frame()
    data = training_data(build_features(frame), label_frame(frame), fitted.target)
    columns = [data.columns.index(name) for name in fitted.columns]
    calibrated = CalibratedClassifierCV(fitted.candidate.estimator(0), cv=3, **settings)
    calibrated.fit(data.x[:, columns], data.y)
    return dataclasses.replace(fitted, calibrated=calibrated)


@pytest.mark.parametrize(
    "settings", [{"method": "isotonic", "ensemble": False}, {"method": "sigmoid", "ensemble": True}]
)
def test_a_calibration_it_does_not_read_uses_sklearn_with_the_same_results(
    settings: dict[str, Any],
) -> None:
    model = ridge_model()
    target = c.ICANS_ANY
    other = _recalibrated(model.targets[target], **settings)
    assert compact_model(other) is None
    changed = dataclasses.replace(model, targets={**model.targets, target: other})
    for patient in _patients()[:10]:
        _assert_same_forecast(changed, patient.to_dicts())


def test_a_compact_model_that_disagrees_at_load_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fitted = copy.deepcopy(ridge_model().targets[c.ICANS_ANY])  # not yet checked
    honest = CompactModel.evaluate

    def off_by_a_little(
        self: CompactModel, x: np.ndarray
    ) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
        probability, inputs, values = honest(self, x)
        return probability * (1.0 + 1e-9), inputs, values

    monkeypatch.setattr(CompactModel, "evaluate", off_by_a_little)
    assert compact_model(fitted) is None
    monkeypatch.setattr(CompactModel, "evaluate", honest)
    assert compact_model(fitted) is None  # decided once per process and model
    assert compact_model(copy.deepcopy(fitted)) is not None
