"""Cox (Efron ties, robust variance, cox.zph) and logistic regression equal to R; Cox
cross-checked with lifelines; models that cannot be estimated are refused."""

from __future__ import annotations

import io

import numpy as np
import polars as pl
import pytest

from carta.analytics.cohort import CohortError, design_matrix
from carta.analytics.plots import forest_plot
from carta.analytics.regression import (
    cox_regression,
    logistic_regression,
    vein_to_vein_association,
)
from tests.analytics.r_fixtures import assert_agrees, read

COEFFICIENTS = ("coef", "se", "hr", "hr_lower", "hr_upper", "z", "p")
# R names a factor's indicator "celltypelarge"; carta "celltype=large".
R_TERMS = {"celltype": "celltype=", "sexmale": "sex=male", "disease": "disease="}


def fixture_frame(name: str) -> pl.DataFrame:
    return pl.read_csv(f"tests/analytics/r_fixtures/{name}")


def r_terms(frame: pl.DataFrame) -> pl.DataFrame:
    term = pl.col("term").str.replace(r"^\(Intercept\)$", "Intercept")
    for r_name, carta_name in R_TERMS.items():
        term = term.str.replace(f"^{r_name}", carta_name, literal=False)
    return frame.with_columns(term.alias("term"))


COX_CASES = [
    ("veteran.csv", ["trt", "karno", "age", "celltype"], None, "cox_veteran"),
    ("lung.csv", ["age", "sex", "ph_ecog", "wt_loss"], None, "cox_lung"),
    ("veteran_weighted.csv", ["trt", "karno", "age"], "w", "cox_veteran_weighted"),
]


@pytest.mark.parametrize(("data", "covariates", "weight", "prefix"), COX_CASES)
def test_cox_equals_r_coxph(
    data: str, covariates: list[str], weight: str | None, prefix: str
) -> None:
    model = cox_regression(fixture_frame(data), "time", "status", covariates, weight=weight)
    expected = r_terms(read(f"{prefix}_coefficients.csv"))
    assert_agrees(model.coefficients, expected, ["term"], COEFFICIENTS)
    assert model.n == expected["n"][0] and model.events == expected["events"][0]
    assert model.log_likelihood == pytest.approx(expected["loglik"][0], rel=1e-9)
    assert model.robust == (weight is not None)


@pytest.mark.parametrize(("data", "covariates", "weight", "prefix"), COX_CASES)
def test_proportional_hazards_test_equals_r_cox_zph(
    data: str, covariates: list[str], weight: str | None, prefix: str
) -> None:
    model = cox_regression(fixture_frame(data), "time", "status", covariates, weight=weight)
    assert model.proportional_hazards is not None
    assert_agrees(
        model.proportional_hazards, read(f"{prefix}_zph.csv"), ["term"], ["chi2", "df", "p"]
    )


def test_missing_covariates_are_left_out_and_counted() -> None:
    frame = fixture_frame("lung.csv")
    model = cox_regression(frame, "time", "status", ["age", "sex", "ph_ecog", "wt_loss"])
    complete = frame.drop_nulls(["age", "sex", "ph_ecog", "wt_loss"])
    assert model.dropped == frame.height - complete.height == 15
    assert model.n == complete.height


def test_cox_agrees_with_lifelines() -> None:
    import pandas as pd
    from lifelines import CoxPHFitter

    frame = fixture_frame("veteran.csv")
    model = cox_regression(frame, "time", "status", ["trt", "karno", "age", "celltype"])
    design = design_matrix(frame, ["trt", "karno", "age", "celltype"]).matrix
    data = pd.DataFrame({name: design[name].to_numpy() for name in design.columns})
    data["time"], data["status"] = frame["time"].to_numpy(), frame["status"].to_numpy()
    fitter = CoxPHFitter().fit(data, "time", "status")
    assert np.allclose(model.coefficients["coef"].to_numpy(), fitter.params_.to_numpy(), atol=1e-4)
    assert np.allclose(
        model.coefficients["se"].to_numpy(), fitter.standard_errors_.to_numpy(), atol=1e-4
    )


def test_cox_does_not_depend_on_row_order() -> None:
    frame = fixture_frame("veteran.csv")
    first = cox_regression(frame, "time", "status", ["karno", "celltype"]).coefficients
    second = cox_regression(frame.reverse(), "time", "status", ["karno", "celltype"]).coefficients
    assert np.allclose(first["coef"].to_numpy(), second["coef"].to_numpy(), atol=1e-10)


@pytest.mark.parametrize(
    ("data", "covariates", "name"),
    [
        ("lung.csv", ["age", "sex", "ph_ecog", "wt_loss"], "logistic_lung.csv"),
        ("veteran.csv", ["karno", "age", "celltype"], "logistic_veteran.csv"),
    ],
)
def test_logistic_equals_r_glm(data: str, covariates: list[str], name: str) -> None:
    model = logistic_regression(fixture_frame(data), "status", covariates)
    expected = r_terms(read(name))
    assert_agrees(
        model.coefficients,
        expected,
        ["term"],
        ["coef", "se", "odds_ratio", "odds_ratio_lower", "odds_ratio_upper", "z", "p"],
    )
    assert model.log_likelihood == pytest.approx(expected["loglik"][0], rel=1e-9)
    assert model.n == expected["n"][0]


def test_categorical_reference_is_the_first_level() -> None:
    model = cox_regression(fixture_frame("veteran.csv"), "time", "status", ["celltype"])
    assert model.reference == {"celltype": "adeno"}
    assert model.terms["celltype"] == ("celltype=large", "celltype=smallcell", "celltype=squamous")


def test_a_level_without_events_is_refused() -> None:
    frame = fixture_frame("veteran.csv").with_columns(
        pl.when(pl.col("celltype") == "large").then(0).otherwise(pl.col("status")).alias("status")
    )
    with pytest.raises(CohortError, match="level 'large' of covariate 'celltype' has no events"):
        cox_regression(frame, "time", "status", ["karno", "celltype"])


def test_unusable_models_are_refused() -> None:
    frame = fixture_frame("veteran.csv")
    with pytest.raises(CohortError, match="'prior' has the same value"):
        cox_regression(frame.with_columns(pl.lit(1).alias("prior")), "time", "status", ["prior"])
    with pytest.raises(CohortError, match="no events"):
        cox_regression(frame.with_columns(pl.lit(0).alias("status")), "time", "status", ["karno"])
    with pytest.raises(CohortError, match="no patient has every covariate"):
        cox_regression(
            frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("karno")),
            "time",
            "status",
            ["karno"],
        )
    with pytest.raises(CohortError, match="no column 'karnofsky'"):
        cox_regression(frame, "time", "status", ["karnofsky"])
    with pytest.raises(CohortError, match=r"same value .* for every patient"):
        logistic_regression(frame.with_columns(pl.lit(1).alias("status")), "status", ["karno"])
    separated = frame.with_columns((pl.col("celltype") == "large").cast(pl.Int8).alias("outcome"))
    with pytest.raises(CohortError, match="complete separation"):
        logistic_regression(separated, "outcome", ["karno", "celltype"])


def test_forest_plot_has_a_row_per_term() -> None:
    model = cox_regression(
        fixture_frame("veteran.csv"), "time", "status", ["trt", "karno", "celltype"]
    )
    figure = forest_plot(model.coefficients, title="veteran")
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == ["trt", "karno", "celltype=large", "celltype=smallcell", "celltype=squamous"]
    figure.savefig(io.BytesIO(), format="png")


def test_vein_to_vein_hazard_ratio_is_per_week() -> None:
    frame = fixture_frame("veteran.csv").rename({"diagtime": "vein_to_vein_days"})
    result = vein_to_vein_association(
        frame, "time", "status", group="celltype", adjusted_for=["karno"]
    )
    per_day = cox_regression(frame, "time", "status", ["vein_to_vein_days", "karno"]).coefficients
    weekly = result.model.coefficients.row(0, named=True)
    assert weekly["term"] == "vein_to_vein_days_per_7"
    assert weekly["coef"] == pytest.approx(7 * per_day["coef"][0], rel=1e-9)
    assert weekly["p"] == pytest.approx(per_day["p"][0], rel=1e-9)
    assert result.distribution["n"].sum() == frame.height
    with pytest.raises(CohortError, match="negative vein-to-vein"):
        vein_to_vein_association(frame.with_columns(-pl.col("vein_to_vein_days")), "time", "status")


def test_logistic_refuses_quasi_complete_separation_that_no_single_covariate_shows() -> None:
    # Two continuous covariates whose sum predicts the outcome exactly: no binary level is
    # pure, so only the fit itself can see the separation; odds ratios would be meaningless.
    rng = np.random.default_rng(3)
    first, second = rng.normal(size=200), rng.normal(size=200)
    frame = pl.DataFrame(
        {"a": first, "b": second, "responded": (first + second > 0).astype(np.int64)}
    )
    with pytest.raises(CohortError, match=r"predict 'responded' \(nearly\) perfectly"):
        logistic_regression(frame, "responded", ["a", "b"])
