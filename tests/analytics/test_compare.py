"""Protocol comparison by inverse-probability weighting, equal to R (glm propensity, weighted
survfit, coxph with robust variance, standardized mean differences by formula)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from carta.analytics.cohort import CohortError
from carta.analytics.compare import compare_protocols
from tests.analytics.r_fixtures import assert_agrees, read

COVARIATES = ["age", "sex", "disease"]


@pytest.fixture(scope="module")
def protocol() -> pl.DataFrame:
    return pl.read_csv("tests/analytics/r_fixtures/protocol.csv")


@pytest.fixture(scope="module")
def comparison(protocol: pl.DataFrame):  # type: ignore[no-untyped-def]
    return compare_protocols(protocol, "ld_dose", "time", "status", COVARIATES)


def test_arms_default_to_the_two_values_in_order(comparison) -> None:  # type: ignore[no-untyped-def]
    assert comparison.arms == ("flu25_cy250", "flu30_cy500")
    assert comparison.dropped == 0


def test_propensity_and_weights_equal_r(comparison) -> None:  # type: ignore[no-untyped-def]
    expected = read("protocol_propensity.csv").with_columns(
        pl.col("term")
        .str.replace(r"^\(Intercept\)$", "Intercept")
        .str.replace("^sexmale$", "sex=male")
        .str.replace("^disease", "disease=")
    )
    assert_agrees(comparison.propensity.coefficients, expected, ["term"], ["coef", "se", "p"])
    weights = comparison.weights.with_columns(pl.col("row").cast(pl.Float64))
    assert_agrees(weights, read("protocol_weights.csv"), ["row"], ["propensity", "weight"])


def test_balance_equals_r(comparison) -> None:  # type: ignore[no-untyped-def]
    columns = [
        "mean_treated_before",
        "mean_reference_before",
        "smd_before",
        "mean_treated_after",
        "mean_reference_after",
        "smd_after",
    ]
    assert_agrees(comparison.balance, read("protocol_balance.csv"), ["term"], columns)
    # Weighting balances what the propensity model adjusts for.
    assert comparison.balance["balanced"].all()
    assert (comparison.balance["smd_before"].abs() > 0.1).any()


def test_weighted_curves_equal_r_survfit(comparison) -> None:  # type: ignore[no-untyped-def]
    expected = read("protocol_weighted_km.csv")
    # R's robust std.err is that of S; carta's that of -log S.
    found = comparison.curves.table.with_columns(
        (pl.col("std_err") * pl.col("survival")).fill_null(0.0).alias("std_err_survival")
    )
    assert_agrees(
        found,
        expected,
        ["group", "time"],
        ["n_risk", "n_event", "survival", "std_err_survival", "lower", "upper"],
    )
    assert comparison.curves.variance == "robust"


def test_hazard_ratios_equal_r_coxph(comparison) -> None:  # type: ignore[no-untyped-def]
    columns = ["coef", "se", "hr", "hr_lower", "hr_upper", "z", "p"]
    for model, name in (
        (comparison.cox, "protocol_weighted_cox"),
        (comparison.unadjusted_cox, "protocol_unadjusted_cox"),
    ):
        found = model.coefficients.with_columns(pl.lit("treated").alias("term"))
        assert_agrees(found, read(f"{name}_coefficients.csv"), ["term"], columns)
    assert comparison.cox.robust and not comparison.unadjusted_cox.robust


def test_effective_sample_size(comparison) -> None:  # type: ignore[no-untyped-def]
    weights = comparison.weights
    for arm, size in comparison.effective_sample_size.items():
        w = weights.filter(pl.col("arm") == arm)["weight"].to_numpy()
        assert size == pytest.approx(w.sum() ** 2 / (w**2).sum())
        assert size < w.size  # weighting costs precision


def test_att_and_stabilized_weights(protocol: pl.DataFrame) -> None:
    att = compare_protocols(protocol, "ld_dose", "time", "status", COVARIATES, estimand="ATT")
    rows = att.weights
    treated = rows.filter(pl.col("arm") == "flu30_cy500")
    assert np.allclose(treated["weight"].to_numpy(), 1.0)
    reference = rows.filter(pl.col("arm") == "flu25_cy250")
    ps = reference["propensity"].to_numpy()
    assert np.allclose(reference["weight"].to_numpy(), ps / (1 - ps))
    stabilized = compare_protocols(
        protocol, "ld_dose", "time", "status", COVARIATES, stabilized=True
    )
    plain = compare_protocols(protocol, "ld_dose", "time", "status", COVARIATES)
    share = protocol.filter(pl.col("ld_dose") == "flu30_cy500").height / protocol.height
    ratio = stabilized.weights["weight"] / plain.weights["weight"]
    is_treated = (plain.weights["arm"] == "flu30_cy500").to_numpy()
    assert np.allclose(ratio.to_numpy()[is_treated], share)
    assert np.allclose(ratio.to_numpy()[~is_treated], 1 - share)


def test_bad_choices_are_refused(protocol: pl.DataFrame) -> None:
    three = protocol.with_columns(
        pl.when(pl.col("age") > 70)
        .then(pl.lit("flu30_cy300"))
        .otherwise(pl.col("ld_dose"))
        .alias("ld_dose")
    )
    with pytest.raises(CohortError, match="has 3 values"):
        compare_protocols(three, "ld_dose", "time", "status", COVARIATES)
    chosen = compare_protocols(
        three, "ld_dose", "time", "status", COVARIATES, arms=["flu25_cy250", "flu30_cy500"]
    )
    assert set(chosen.weights["arm"].unique()) == {"flu25_cy250", "flu30_cy500"}
    with pytest.raises(CohortError, match="no value 'flu99'"):
        compare_protocols(
            protocol, "ld_dose", "time", "status", COVARIATES, arms=["flu25_cy250", "flu99"]
        )
    with pytest.raises(CohortError, match="cannot also be a covariate"):
        compare_protocols(protocol, "ld_dose", "time", "status", ["age", "ld_dose"])
    with pytest.raises(CohortError, match="estimand"):
        compare_protocols(protocol, "ld_dose", "time", "status", COVARIATES, estimand="ATC")
