"""The report's baseline labs: the same window as the patient page (ADR 0237)."""

from __future__ import annotations

import polars as pl

from carta.analytics.report.source import latest_baseline_labs


def _days(rows: list[tuple[int, int, int | None, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "patient_id": pl.Int64,
            "day": pl.Int64,
            "ld_first_day": pl.Int64,
            "crp": pl.Float64,
        },
        orient="row",
    )


def test_latest_value_on_or_before_lymphodepletion_start() -> None:
    days = _days([(1, -7, -5, 1.0), (1, -5, -5, 2.0), (1, -4, -5, 3.0), (1, 0, -5, 4.0)])
    labs = latest_baseline_labs(days, {"crp": "crp_mg_dL"})
    assert labs.to_dicts() == [{"patient_id": 1, "baseline_crp_mg_dL": 2.0}]


def test_without_lymphodepletion_the_latest_value_before_day_0() -> None:
    days = _days([(2, -3, None, 1.0), (2, -1, None, 5.0), (2, 0, None, 9.0)])
    labs = latest_baseline_labs(days, {"crp": "crp_mg_dL"})
    assert labs["baseline_crp_mg_dL"].to_list() == [5.0]


def test_missing_values_fall_back_to_the_latest_known_and_else_stay_unknown() -> None:
    days = _days([(3, -6, -2, 7.0), (3, -2, -2, None), (4, -1, None, None)])
    labs = latest_baseline_labs(days, {"crp": "crp_mg_dL"})
    assert labs.sort("patient_id")["baseline_crp_mg_dL"].to_list() == [7.0, None]
