"""Kaplan-Meier curves, medians, landmark estimates, numbers at risk, the log-rank test and
the restricted mean survival time - vectorised, and equal to R's ``survival`` package.

Every estimate is computed from one aggregation of the data to (group, distinct time) counts
and cumulative sums over it (Polars, then NumPy on the small aggregated table), so a national
cohort of a million patients takes a fraction of a second. Agreement with R (``survfit``,
``print.survfit``, ``summary.survfit``, ``survdiff``; survival 3.5) is tested to 1e-6 on
committed fixtures (``tests/analytics/r_fixtures``).

Methods (docs/analytics.md has the formulas):

* **Kaplan-Meier** with the Greenwood variance of the cumulative hazard (Kaplan & Meier 1958;
  Greenwood 1926) or, for weighted data, the infinitesimal-jackknife (robust) variance R uses
  for non-integer case weights (ADR 0303). Times are distinct values of the time column;
  events come before censorings at the same time (censored patients are at risk at their own
  time).
* **Confidence intervals**: log-log (Kalbfleisch & Prentice 1980), R's
  ``conf.type = "log-log"``: ``S ** exp(+-z * se / log S)``. Where S = 1 the interval is
  [1, 1]; where S = 0 it is undefined (null), as are the standard error and the interval after
  the curve reaches 0 (R reports ``NA``/``Inf``) - ADR 0302.
* **Median and its CI**: R's ``print.survfit`` rule (Brookmeyer & Crowley 1982): the first
  time the curve (the lower, the upper confidence curve) is at or below 0.5; where the curve
  is exactly 0.5 over an interval, the midpoint of that interval.
* **Landmarks** and **numbers at risk** at given times: ``summary.survfit(times=)``.
* **Log-rank** test for k groups (Mantel 1966; Peto & Peto 1972), ``survdiff(rho = 0)``.
* **RMST** up to ``tau`` with R's ``print.survfit(rmean = tau)`` variance (Klein &
  Moeschberger 2003, section 4.5) and a normal-approximation CI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import special

from carta.analytics.cohort import (
    ALL,
    EVENT,
    GROUP,
    TIME,
    WEIGHT,
    CohortError,
    survival_data,
)

GREENWOOD = "greenwood"
ROBUST = "robust"
VARIANCES = (GREENWOOD, ROBUST)
MEDIAN_TOLERANCE = float(np.sqrt(np.finfo(float).eps))  # R: .Machine$double.eps^0.5
CURVE_COLUMNS = (
    GROUP,
    TIME,
    "n_risk",
    "n_event",
    "n_censor",
    "survival",
    "std_err",
    "lower",
    "upper",
)
SUMMARY_COLUMNS = (GROUP, "n", "events", "median", "median_lower", "median_upper")


def z_value(conf_level: float) -> float:
    """The normal quantile of a two-sided ``conf_level`` interval (1.96 for 0.95)."""
    if not 0 < conf_level < 1:
        raise CohortError(f"the confidence level must be between 0 and 1, not {conf_level}")
    return float(special.ndtri(1 - (1 - conf_level) / 2))


def round_ticks(end: float, count: int = 6) -> list[float]:
    """About ``count`` round positions (steps of 1, 2, 2.5 or 5 times a power of ten) from 0
    to ``end``: for axis ticks, the number-at-risk table and default landmark times."""
    if end <= 0:
        return [0.0]
    raw = end / (count - 1)
    magnitude = 10 ** np.floor(np.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    return [float(t) for t in np.arange(0, end + step / 2, step)]


@dataclass(frozen=True, slots=True)
class SurvivalCurves:
    """Kaplan-Meier curves of one or more groups.

    ``table`` has one row per group and distinct time (:data:`CURVE_COLUMNS`): numbers at
    risk, events and censorings at that time (weighted sums when weighted), survival, the
    standard error of ``-log S`` and the confidence limits. ``summary`` has one row per group
    (:data:`SUMMARY_COLUMNS`; ``n`` and ``events`` count patients). ``levels`` is the order of
    the groups.
    """

    table: pl.DataFrame
    summary: pl.DataFrame
    levels: tuple[str, ...]
    conf_level: float
    variance: str
    weighted: bool

    def curve(self, group: str = ALL) -> pl.DataFrame:
        """The rows of one group."""
        if group not in self.levels:
            raise KeyError(f"no group {group!r}; the groups are {', '.join(self.levels)}")
        return self.table.filter(pl.col(GROUP) == group)

    def at(self, times: Sequence[float]) -> pl.DataFrame:
        """Landmark estimates: survival, its CI and the number at risk at each time.

        Before the first time the curve is 1; after the last observed time of a group the
        estimate is unknown (null; ``summary.survfit(times=)`` leaves such times out) unless
        the curve has reached 0 there.
        """
        rows = []
        for group in self.levels:
            curve = self.curve(group)
            observed = curve[TIME].to_numpy()
            at_risk = _at_risk(observed, curve["n_risk"].to_numpy(), times)
            index = np.searchsorted(observed, np.asarray(times, dtype=float), side="right") - 1
            for position, time in enumerate(times):
                row: dict[str, object] = {GROUP: group, TIME: float(time)}
                row["n_risk"] = float(at_risk[position])
                if time > observed[-1]:
                    # Unknown beyond the last follow-up, unless the curve has reached 0.
                    final = 0.0 if curve["survival"][-1] == 0 else None
                    row.update(survival=final, std_err=None, lower=None, upper=None)
                elif index[position] < 0:
                    row.update(survival=1.0, std_err=0.0, lower=1.0, upper=1.0)
                else:
                    found = curve.row(int(index[position]), named=True)
                    row.update(
                        {name: found[name] for name in ("survival", "std_err", "lower", "upper")}
                    )
                rows.append(row)
        return pl.DataFrame(rows, schema=_LANDMARK_SCHEMA, orient="row")

    def number_at_risk(self, times: Sequence[float]) -> pl.DataFrame:
        """Patients (weighted) still followed at each time, per group (``group``, ``time``,
        ``n_risk``): for the table under a plot."""
        rows = []
        for group in self.levels:
            curve = self.curve(group)
            at_risk = _at_risk(curve[TIME].to_numpy(), curve["n_risk"].to_numpy(), times)
            rows += [
                {GROUP: group, TIME: float(time), "n_risk": float(count)}
                for time, count in zip(times, at_risk, strict=True)
            ]
        return pl.DataFrame(
            rows, schema={GROUP: pl.String, TIME: pl.Float64, "n_risk": pl.Float64}, orient="row"
        )

    def _last(self, group: str) -> tuple[float, float]:
        """The last observed time of ``group`` and the survival there."""
        time, survival = self.curve(group).select(TIME, "survival").row(-1)
        return float(time), float(survival)

    def rmst(self, tau: float | None = None) -> pl.DataFrame:
        """Restricted mean survival time up to ``tau`` per group, with its standard error and
        CI (``print.survfit(rmean = tau)``).

        ``tau`` defaults to the smallest of the groups' last observed times and may not exceed
        the last observed time of a group whose curve is still above 0 (the curve is unknown
        beyond it).
        """
        last = {group: self._last(group) for group in self.levels}
        horizon = min(time for time, _ in last.values()) if tau is None else float(tau)
        if horizon <= 0:
            raise CohortError(f"the RMST horizon must be positive, not {horizon:g}")
        beyond = [group for group, (time, final) in last.items() if horizon > time and final > 0]
        if beyond:
            raise CohortError(
                f"the RMST horizon {horizon:g} is beyond the last follow-up time of group(s) "
                f"{', '.join(beyond)} ({', '.join(f'{last[g][0]:g}' for g in beyond)}); choose "
                "a horizon at most the shortest follow-up"
            )
        z = z_value(self.conf_level)
        rows = []
        for group in self.levels:
            curve = self.curve(group)
            estimate, se = _rmst(
                curve[TIME].to_numpy(),
                curve["survival"].to_numpy(),
                curve["n_risk"].to_numpy(),
                curve["n_event"].to_numpy(),
                horizon,
            )
            rows.append(
                {
                    GROUP: group,
                    "tau": horizon,
                    "rmst": estimate,
                    "std_err": se,
                    "lower": estimate - z * se,
                    "upper": estimate + z * se,
                }
            )
        return pl.DataFrame(rows)


_LANDMARK_SCHEMA = {
    GROUP: pl.String,
    TIME: pl.Float64,
    "n_risk": pl.Float64,
    "survival": pl.Float64,
    "std_err": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
}


def kaplan_meier(
    frame: pl.DataFrame,
    time: str,
    event: str,
    group: str | None = None,
    *,
    weight: str | None = None,
    conf_level: float = 0.95,
    variance: str | None = None,
) -> SurvivalCurves:
    """Kaplan-Meier curves of ``frame`` (``event``: 1 event, 0 censored), per ``group``.

    ``weight`` names a column of case weights (inverse-probability weights, for example);
    ``variance`` is ``"greenwood"`` (default without weights) or ``"robust"`` (the
    infinitesimal jackknife; default with weights, as R does for non-integer weights).
    """
    data, levels = survival_data(frame, time, event, group, weight=weight)
    return kaplan_meier_data(data, levels, conf_level=conf_level, variance=variance)


def kaplan_meier_data(
    data: pl.DataFrame,
    levels: tuple[str, ...],
    *,
    conf_level: float = 0.95,
    variance: str | None = None,
) -> SurvivalCurves:
    """:func:`kaplan_meier` on checked data (columns of :func:`carta.analytics.cohort.survival_data`)."""
    weighted = WEIGHT in data.columns
    chosen = variance or (ROBUST if weighted else GREENWOOD)
    if chosen not in VARIANCES:
        raise CohortError(f"unknown variance {chosen!r}; expected one of {', '.join(VARIANCES)}")
    z = z_value(conf_level)
    table, counts = _km_table(data, weighted=weighted, robust=chosen == ROBUST, z=z)
    medians = _medians(table)
    summary = (
        pl.DataFrame({GROUP: list(levels)})
        .join(counts, on=GROUP, how="left")
        .join(medians, on=GROUP, how="left")
        .select(SUMMARY_COLUMNS)
    )
    return SurvivalCurves(
        table=table,
        summary=summary,
        levels=levels,
        conf_level=conf_level,
        variance=chosen,
        weighted=weighted,
    )


def _km_table(
    data: pl.DataFrame, *, weighted: bool, robust: bool, z: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per group and distinct time: counts, survival, std_err (-log S) and CI; and
    the patients and events per group (``n``, ``events``), from the same aggregation."""
    is_event = pl.col(EVENT) == 1
    if weighted:
        weight = pl.col(WEIGHT)
        aggregations = [
            pl.when(is_event).then(weight).otherwise(0.0).sum().alias("n_event"),
            weight.sum().alias("_exits"),
        ]
    else:
        aggregations = [
            is_event.sum().cast(pl.Float64).alias("n_event"),
            pl.len().cast(pl.Float64).alias("_exits"),
        ]
    if robust:
        squared = weight * weight
        aggregations += [
            pl.when(is_event).then(squared).otherwise(0.0).sum().alias("_w2_event"),
            pl.when(is_event).then(0.0).otherwise(squared).sum().alias("_w2_censor"),
        ]
    by_group = pl.col(GROUP)
    n_risk, n_event = pl.col("n_risk"), pl.col("n_event")
    # Greenwood's increment d / (n (n - d)); R sets it to 0 where n = d (the curve reaches 0).
    increment = (
        pl.when(n_risk > n_event).then(n_event / (n_risk * (n_risk - n_event))).otherwise(0.0)
    )
    aggregations += [
        pl.len().cast(pl.Int64).alias("_records"),
        is_event.sum().cast(pl.Int64).alias("_event_records"),
    ]
    # The only pass over the patients; everything after works on (group, time) rows.
    aggregated = data.lazy().group_by(GROUP, TIME).agg(aggregations).sort(GROUP, TIME).collect()
    counts = (
        aggregated.group_by(GROUP)
        .agg(pl.col("_records").sum().alias("n"), pl.col("_event_records").sum().alias("events"))
        .with_columns(pl.col(GROUP).cast(pl.String))
    )
    table = (
        aggregated.lazy()
        .with_columns(pl.col("_exits").cum_sum(reverse=True).over(by_group).alias("n_risk"))
        .with_columns(
            (pl.col("_exits") - n_event).alias("n_censor"),
            (1.0 - n_event / n_risk).cum_prod().over(by_group).alias("survival"),
            increment.cum_sum().over(by_group).alias("_greenwood"),
        )
    )
    if robust:
        table = table.with_columns(_robust_variance().alias("_variance"))
    else:
        table = table.with_columns(pl.col("_greenwood").alias("_variance"))
    survival = pl.col("survival")
    std_err = pl.when(survival > 0).then(pl.col("_variance").sqrt())
    table = table.with_columns(std_err.alias("std_err")).with_columns(
        _log_log(survival, pl.col("std_err"), -z).alias("lower"),
        _log_log(survival, pl.col("std_err"), z).alias("upper"),
    )
    result = table.with_columns(pl.col(GROUP).cast(pl.String)).select(CURVE_COLUMNS).collect()
    if not weighted:
        result = result.with_columns(pl.col("n_risk", "n_event", "n_censor").cast(pl.Int64))
    return result, counts


def _robust_variance() -> pl.Expr:
    """Infinitesimal-jackknife variance of log S (ADR 0303).

    Patient i's influence on log S(t) is A(min(t, T_i)) - delta_i [T_i <= t] / (n - d)(T_i),
    with A the cumulative Greenwood increment; summing the squared weighted influences
    groups the patients still at risk (A(t)^2 times their squared weights) and those who
    left at each earlier time (a cumulative sum).
    """
    by_group = pl.col(GROUP)
    greenwood = pl.col("_greenwood")
    remaining = pl.col("n_risk") - pl.col("n_event")
    left_inverse = pl.when(remaining > 0).then(1.0 / remaining).otherwise(0.0)
    squared_after = (pl.col("_w2_event") + pl.col("_w2_censor")).cum_sum(reverse=True).over(
        by_group
    ) - (pl.col("_w2_event") + pl.col("_w2_censor"))
    departed = (
        (
            greenwood.pow(2) * pl.col("_w2_censor")
            + (greenwood - left_inverse).pow(2) * pl.col("_w2_event")
        )
        .cum_sum()
        .over(by_group)
    )
    return greenwood.pow(2) * squared_after + departed


def _log_log(estimate: pl.Expr, std_err: pl.Expr, signed_z: float) -> pl.Expr:
    """A log-log confidence limit of a probability ``estimate`` with ``std_err`` of -log S.

    R's ``survfit_confint(conf.type = "log-log")``; [1, 1] where the estimate is 1 (the
    standard error is 0 there), null where it is 0.
    """
    log_estimate = estimate.log()
    limit = (-((-log_estimate).log() + signed_z * std_err / log_estimate).exp()).exp()
    return pl.when(estimate >= 1.0).then(1.0).when(estimate > 0).then(limit).otherwise(None)


def _medians(table: pl.DataFrame) -> pl.DataFrame:
    """Median and its CI per group: R's ``minmin`` on the curve and on its two limits."""
    return table.group_by(GROUP, maintain_order=True).agg(
        _first_below_half(pl.col("survival")).alias("median"),
        _first_below_half(pl.col("lower")).alias("median_lower"),
        _first_below_half(pl.col("upper")).alias("median_upper"),
    )


def _first_below_half(curve: pl.Expr) -> pl.Expr:
    """The first time ``curve`` <= 0.5; the midpoint to the next drop if it is exactly 0.5."""
    below = curve.is_not_null() & (curve < 0.5 + MEDIAN_TOLERANCE)
    first_time = pl.col(TIME).filter(below).first()
    first_value = curve.filter(below).first()
    next_time = pl.col(TIME).filter(below & (curve < first_value)).first()
    at_half = ((first_value - 0.5).abs() < MEDIAN_TOLERANCE) & next_time.is_not_null()
    return pl.when(at_half).then((first_time + next_time) / 2).otherwise(first_time)


def _at_risk(
    observed: NDArray[np.float64], n_risk: NDArray[np.float64], times: Sequence[float]
) -> NDArray[np.float64]:
    """Number at risk at each time: that of the first observed time >= t, else 0."""
    index = np.searchsorted(observed, np.asarray(times, dtype=float), side="left")
    padded = np.append(n_risk.astype(float), 0.0)
    return np.asarray(padded[index], dtype=float)


def _rmst(
    times: NDArray[np.float64],
    survival: NDArray[np.float64],
    n_risk: NDArray[np.float64],
    n_event: NDArray[np.float64],
    tau: float,
) -> tuple[float, float]:
    """Area under the curve from 0 to ``tau`` and R's ``survmean`` standard error.

    Var = sum over times t_k <= tau of d/(n(n-d)) * (area from t_k to tau)^2.
    """
    keep = times <= tau
    step_times = np.append(times[keep], tau)
    step_values = np.append(survival[keep], survival[keep][-1] if keep.any() else 1.0)
    start = min(0.0, float(times.min()))
    widths = np.diff(np.concatenate([[start], step_times]))
    heights = np.concatenate([[1.0], step_values[:-1]])
    rectangles = widths * heights
    n = n_risk[keep].astype(float)
    d = n_event[keep].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(n - d > 0, d / (n * (n - d)), 0.0)
    # Area from each time t_k to tau: the rectangles after k.
    area_after = np.cumsum(rectangles[::-1])[::-1][1:]
    variance = float(np.sum(hazard * area_after**2))
    return float(rectangles.sum()) + start, float(np.sqrt(variance))


# --- log-rank -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRank:
    """The k-group log-rank test: ``chi2`` on ``df`` degrees of freedom, p value ``p``, and per
    group (``table``) the patients, observed and expected events."""

    chi2: float
    df: int
    p: float
    table: pl.DataFrame


def log_rank(frame: pl.DataFrame, time: str, event: str, group: str) -> LogRank:
    """Log-rank test of equal survival across the groups of ``group`` (``survdiff``)."""
    data, levels = survival_data(frame, time, event, group)
    return log_rank_data(data, levels, group_name=group)


def log_rank_data(data: pl.DataFrame, levels: tuple[str, ...], group_name: str = GROUP) -> LogRank:
    """:func:`log_rank` on checked data."""
    if len(levels) < 2:
        raise CohortError(f"the log-rank test needs at least two groups; {group_name!r} has one")
    if WEIGHT in data.columns:
        data = data.drop(WEIGHT)
    return log_rank_from_curves(kaplan_meier_data(data, levels), group_name=group_name)


def log_rank_from_curves(curves: SurvivalCurves, group_name: str = GROUP) -> LogRank:
    """The log-rank test from unweighted Kaplan-Meier curves: their per-time counts are all
    it needs, so a cohort aggregated once gives both (the CLI and benchmark do this)."""
    if curves.weighted:
        raise CohortError("the log-rank test is for unweighted data")
    levels = curves.levels
    if len(levels) < 2:
        raise CohortError(f"the log-rank test needs at least two groups; {group_name!r} has one")
    if int(curves.summary["events"].sum()) == 0:
        raise CohortError("the log-rank test needs events; there are none (every time is censored)")
    table = curves.table
    times = np.unique(table[TIME].to_numpy())
    column = {level: index for index, level in enumerate(levels)}
    row = np.searchsorted(times, table[TIME].to_numpy())
    col = table[GROUP].replace_strict(column, return_dtype=pl.Int64).to_numpy()
    shape = (times.size, len(levels))
    deaths = np.zeros(shape)
    exits = np.zeros(shape)
    np.add.at(deaths, (row, col), table["n_event"].to_numpy().astype(float))
    np.add.at(exits, (row, col), (table["n_event"] + table["n_censor"]).to_numpy().astype(float))
    at_risk = np.cumsum(exits[::-1], axis=0)[::-1]
    observed, expected, variance = _log_rank_sums(deaths, at_risk)
    chi2, df = _chi_square(observed, expected, variance)
    result = pl.DataFrame({GROUP: list(levels), "observed": observed, "expected": expected}).join(
        curves.summary.select(GROUP, "n"), on=GROUP, how="left"
    )
    p = float(special.chdtrc(df, chi2)) if df > 0 else float("nan")
    return LogRank(chi2=chi2, df=df, p=p, table=result.select(GROUP, "n", "observed", "expected"))


def _log_rank_sums(
    deaths: NDArray[np.float64], at_risk: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Observed and expected events per group and the hypergeometric covariance matrix."""
    total_deaths = deaths.sum(axis=1)
    total_risk = at_risk.sum(axis=1)
    rows = total_deaths > 0
    d, n, risk = total_deaths[rows], total_risk[rows], at_risk[rows]
    share = risk / n[:, None]
    expected = (share * d[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    variance = np.diag(weight @ share) - (share * weight[:, None]).T @ share
    return deaths.sum(axis=0), expected, variance


def _chi_square(
    observed: NDArray[np.float64], expected: NDArray[np.float64], variance: NDArray[np.float64]
) -> tuple[float, int]:
    """R's ``survdiff``: groups with expected > 0, the first of them dropped, solved."""
    used = np.flatnonzero(expected > 0)
    if used.size < 2:
        return 0.0, int(used.size) - 1
    kept = used[1:]
    difference = (observed - expected)[kept]
    matrix = variance[np.ix_(kept, kept)]
    chi2 = float(difference @ np.linalg.solve(matrix, difference))
    return chi2, int(used.size) - 1
