"""Baseline CAR-HEMATOTOX and EASIX from the labs before lymphodepletion (the adapter)."""

from __future__ import annotations

import pytest

from carta.web.registry.adapters import baseline_scores

LABS = {
    "anc_per_ul": 900.0,
    "platelets_per_ul": 60_000.0,
    "hemoglobin_g_dl": 8.5,
    "crp_mg_dl": 4.0,
    "ferritin_ng_ml": 2500.0,
    "ldh_u_l": 400.0,
    "creatinine_mg_dl": 1.2,
}


def test_the_latest_value_before_lymphodepletion_is_used() -> None:
    days = [
        {"day": -9, **LABS},
        {"day": -6, "anc_per_ul": 2000.0},  # the latest ANC before day -5
        {"day": -4, "anc_per_ul": 100.0},  # during lymphodepletion: not baseline
        {"day": 1, "platelets_per_ul": 10_000.0},
    ]
    scores = baseline_scores(days, lymphodepletion_first_day=-5)
    assert scores.lab_days["anc_per_ul"] == -6
    assert scores.lab_days["platelets_per_ul"] == -9
    # platelets 2 + hemoglobin 1 + CRP 1 + ferritin 2; ANC 2000 earns 0
    assert scores.car_hematotox.score == 6
    assert scores.car_hematotox.risk_group == "high"
    assert scores.easix.value == pytest.approx(400.0 * 1.2 / 60.0)
    assert scores.easix.above_korell_4_67 is True
    assert scores.m_easix.value == pytest.approx(400.0 * 4.0 / 60.0)


def test_without_lymphodepletion_the_days_before_the_infusion_count() -> None:
    scores = baseline_scores([{"day": -1, **LABS}, {"day": 0, "anc_per_ul": 5000.0}], None)
    assert scores.lab_days["anc_per_ul"] == -1


def test_a_missing_lab_leaves_the_score_unknown_and_says_so() -> None:
    labs = {key: value for key, value in LABS.items() if key != "ldh_u_l"}
    scores = baseline_scores([{"day": -6, **labs}], -5)
    assert scores.easix.status == "cannot_compute"
    assert scores.easix.missing == ("ldh_U_L",)
    assert scores.car_hematotox.ok


def test_no_rows_at_all() -> None:
    scores = baseline_scores([], -5)
    assert scores.lab_days == {}
    assert not scores.car_hematotox.ok
