"""The per-course feature path (the patient page's) gives exactly the batch builder's features,
and ``predict`` exactly the same forecasts with it; so does the path from a course's rows
(``features_for_rows``, ADR 0288)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from carta.analytics.forecast import columns as c
from carta.analytics.forecast import course_features, models
from carta.analytics.forecast.course_features import features_for_courses, features_for_rows
from carta.analytics.forecast.features import (
    CARRIED_FORWARD,
    MISSING_INPUTS,
    FeatureSet,
    build_features,
)
from carta.analytics.forecast.models import predict
from tests.analytics.forecast.helpers import days, ridge_model, synthetic_frame


def _assert_same(fast: FeatureSet, batch: FeatureSet) -> None:
    assert fast.columns == batch.columns
    assert dict(fast.categories) == dict(batch.categories)
    assert_frame_equal(fast.frame, batch.frame, check_exact=True)


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure the comparison is with the per-course path, not the batch builder it may hand
    a frame to."""

    def refuse(*args: Any, **kwargs: Any) -> FeatureSet:
        raise AssertionError("fell back to the batch builder")

    monkeypatch.setattr(course_features, "build_features", refuse)


def _patients() -> list[pl.DataFrame]:
    frame = synthetic_frame()
    return [part for _, part in frame.group_by(c.PATIENT_ID, maintain_order=True)]


def test_each_synthetic_patient_all_days_matches_the_batch_builder(no_fallback: None) -> None:
    patients = _patients()
    assert len(patients) >= 50
    categories = ridge_model().categories
    for patient in patients:
        batch = build_features(patient, categories)
        _assert_same(features_for_courses(patient, categories), batch)
        _assert_same(features_for_courses(patient), build_features(patient))


def test_a_cohort_in_shuffled_order_matches_the_batch_builder(
    no_fallback: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(course_features, "MAX_ROWS", 10**6)
    frame = synthetic_frame().sample(fraction=1.0, shuffle=True, seed=3)
    _assert_same(features_for_courses(frame), build_features(frame))


def test_edge_cases_match_the_batch_builder(no_fallback: None) -> None:
    """Values that arrive late, a baseline of 0 (log2: unknown), a level the model never saw,
    repeated days with different values, gaps, an unsorted course."""
    frame = days(
        "A",
        {
            c.TEMPERATURE_C: [None, 38.5, None, 37.0, 40.1, None],
            c.CRP_MG_DL: [None, None, None, None, None, 3.0],
            c.BASELINE_EASIX: [None, 0.0, None, 4.0, None, None],
            c.AGE_YEARS: [None, None, 61, None, None, None],
            c.DISEASE: [None, "lbcl", None, None, "mm", None],
            c.RECORDED_ICANS_GRADE: [0, None, 2, None, 1, None],
            c.RECORDED_CRS_GRADE: [None, None, None, 1, None, 3],
            c.TOCILIZUMAB_GIVEN: [False, None, True, False, None, False],
        },
        first_day=-2,
    )
    twice = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(2).otherwise(pl.col(c.DAY)).alias(c.DAY)
    )
    for case in (frame, twice, frame.reverse()):
        categories = {c.DISEASE: ("lbcl", "fl"), c.PRODUCT_CODE: ()}
        _assert_same(features_for_courses(case, categories), build_features(case, categories))


def _assert_rows_same(
    rows: Sequence[Mapping[str, Any]], categories: Mapping[str, Sequence[str]] | None
) -> None:
    """``features_for_rows`` of the rows against the batch builder on their frame."""
    batch = build_features(pl.DataFrame(list(rows)), categories)
    fast = features_for_rows(rows, categories)
    assert fast is not None, "the rows went to the frame path"
    assert tuple(fast.columns) == batch.columns
    assert dict(fast.categories) == dict(batch.categories)
    assert list(fast.days) == batch.frame[c.DAY].to_list()
    expected = batch.matrix().to_numpy().astype(np.float64)  # null -> NaN, no valid NaN here
    assert np.array_equal(fast.matrix(batch.columns), expected, equal_nan=True)
    assert fast.matrix(batch.columns).flags.f_contiguous
    assert fast.missing == batch.frame[MISSING_INPUTS].to_list()
    assert fast.carried == batch.frame[CARRIED_FORWARD].to_list()
    absent = fast.matrix(["not_a_feature", batch.columns[0]])
    assert np.isnan(absent[:, 0]).all()
    assert np.array_equal(absent[:, 1], expected[:, 0], equal_nan=True)


def test_each_synthetic_patients_rows_match_the_batch_builder() -> None:
    categories = ridge_model().categories
    for patient in _patients():
        rows = patient.to_dicts()
        _assert_rows_same(rows, categories)
        _assert_rows_same(rows, None)
        _assert_rows_same(rows[::-1], categories)


def test_edge_case_rows_match_the_batch_builder() -> None:
    """Late values, a baseline of 0, a level never seen, a CRS summary, an unsorted course."""
    frame = days(
        "A",
        {
            c.TEMPERATURE_C: [None, 38.5, None, 37, 40.1, None],  # an int among floats
            c.CRP_MG_DL: [None, None, None, None, None, 3.0],
            c.FERRITIN_NG_ML: [None, 0.0, None, 1e6, None, None],
            c.BASELINE_EASIX: [None, 0.0, None, 4.0, None, None],
            c.BASELINE_M_EASIX: [None, None, 0.37, None, None, None],
            c.AGE_YEARS: [None, None, 61, None, None, None],
            c.DISEASE: [None, "lbcl", None, None, "mm", None],
            c.PRODUCT_CODE: [None, "tisa-cel", None, None, None, "other"],
            c.RECORDED_ICANS_GRADE: [0, None, 2, None, 1, None],
            c.RECORDED_CRS_GRADE: [None, None, None, 1, None, 3],
            c.TOCILIZUMAB_GIVEN: [False, None, True, False, None, False],
            c.CRS_PEAK_GRADE: [3, 3, 3, 3, 3, 3],
            c.CRS_ONSET_DAY: [0, 0, 0, 0, 0, 0],
            c.CRS_PEAK_DAY: [2, 2, 2, 2, 2, 2],
        },
        first_day=-2,
    )
    rows = frame.to_dicts()
    rows[3][c.TEMPERATURE_C] = 37  # a Python int, as an integer column would give
    no_crs = [{**row, c.CRS_PEAK_GRADE: 0} for row in rows]
    onset_only = [{**row, c.CRS_PEAK_DAY: None, c.CRS_ONSET_DAY: 1} for row in rows]
    for case in (rows, rows[::-1], no_crs, onset_only):
        _assert_rows_same(case, {c.DISEASE: ("lbcl", "fl"), c.PRODUCT_CODE: ()})
        _assert_rows_same(case, None)


def test_a_nan_slope_goes_to_the_batch_builder_and_still_matches() -> None:
    """Two values on the same day divide by zero days: NaN, which both keep."""
    frame = days("A", {c.TEMPERATURE_C: [37.0, 37.0, 38.0]}).with_columns(pl.lit(1).alias(c.DAY))
    batch = build_features(frame)
    assert batch.frame[f"{c.TEMPERATURE_C}__slope"].is_nan().any()
    _assert_same(features_for_courses(frame), batch)


def test_predict_gives_the_same_forecasts_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ridge_model()
    patients = _patients()[:20]
    fast = [predict(model, patient) for patient in patients]
    monkeypatch.setattr(models, "features_for_courses", build_features)
    for patient, expected in zip(patients, fast, strict=True):
        assert_frame_equal(predict(model, patient), expected, check_exact=True)
