"""Features use only the past; missing values are explicit; labels look at the next 5 days."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.features import (
    CARRIED_FORWARD,
    MISSING_INPUTS,
    build_features,
    input_of,
    label_frame,
)
from tests.analytics.forecast.helpers import days, synthetic_frame


def feature(frame: pl.DataFrame, name: str) -> list[float | None]:
    return build_features(frame).frame[name].to_list()


def test_last_value_is_carried_forward_with_indicators() -> None:
    frame = days("A", {c.CRP_MG_DL: [None, 2.0, None, None, 5.0]})
    features = build_features(frame).frame
    last = features[f"{c.CRP_MG_DL}__last"].to_list()
    assert last[0] is None
    assert last[1:4] == pytest.approx([math.log1p(2.0)] * 3)
    assert last[4] == pytest.approx(math.log1p(5.0))
    assert features[f"{c.CRP_MG_DL}__never"].to_list() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert features[f"{c.CRP_MG_DL}__missing_today"].to_list() == [1.0, 0.0, 1.0, 1.0, 0.0]


def test_missing_and_carried_inputs_are_listed_per_row() -> None:
    frame = days("A", {c.TEMPERATURE_C: [37.0, None, 38.2], c.CRP_MG_DL: [None, None, 1.0]})
    features = build_features(frame).frame
    missing = features[MISSING_INPUTS].to_list()
    carried = features[CARRIED_FORWARD].to_list()
    assert c.CRP_MG_DL in missing[0] and c.CRP_MG_DL in missing[1]
    assert c.CRP_MG_DL not in missing[2]
    assert c.TEMPERATURE_C not in missing[1]  # carried from day 0, not missing
    assert carried[1] == [c.TEMPERATURE_C]
    assert carried[0] == [] and carried[2] == []
    # Inputs with no column at all are missing everywhere (never a silent normal value).
    assert all(c.IL6_PG_ML in row and c.AGE_YEARS in row for row in missing)


def test_maximum_and_trend_use_the_last_two_values_and_their_days() -> None:
    frame = days("A", {c.TEMPERATURE_C: [37.0, None, 39.0, 38.0]})
    features = build_features(frame).frame
    assert features[f"{c.TEMPERATURE_C}__max"].to_list() == [37.0, 37.0, 39.0, 39.0]
    slope = features[f"{c.TEMPERATURE_C}__slope"].to_list()
    assert slope[0] is None and slope[1] is None  # one value so far: trend unknown
    assert slope[2] == pytest.approx(1.0)  # (39 - 37) / 2 days
    assert slope[3] == pytest.approx(-1.0)
    assert features[f"{c.TEMPERATURE_C}__trend_missing"].to_list() == [1.0, 1.0, 0.0, 0.0]


def test_patient_level_inputs_are_never_filled_backwards() -> None:
    frame = days("A", {c.AGE_YEARS: [None, None, 61.0, None], c.DISEASE: [None, "mm", None, None]})
    features = build_features(frame).frame
    assert features[f"{c.AGE_YEARS}__value"].to_list() == [None, None, 61.0, 61.0]
    assert features[f"{c.AGE_YEARS}__missing"].to_list() == [1.0, 1.0, 0.0, 0.0]
    assert features[f"{c.DISEASE}__mm"].to_list() == [0.0, 1.0, 1.0, 1.0]
    assert features[f"{c.DISEASE}__missing"].to_list() == [1.0, 0.0, 0.0, 0.0]


def test_a_level_unseen_in_training_counts_as_missing() -> None:
    frame = days("A", {c.DISEASE: ["cll", "cll"]})
    features = build_features(frame, {c.DISEASE: ("lbcl", "mm")}).frame
    assert features[f"{c.DISEASE}__lbcl"].to_list() == [0.0, 0.0]
    assert features[f"{c.DISEASE}__missing"].to_list() == [1.0, 1.0]
    assert f"{c.DISEASE}__cll" not in features.columns


def test_crs_so_far_uses_summary_facts_only_from_the_day_they_are_known() -> None:
    summary = {c.CRS_PEAK_GRADE: [2] * 6, c.CRS_ONSET_DAY: [2] * 6, c.CRS_PEAK_DAY: [4] * 6}
    crs = feature(days("A", summary), "crs_so_far__max")
    assert crs == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]


def test_rows_come_back_in_input_order() -> None:
    frame = pl.concat([days("B", {c.CRP_MG_DL: [1.0, 2.0]}), days("A", {c.CRP_MG_DL: [3.0, 4.0]})])
    shuffled = frame[[3, 0, 2, 1]]
    features = build_features(shuffled).frame
    assert (
        features.select(c.PATIENT_ID, c.DAY).rows() == shuffled.select(c.PATIENT_ID, c.DAY).rows()
    )


def test_every_feature_names_its_input() -> None:
    features = build_features(synthetic_frame())
    inputs = {input_of(name) for name in features.columns}
    assert {c.TEMPERATURE_C, c.CRP_MG_DL, c.RECORDED_ICANS_GRADE, c.DAY, c.DISEASE} <= inputs


# --- leakage -------------------------------------------------------------------------------------


def _features_up_to(frame: pl.DataFrame, cut: int) -> pl.DataFrame:
    features = build_features(frame)
    return (
        features.frame.drop(MISSING_INPUTS, CARRIED_FORWARD)
        .filter(pl.col(c.DAY) <= cut)
        .sort(c.PATIENT_ID, c.DAY)
    )


@pytest.mark.parametrize("cut", [0, 3, 8])
def test_future_rows_shuffled_altered_or_removed_change_no_earlier_feature(cut: int) -> None:
    frame = synthetic_frame()
    before = _features_up_to(frame, cut)
    rng = np.random.default_rng(cut)
    future = frame.filter(pl.col(c.DAY) > cut)
    numbers = [c.TEMPERATURE_C, c.CRP_MG_DL, c.FERRITIN_NG_ML, c.IL6_PG_ML]
    altered = future.with_columns(
        *(pl.Series(name, rng.uniform(0, 40, future.height)) for name in numbers),
        pl.Series(c.RECORDED_ICANS_GRADE, rng.integers(0, 5, future.height)),
        pl.Series(c.RECORDED_CRS_GRADE, rng.integers(0, 5, future.height)),
        pl.lit(True).alias(c.TOCILIZUMAB_GIVEN),
        pl.lit(99.0).alias(c.AGE_YEARS),
        pl.lit("mm").cast(frame.schema[c.DISEASE]).alias(c.DISEASE),
    )
    kept = future.sample(fraction=0.5, seed=cut)  # half the future rows removed
    for changed_future in (altered, kept, future.sample(fraction=1.0, shuffle=True, seed=1)):
        past = frame.filter(pl.col(c.DAY) <= cut)
        changed = pl.concat([changed_future, past]).sample(fraction=1.0, shuffle=True, seed=2)
        after = _features_up_to(changed, cut)
        assert after.equals(before)


def test_the_leakage_check_itself_can_fail() -> None:
    """Data that reads the future (a backward fill) is caught by the same comparison."""
    frame = synthetic_frame()

    def backward_filled(source: pl.DataFrame) -> pl.DataFrame:
        return source.sort(c.PATIENT_ID, c.DAY).with_columns(
            pl.col(c.CRP_MG_DL).backward_fill().over(c.PATIENT_ID)
        )

    future_changed = frame.with_columns(
        pl.when(pl.col(c.DAY) > 3)
        .then(pl.col(c.CRP_MG_DL) * 10)
        .otherwise(pl.col(c.CRP_MG_DL))
        .alias(c.CRP_MG_DL)
    )
    assert _features_up_to(frame, 3).equals(_features_up_to(future_changed, 3))
    assert not _features_up_to(backward_filled(frame), 3).equals(
        _features_up_to(backward_filled(future_changed), 3)
    )


# --- labels --------------------------------------------------------------------------------------


def test_icans_labels_look_at_the_next_five_days_only() -> None:
    grades = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0]
    labels = label_frame(days("A", {c.RECORDED_ICANS_GRADE: grades}))
    # Day 0: days 1-5 all 0 -> 0; day 1: days 2-6 include the 1 on day 6 -> 1.
    assert labels[c.ICANS_ANY].to_list()[:6] == [0, 1, 1, 1, 1, 1]
    # Severe: the 3 on day 10 is within 5 days of days 5-9.
    assert labels[c.ICANS_SEVERE].to_list()[:10] == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    # Day 7 onwards: fewer than 5 days follow, no event in them (days 11): unknown.
    assert labels[c.ICANS_ANY].to_list()[11] is None


def test_a_day_without_a_grade_makes_a_negative_window_unknown() -> None:
    grades = [0, 0, None, 0, 0, 0, 0, 0]
    labels = label_frame(days("A", {c.RECORDED_ICANS_GRADE: grades}))[c.ICANS_ANY].to_list()
    assert labels[0] is None  # days 1-5 include the ungraded day 2
    assert labels[2] == 0  # days 3-7 all graded 0


def test_a_gap_in_days_is_unknown_too() -> None:
    frame = days("A", {c.RECORDED_ICANS_GRADE: [0] * 12}).filter(pl.col(c.DAY) != 3)
    labels = dict(
        zip(frame[c.DAY].to_list(), label_frame(frame)[c.ICANS_ANY].to_list(), strict=True)
    )
    assert labels[0] is None and labels[2] is None  # their windows include the absent day 3
    assert labels[4] == 0  # days 5-9 all present and graded 0


def test_crs_labels_from_daily_grades_and_from_a_summary() -> None:
    daily = label_frame(days("A", {c.RECORDED_CRS_GRADE: [0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0]}))
    assert daily[c.CRS_2].to_list()[:3] == [1, 1, 0]
    summary = {c.CRS_PEAK_GRADE: [3] * 12, c.CRS_ONSET_DAY: [2] * 12, c.CRS_PEAK_DAY: [8] * 12}
    labels = label_frame(days("B", summary))[c.CRS_2].to_list()
    assert labels[0] is None  # CRS starts day 2; its grade before the peak is not recorded
    assert labels[3] == 1 and labels[7] == 1  # peak (day 8) within days d+1..d+5
    assert labels[8] is None  # peak passed: whether grade >= 2 continued is unknown
    late = {c.CRS_PEAK_GRADE: [2] * 10, c.CRS_ONSET_DAY: [9] * 10, c.CRS_PEAK_DAY: [9] * 10}
    assert label_frame(days("C", late))[c.CRS_2].to_list()[:5] == [0, 0, 0, 0, 1]
    mild = {c.CRS_PEAK_GRADE: [1] * 3, c.CRS_ONSET_DAY: [1] * 3, c.CRS_PEAK_DAY: [1] * 3}
    assert label_frame(days("D", mild))[c.CRS_2].to_list() == [0, 0, 0]


def test_labels_do_not_mix_patients() -> None:
    frame = pl.concat(
        [days("A", {c.RECORDED_ICANS_GRADE: [0] * 3}), days("B", {c.RECORDED_ICANS_GRADE: [4] * 9})]
    )
    labels = label_frame(frame)
    assert labels[c.ICANS_ANY].to_list()[:3] == [None, None, None]
