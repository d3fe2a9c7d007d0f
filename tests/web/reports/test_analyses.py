"""The page's analysis sections on hand-made cohorts: filters, defaults and fallbacks."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from carta.web.reports import analyses
from carta.web.reports.analyses import Filters, Options


def _cohort(n: int = 60, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    product = np.where(np.arange(n) % 3 == 0, "z-cel", "axi-cel")
    events = rng.integers(0, 2, n)
    events[product == "z-cel"] = 0  # no deaths after z-cel: no hazard ratio for it
    return pl.DataFrame(
        {
            "os_days": rng.integers(10, 900, n).astype(float),
            "os_event": events,
            "age_at_infusion_years": rng.normal(60, 10, n),
            "sex": np.where(rng.random(n) < 0.5, "female", "male"),
            "prior_lines": rng.integers(1, 6, n),
            "product_code": product,
            "disease": ["lbcl"] * n,
            "center_id": np.where(np.arange(n) % 2 == 0, "BJ", "SH"),
            "infusion_date": [date(2024, 1, 1 + i % 28) for i in range(n)],
        }
    )


def test_filters_keep_the_matching_patients_only() -> None:
    cohort = _cohort()
    shown = analyses.apply_filters(
        cohort,
        Filters(
            product="axi-cel",
            center="BJ",
            infused_from=date(2024, 1, 5),
            infused_to=date(2024, 1, 20),
        ),
    )
    assert shown.height > 0
    assert set(shown["product_code"]) == {"axi-cel"} and set(shown["center_id"]) == {"BJ"}
    assert shown["infusion_date"].is_between(date(2024, 1, 5), date(2024, 1, 20)).all()
    assert analyses.apply_filters(cohort, Filters()).equals(cohort)


def test_the_cox_model_drops_a_grouping_column_it_cannot_estimate_and_says_so() -> None:
    section = analyses.cox_section(_cohort(), Options(group="product_code"))
    assert section.error is None
    assert section.result is not None
    assert "product_code" not in section.extra["covariates"]
    assert any(note.startswith("group_left_out:product_code:") for note in section.notes)


def test_a_constant_covariate_is_left_out_of_the_model() -> None:
    section = analyses.cox_section(_cohort(), Options(group="disease"))
    assert section.extra["left_out"] == ["disease"]
    assert section.result is not None


def test_default_arms_are_the_two_largest_groups_larger_first() -> None:
    assert analyses.default_arms(_cohort(), "product_code") == ("axi-cel", "z-cel")
    assert analyses.default_arms(_cohort(), "disease") is None


def test_an_impossible_analysis_becomes_the_sections_message() -> None:
    section = analyses.compare_section(_cohort(), Options(compare_by="disease"))
    assert section.result is None
    assert section.error is not None and "fewer than two values" in section.error
