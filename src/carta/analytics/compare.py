"""Protocol comparison adjusted for baseline covariates by inverse-probability weighting.

Two protocols (two lymphodepletion doses, two products, two centers ...) are compared as
follows (Austin & Stuart 2015, Stat Med 34:3661; Cole & Hernan 2004):

1. **Propensity**: logistic regression of the protocol on the baseline covariates
   (:func:`carta.analytics.regression.logistic_regression`).
2. **Weights**: ``ATE`` (default) 1/ps for the treated protocol and 1/(1 - ps) for the
   reference; ``ATT`` 1 and ps/(1 - ps). ``stabilized`` multiplies each arm's weights by its
   share of the patients.
3. **Balance**: standardized mean differences of every covariate (each level of a
   categorical one) before and after weighting: (m1 - m0) / sqrt((v1 + v0) / 2) with
   weighted means and variances (0/1 terms: p(1 - p); others: the weighted sample variance
   sum(w) / (sum(w)^2 - sum(w^2)) * sum(w (x - m)^2)). |SMD| < 0.1 is the usual mark of
   balance.
4. **Outcome**: weighted Kaplan-Meier curves per protocol (robust variance) and a weighted
   Cox hazard ratio with the robust (sandwich) CI - R ``survfit(weights = w)`` and
   ``coxph(weights = w, robust = TRUE)`` - beside the unadjusted ones.

The robust variance treats the weights as known; it is conservative for the ATE (Austin
2016). Agreement with R on a committed fixture: ``tests/analytics/test_compare.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from carta.analytics.cohort import (
    CohortError,
    design_matrix,
    group_column,
    require_column,
)
from carta.analytics.regression import (
    CoxModel,
    LogisticModel,
    cox_regression,
    logistic_regression,
)
from carta.analytics.survival import SurvivalCurves, kaplan_meier

ESTIMANDS = ("ATE", "ATT")
TREATED = "_carta_treated"
WEIGHT_COLUMN = "_carta_weight"
BALANCE_THRESHOLD = 0.1


@dataclass(frozen=True, slots=True)
class ProtocolComparison:
    """The result of :func:`compare_protocols`.

    ``arms`` is (reference, compared); ``weights`` holds each analysed patient's input row
    (1-based ``row``), arm, propensity score and weight; ``balance`` one row per covariate
    term with means and SMDs before and after weighting; ``curves`` and
    ``unadjusted_curves`` the Kaplan-Meier curves per arm; ``cox`` and ``unadjusted_cox`` the
    hazard ratio of the compared arm (term ``arm``); ``effective_sample_size`` per arm,
    (sum w)^2 / sum w^2.
    """

    arms: tuple[str, str]
    estimand: str
    stabilized: bool
    covariates: tuple[str, ...]
    propensity: LogisticModel
    weights: pl.DataFrame
    balance: pl.DataFrame
    curves: SurvivalCurves
    unadjusted_curves: SurvivalCurves
    cox: CoxModel
    unadjusted_cox: CoxModel
    effective_sample_size: dict[str, float]
    dropped: int


def default_arms(cohort: pl.DataFrame, column: str) -> tuple[str, str] | None:
    """The two largest groups of ``column`` (reference = the larger; ties by name), or
    ``None`` when the column is absent or has fewer than two groups: the arms a comparison
    takes when the user names none (the report and the Analytics page)."""
    if column not in cohort.columns:
        return None
    counts = (
        cohort.select(pl.col(column).cast(pl.String))
        .drop_nulls()
        .group_by(column)
        .len()
        .sort(["len", column], descending=[True, False])
    )
    if counts.height < 2:
        return None
    first, second = counts[column].head(2).to_list()
    return str(first), str(second)


def compare_protocols(
    frame: pl.DataFrame,
    arm: str,
    time: str,
    event: str,
    covariates: Sequence[str],
    *,
    arms: Sequence[str] | None = None,
    estimand: str = "ATE",
    stabilized: bool = False,
    conf_level: float = 0.95,
) -> ProtocolComparison:
    """Compare the two protocols of column ``arm`` on (``time``, ``event``), adjusted for
    ``covariates`` by inverse-probability weighting.

    ``arms`` picks the two values of ``arm`` to compare, reference first (default: the
    column's two values in their natural order; other values are then an error). Patients
    with a missing covariate are left out (``dropped``).
    """
    if estimand not in ESTIMANDS:
        raise CohortError(f"estimand must be one of {', '.join(ESTIMANDS)}, not {estimand!r}")
    if arm in covariates:
        raise CohortError(f"the protocol column {arm!r} cannot also be a covariate")
    labels, levels = group_column(frame, arm)
    chosen = _two_arms(levels, arms, arm)
    in_arms = labels.is_in(list(chosen))
    design = design_matrix(frame, covariates)
    keep = in_arms & design.keep
    data = frame.with_columns(
        (labels == chosen[1]).cast(pl.Int8).alias(TREATED),
        pl.Series("row", np.arange(1, frame.height + 1)),
    ).filter(keep)
    treated = data[TREATED].cast(pl.Float64).to_numpy()
    for index, name in enumerate(chosen):
        if not np.any(treated == index):
            raise CohortError(f"protocol {name!r} of {arm!r} has no patient with every covariate")
    propensity = logistic_regression(data, TREATED, covariates, conf_level=conf_level)
    score = propensity.fitted.to_numpy()
    weights = _weights(treated, score, estimand, stabilized)
    data = data.with_columns(pl.Series(WEIGHT_COLUMN, weights))
    labelled = data.with_columns(pl.col(arm).cast(pl.String).alias("arm"))
    balance = balance_table(data, covariates, treated, weights)
    curves = kaplan_meier(labelled, time, event, "arm", weight=WEIGHT_COLUMN, conf_level=conf_level)
    unadjusted_curves = kaplan_meier(labelled, time, event, "arm", conf_level=conf_level)
    indicator = data.with_columns(pl.col(TREATED).alias("arm"))
    cox = cox_regression(
        indicator, time, event, ["arm"], weight=WEIGHT_COLUMN, robust=True, conf_level=conf_level
    )
    unadjusted_cox = cox_regression(indicator, time, event, ["arm"], conf_level=conf_level)
    sample_size = {
        name: _effective_size(weights[treated == index]) for index, name in enumerate(chosen)
    }
    return ProtocolComparison(
        arms=chosen,
        estimand=estimand,
        stabilized=stabilized,
        covariates=tuple(covariates),
        propensity=propensity,
        weights=pl.DataFrame(
            {
                "row": data["row"],
                "arm": labelled["arm"],
                "propensity": score,
                "weight": weights,
            }
        ),
        balance=balance,
        curves=curves,
        unadjusted_curves=unadjusted_curves,
        cox=cox,
        unadjusted_cox=unadjusted_cox,
        effective_sample_size=sample_size,
        dropped=int(in_arms.sum()) - data.height,
    )


def _two_arms(levels: tuple[str, ...], arms: Sequence[str] | None, column: str) -> tuple[str, str]:
    if arms is None:
        if len(levels) != 2:
            raise CohortError(
                f"column {column!r} has {len(levels)} values ({', '.join(levels[:10])}); name "
                "the two protocols to compare (reference first)"
            )
        return levels[0], levels[1]
    chosen = tuple(str(value) for value in arms)
    if len(chosen) != 2 or chosen[0] == chosen[1]:
        raise CohortError(f"give two different protocols to compare, not {list(chosen)}")
    absent = [value for value in chosen if value not in levels]
    if absent:
        raise CohortError(
            f"column {column!r} has no value {', '.join(repr(a) for a in absent)}; its values "
            f"are {', '.join(levels[:20])}"
        )
    return chosen[0], chosen[1]


def _weights(
    treated: NDArray[np.float64], score: NDArray[np.float64], estimand: str, stabilized: bool
) -> NDArray[np.float64]:
    if estimand == "ATE":
        weights = np.where(treated == 1, 1 / score, 1 / (1 - score))
    else:
        weights = np.where(treated == 1, 1.0, score / (1 - score))
    if stabilized:
        share = treated.mean()
        weights = weights * np.where(treated == 1, share, 1 - share)
    return np.asarray(weights, dtype=float)


def _effective_size(weights: NDArray[np.float64]) -> float:
    return float(weights.sum() ** 2 / np.sum(weights**2))


def balance_table(
    frame: pl.DataFrame,
    covariates: Sequence[str],
    treated: NDArray[np.float64],
    weights: NDArray[np.float64],
) -> pl.DataFrame:
    """Means and standardized mean differences of each covariate term, before and after
    weighting (every level of a categorical covariate is a term)."""
    rows = []
    for covariate in covariates:
        for term, values in _balance_terms(frame, covariate):
            binary = bool(np.all((values == 0) | (values == 1)))
            row: dict[str, object] = {"covariate": covariate, "term": term}
            for label, w in (("before", np.ones_like(weights)), ("after", weights)):
                means, variances = [], []
                for arm in (1.0, 0.0):
                    x, wx = values[treated == arm], w[treated == arm]
                    mean, variance = _weighted_moments(x, wx, binary)
                    means.append(mean)
                    variances.append(variance)
                pooled = np.sqrt((variances[0] + variances[1]) / 2)
                row[f"mean_treated_{label}"] = means[0]
                row[f"mean_reference_{label}"] = means[1]
                row[f"smd_{label}"] = (means[0] - means[1]) / pooled if pooled > 0 else 0.0
            rows.append(row)
    table = pl.DataFrame(rows)
    return table.with_columns((pl.col("smd_after").abs() < BALANCE_THRESHOLD).alias("balanced"))


def _balance_terms(frame: pl.DataFrame, covariate: str) -> list[tuple[str, NDArray[np.float64]]]:
    """Each level of a categorical covariate, else the covariate's numbers."""
    design = design_matrix(frame, [covariate])
    if covariate not in design.reference:
        return [(covariate, design.matrix[covariate].to_numpy().astype(float))]
    text = require_column(frame, covariate).cast(pl.String)
    levels = [design.reference[covariate]] + [
        term.split("=", 1)[1] for term in design.terms[covariate]
    ]
    return [
        (f"{covariate}={level}", (text == level).cast(pl.Float64).to_numpy()) for level in levels
    ]


def _weighted_moments(
    x: NDArray[np.float64], w: NDArray[np.float64], binary: bool
) -> tuple[float, float]:
    total = w.sum()
    mean = float(w @ x / total)
    if binary:
        return mean, mean * (1 - mean)
    denominator = total**2 - np.sum(w**2)
    variance = float(total / denominator * (w @ (x - mean) ** 2)) if denominator > 0 else 0.0
    return mean, variance
