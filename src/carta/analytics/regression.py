"""Regression: Cox proportional hazards (Efron ties) with hazard ratios, robust standard
errors and the proportional-hazards test, and logistic regression - equal to R.

* **Cox** (Cox 1972) with Efron's handling of tied times (Efron 1977), R's ``coxph`` default.
  The partial likelihood, its score and information are computed in closed form from
  per-time sums (ADR 0310): the information never needs a matrix per time, only weighted
  Gram matrices of the covariates, so a million patients with ten covariates fit in about a
  second. Newton-Raphson with step halving from zero, as ``coxph``; lifelines'
  ``CoxPHFitter`` is the cross-check in the tests. Agreement with R ``coxph``: 1e-6.
* **Robust (sandwich) variance** (Lin & Wei 1989): ``D'D`` with D the weighted dfbeta
  residuals (Efron score residuals times the inverse information), R's ``robust = TRUE``
  (lifelines differs from R when times are tied; ADR 0311).
* **Proportional-hazards test**: R's ``cox.zph`` (survival >= 3.0; Grambsch & Therneau
  1994): a score test for adding x * g(t) for each term, g = 1 - KM(t-) centred on the event
  times (``transform = "km"``), per term and global.
* **Logistic regression** by statsmodels (maximum likelihood), with Wald CIs and odds
  ratios - R's ``glm(family = binomial)`` with ``confint.default``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import special

from carta.analytics.cohort import (
    EVENT,
    TIME,
    WEIGHT,
    CohortError,
    Design,
    design_matrix,
    event_column,
    survival_data,
)
from carta.analytics.survival import z_value

MAX_ITERATIONS = 30
# R coxph.control(eps): stop when the relative change of the log partial likelihood is below
# this (ADR 0310).
TOLERANCE = 1e-9
MAX_HALVINGS = 20
COEFFICIENT_COLUMNS = ("term", "coef", "se", "hr", "hr_lower", "hr_upper", "z", "p")
PH_COLUMNS = ("term", "chi2", "df", "p")
GLOBAL = "GLOBAL"


# --- Efron partial likelihood -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Data:
    """Survival data for the partial likelihood, rows sorted by time.

    ``index`` maps each (sorted) row to its distinct time and ``starts`` gives the first row
    of each distinct time, so per-time sums are one ``np.add.reduceat``. The covariates are
    kept transposed (terms x rows) so that those sums run along contiguous memory. The
    deaths' own sums do not depend on beta and are computed once.
    """

    index: NDArray[np.intp]  # row -> distinct time (ascending)
    starts: NDArray[np.intp]
    n_times: int
    event: NDArray[np.float64]  # 0/1
    weight: NDArray[np.float64]
    xt: NDArray[np.float64]  # centred covariates, terms x rows
    xt_dead: NDArray[np.float64]  # the same, the rows with an event only
    dead_rows: NDArray[np.intp]
    dead_starts: NDArray[np.intp]  # first dead row of each event time (within dead_rows)
    event_times: NDArray[np.intp]  # distinct-time index of each event time
    deaths: NDArray[np.float64]  # nd per distinct time
    death_weight: NDArray[np.float64]  # wd per distinct time
    death_x: NDArray[np.float64]  # (times x p) sum of w x over the deaths


def _prepare(
    time: NDArray[np.float64],
    event: NDArray[np.float64],
    weight: NDArray[np.float64],
    xt: NDArray[np.float64],
) -> _Data:
    """Sort by time (Polars' parallel sort; the order within a time does not matter) and
    precompute what beta does not change; ``xt`` is the covariates transposed (terms x rows)."""
    order = pl.Series(time).arg_sort().to_numpy()
    sorted_time = time[order]
    new_time = np.concatenate([[True], sorted_time[1:] != sorted_time[:-1]])
    index = np.cumsum(new_time) - 1
    n_times = int(new_time.sum())
    weight = np.ascontiguousarray(weight[order])
    event = np.ascontiguousarray(event[order])
    xt = np.ascontiguousarray(xt[:, order])
    xt -= ((xt @ weight) / weight.sum())[:, None]
    dead_rows = np.flatnonzero(event > 0)
    dead_index = index[dead_rows]
    first_dead = np.concatenate([[True], dead_index[1:] != dead_index[:-1]])
    dead_starts = np.flatnonzero(first_dead)
    event_times = dead_index[dead_starts]
    deaths = np.zeros(n_times)
    deaths[event_times] = np.diff(np.append(dead_starts, dead_rows.size))
    death_weight = np.zeros(n_times)
    death_weight[event_times] = np.add.reduceat(weight[dead_rows], dead_starts)
    xt_dead = np.ascontiguousarray(xt[:, dead_rows])
    death_x = np.zeros((n_times, xt.shape[0]))
    death_x[event_times] = np.add.reduceat(xt_dead * weight[dead_rows], dead_starts, axis=1).T
    return _Data(
        index=index,
        starts=np.flatnonzero(new_time),
        n_times=n_times,
        event=event,
        weight=weight,
        xt=xt,
        xt_dead=xt_dead,
        dead_rows=dead_rows,
        dead_starts=dead_starts,
        event_times=event_times,
        deaths=deaths,
        death_weight=death_weight,
        death_x=death_x,
    )


@dataclass(frozen=True, slots=True)
class _Efron:
    """Per-time quantities of the Efron partial likelihood at one beta."""

    loglik: float
    score: NDArray[np.float64]
    information: NDArray[np.float64]
    risk: NDArray[np.float64]  # exp(eta) per row (without the case weight)
    s1: NDArray[np.float64]  # (times x p) weighted risk-set sums of r x
    d1: NDArray[np.float64]  # (times x p) sums of w r x over the deaths at each time
    hazard: NDArray[np.float64]  # L_t = sum_k lambda_tk
    hazard_tied: NDArray[np.float64]  # L'_t = sum_k f_k lambda_tk
    beta0: NDArray[np.float64]  # sum_k lambda / s0_k
    beta1: NDArray[np.float64]  # sum_k f lambda / s0_k
    beta2: NDArray[np.float64]  # sum_k f^2 lambda / s0_k
    death_mean: NDArray[np.float64]  # (times x p) (1/nd) sum_k mean_k


def _from_the_end(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Risk-set sums: the sum over this and every later time."""
    return np.cumsum(values[::-1], axis=0)[::-1]


def _gram(xt: NDArray[np.float64], row_weight: NDArray[np.float64]) -> NDArray[np.float64]:
    """X' diag(row_weight) X from the transposed covariates."""
    return np.asarray((xt * row_weight) @ xt.T)


def _efron(data: _Data, beta: NDArray[np.float64]) -> _Efron:
    """Log partial likelihood, score and information (Efron ties) at ``beta``.

    At a time with nd deaths of total weight wd, step k = 0..nd-1 has the risk-set sums
    s_k = S - (k/nd) D (S over patients still at risk, D over that time's deaths) and hazard
    increment lambda_k = (wd/nd) / s0_k. Everything the information needs reduces to the
    per-time scalars L, L', beta0-2 and weighted Gram matrices of x (sum over times of
    S2_t c_t = X' diag(r * cumsum(c)) X), so no (times x p x p) array is built.
    """
    eta = beta @ data.xt
    eta -= eta.max()  # the partial likelihood is invariant to a shift of eta
    risk = np.exp(eta)
    weighted_risk = data.weight * risk
    s0 = _from_the_end(np.add.reduceat(weighted_risk, data.starts))
    s1 = _from_the_end(np.add.reduceat(data.xt * weighted_risk, data.starts, axis=1).T)
    dead_risk = weighted_risk[data.dead_rows]
    death_risk = np.zeros(data.n_times)
    death_risk[data.event_times] = np.add.reduceat(dead_risk, data.dead_starts)
    d1 = np.zeros_like(s1)
    d1[data.event_times] = np.add.reduceat(data.xt_dead * dead_risk, data.dead_starts, axis=1).T

    deaths = data.deaths
    counts = deaths[data.event_times].astype(np.int64)
    pair_time = np.repeat(data.event_times, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    fraction = (np.arange(pair_time.size) - starts) / deaths[pair_time]
    s0_k = s0[pair_time] - fraction * death_risk[pair_time]
    share = data.death_weight[pair_time] / deaths[pair_time]
    lam = share / s0_k

    def per_time(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(pair_time, weights=values, minlength=data.n_times).astype(np.float64)

    hazard, hazard_tied = per_time(lam), per_time(fraction * lam)
    beta0, beta1, beta2 = (per_time(fraction**j * lam / s0_k) for j in range(3))
    gamma0, gamma1 = per_time(1.0 / s0_k), per_time(fraction / s0_k)
    with np.errstate(divide="ignore", invalid="ignore"):
        death_mean = np.where(
            deaths[:, None] > 0,
            (s1 * gamma0[:, None] - d1 * gamma1[:, None]) / deaths[:, None],
            0.0,
        )

    loglik = float(data.weight[data.dead_rows] @ eta[data.dead_rows] - share @ np.log(s0_k))
    score = data.death_x.sum(axis=0) - (s1 * hazard[:, None] - d1 * hazard_tied[:, None]).sum(
        axis=0
    )
    information = _information(
        data, weighted_risk, s1, d1, hazard, hazard_tied, beta0, beta1, beta2
    )
    return _Efron(
        loglik=loglik,
        score=score,
        information=information,
        risk=risk,
        s1=s1,
        d1=d1,
        hazard=hazard,
        hazard_tied=hazard_tied,
        beta0=beta0,
        beta1=beta1,
        beta2=beta2,
        death_mean=death_mean,
    )


def _information(
    data: _Data,
    weighted_risk: NDArray[np.float64],
    s1: NDArray[np.float64],
    d1: NDArray[np.float64],
    hazard: NDArray[np.float64],
    hazard_tied: NDArray[np.float64],
    beta0: NDArray[np.float64],
    beta1: NDArray[np.float64],
    beta2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """sum_t [S2 L - D2 L'] - [S1 S1' b0 - (S1 D1' + D1 S1') b1 + D1 D1' b2] (per-time weights
    already folded into L, L', b0-b2)."""
    cumulative = np.cumsum(hazard)[data.index]  # sum over t <= T_i of L_t
    second = _gram(data.xt, weighted_risk * (cumulative - data.event * hazard_tied[data.index]))
    cross = s1.T @ (d1 * beta1[:, None])
    outer = s1.T @ (s1 * beta0[:, None]) - cross - cross.T + d1.T @ (d1 * beta2[:, None])
    return np.asarray(second - outer)


def _fit(data: _Data) -> tuple[NDArray[np.float64], _Efron, int]:
    """Newton-Raphson from beta = 0 with step halving (R ``coxph.fit``)."""
    beta = np.zeros(data.xt.shape[0])
    current = _efron(data, beta)
    for iteration in range(1, MAX_ITERATIONS + 1):
        step = np.linalg.solve(current.information, current.score)
        candidate = beta + step
        trial = _efron(data, candidate)
        halvings = 0
        while not np.isfinite(trial.loglik) or trial.loglik < current.loglik - 1e-12:
            halvings += 1
            if halvings > MAX_HALVINGS:
                raise CohortError("the Cox model did not converge (the likelihood kept falling)")
            candidate = (beta + candidate) / 2
            trial = _efron(data, candidate)
        converged = abs(trial.loglik - current.loglik) <= TOLERANCE * abs(trial.loglik)
        beta, current = candidate, trial
        if converged:
            return beta, current, iteration
    raise CohortError(
        f"the Cox model did not converge in {MAX_ITERATIONS} iterations; a covariate may "
        "separate the patients with events from the others (a hazard ratio of 0 or infinity)"
    )


def _score_residuals(data: _Data, fit: _Efron) -> NDArray[np.float64]:
    """Efron score residuals (R ``residuals(fit, type = "score")``), rows x p.

    U_i = delta_i (x_i - xbar_i) - r_i [x_i Lambda(T_i) - M(T_i)]
          + delta_i r_i [x_i L'(T_i) - M'(T_i)],
    Lambda, M the cumulative hazard and hazard-weighted means; the last term removes the
    part of a death's own time at which Efron's approximation has it partly out of the risk
    set.
    """
    mean_step = fit.s1 * fit.beta0[:, None] - fit.d1 * fit.beta1[:, None]  # M_t
    mean_tied = fit.s1 * fit.beta1[:, None] - fit.d1 * fit.beta2[:, None]  # M'_t
    cumulative_hazard = np.cumsum(fit.hazard)[data.index]
    cumulative_mean = np.cumsum(mean_step, axis=0)[data.index]
    x = data.xt.T
    dead = data.event[:, None]
    risk = fit.risk[:, None]
    own_time = data.index
    return np.asarray(
        dead * (x - fit.death_mean[own_time])
        - risk * (x * cumulative_hazard[:, None] - cumulative_mean)
        + dead * risk * (x * fit.hazard_tied[own_time][:, None] - mean_tied[own_time])
    )


def _robust_variance(
    data: _Data, fit: _Efron, variance: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Sandwich variance D'D, D = (w U) V (R ``coxph(robust = TRUE)``)."""
    dfbeta = (data.weight[:, None] * _score_residuals(data, fit)) @ variance
    return np.asarray(dfbeta.T @ dfbeta)


def _zph(data: _Data, fit: _Efron, terms: Mapping[str, Sequence[int]]) -> pl.DataFrame:
    """R ``cox.zph(fit, transform = "km")``: score test of x * g(t) per term and global."""
    at_risk = _from_the_end(np.diff(np.append(data.starts, data.index.size)).astype(float))
    km = np.cumprod(1.0 - data.deaths / at_risk)
    km_before = np.concatenate([[1.0], km[:-1]])  # S(t-) at each distinct time
    transformed = 1.0 - km_before
    event_rows = data.event > 0
    g_time = transformed - transformed[data.index[event_rows]].mean()
    p = data.xt.shape[0]
    weighted_risk = data.weight * fit.risk
    blocks = []
    for power in (1, 2):
        g = g_time**power
        blocks.append(
            _information(
                data,
                weighted_risk,
                fit.s1,
                fit.d1,
                fit.hazard * g,
                fit.hazard_tied * g,
                fit.beta0 * g,
                fit.beta1 * g,
                fit.beta2 * g,
            )
        )
    information = np.block([[fit.information, blocks[0]], [blocks[0], blocks[1]]])
    per_time_score = data.death_x - (
        fit.s1 * fit.hazard[:, None] - fit.d1 * fit.hazard_tied[:, None]
    )
    u = np.concatenate([np.zeros(p), (per_time_score * g_time[:, None]).sum(axis=0)])
    rows = []
    for name, columns in [*terms.items(), (GLOBAL, list(range(p)))]:
        keep = [*range(p), *(p + column for column in columns)]
        sub_u = u[keep]
        chi2 = float(sub_u @ np.linalg.solve(information[np.ix_(keep, keep)], sub_u))
        df = len(columns)
        rows.append({"term": name, "chi2": chi2, "df": df, "p": float(special.chdtrc(df, chi2))})
    return pl.DataFrame(
        rows, schema={"term": pl.String, "chi2": pl.Float64, "df": pl.Int64, "p": pl.Float64}
    )


# --- the public Cox model -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoxModel:
    """A fitted Cox model.

    ``coefficients`` has one row per model term (:data:`COEFFICIENT_COLUMNS`: log hazard
    ratio, its standard error - robust when ``robust`` - the hazard ratio with its CI, Wald z
    and p). ``proportional_hazards`` is the ``cox.zph`` table (per covariate and ``GLOBAL``)
    or ``None``. ``terms`` maps each covariate to its model terms (one per non-reference level
    of a categorical covariate, named ``column=level``) and ``reference`` gives those
    covariates' reference levels. ``dropped`` counts patients left out for a missing
    covariate.
    """

    coefficients: pl.DataFrame
    proportional_hazards: pl.DataFrame | None
    n: int
    events: int
    dropped: int
    log_likelihood: float
    iterations: int
    robust: bool
    weighted: bool
    conf_level: float
    terms: Mapping[str, tuple[str, ...]]
    reference: Mapping[str, str]
    variance: tuple[tuple[float, ...], ...]


def cox_regression(
    frame: pl.DataFrame,
    time: str,
    event: str,
    covariates: Sequence[str],
    *,
    weight: str | None = None,
    robust: bool | None = None,
    conf_level: float = 0.95,
    ph_test: bool = True,
) -> CoxModel:
    """Cox model of (``time``, ``event``) on ``covariates`` (Efron ties).

    ``weight`` names case weights (inverse-probability weights, for example); ``robust``
    (default: when weighted) uses the sandwich variance for the standard errors and CIs.
    Patients with a missing covariate are left out and counted in ``dropped``.
    """
    data, _ = survival_data(frame, time, event, weight=weight)
    design = design_matrix(frame, covariates)
    keep = design.keep
    use_robust = weight is not None if robust is None else robust
    matrix = design.matrix.filter(keep)
    times = data[TIME].filter(keep).to_numpy()
    events = data[EVENT].filter(keep).cast(pl.Float64).to_numpy()
    weights = data[WEIGHT].filter(keep).to_numpy() if weight is not None else np.ones(times.size)
    _check_estimable(matrix, events, design, event)
    xt = np.stack([matrix[name].cast(pl.Float64).to_numpy() for name in matrix.columns])
    prepared = _prepare(times, events, weights, xt)
    beta, fit, iterations = _fit(prepared)
    naive = np.asarray(np.linalg.inv(fit.information), dtype=np.float64)
    variance = _robust_variance(prepared, fit, naive) if use_robust else naive
    columns = {name: index for index, name in enumerate(matrix.columns)}
    term_columns = {
        covariate: [columns[term] for term in names] for covariate, names in design.terms.items()
    }
    ph = _zph(prepared, fit, term_columns) if ph_test else None
    return CoxModel(
        coefficients=_coefficient_table(
            list(matrix.columns), beta, variance, conf_level, ratio="hr"
        ),
        proportional_hazards=ph,
        n=int(times.size),
        events=int(events.sum()),
        dropped=design.dropped,
        log_likelihood=fit.loglik,
        iterations=iterations,
        robust=use_robust,
        weighted=weight is not None,
        conf_level=conf_level,
        terms=dict(design.terms),
        reference=dict(design.reference),
        variance=tuple(tuple(float(v) for v in row) for row in variance),
    )


def _check_estimable(
    matrix: pl.DataFrame, events: NDArray[np.float64], design: Design, event: str
) -> None:
    """Refuse a model whose estimates would be meaningless (no events, constant columns, a
    0/1 term whose level has no events: a hazard ratio of 0 or infinity)."""
    if matrix.height == 0:
        raise CohortError("no patient has every covariate; nothing to fit")
    if events.sum() == 0:
        raise CohortError(f"column {event!r} has no events among the patients with every covariate")
    for name in matrix.columns:
        values = matrix[name].to_numpy()
        if np.all(values == values[0]):
            raise CohortError(
                f"covariate {name!r} has the same value for every patient; it cannot be estimated"
            )
        if _is_binary(values):
            for level in (0.0, 1.0):
                if events[values == level].sum() == 0:
                    described = _level_name(name, level, design)
                    raise CohortError(
                        f"{described} has no events, so its hazard ratio cannot be estimated "
                        "(it would be 0 or infinite); merge it with another level or leave "
                        "those patients out"
                    )


def _is_binary(values: NDArray[np.float64]) -> bool:
    return bool(np.all((values == 0.0) | (values == 1.0)))


def _level_name(term: str, level: float, design: Design) -> str:
    if "=" in term:
        covariate, value = term.split("=", 1)
        if level == 1.0:
            return f"level {value!r} of covariate {covariate!r}"
        return f"every level of covariate {covariate!r} except {value!r}"
    return f"the patients with {term} = {int(level)}"


def _coefficient_table(
    names: list[str],
    beta: NDArray[np.float64],
    variance: NDArray[np.float64],
    conf_level: float,
    *,
    ratio: str,
) -> pl.DataFrame:
    z = z_value(conf_level)
    se = np.sqrt(np.diag(variance))
    wald = beta / se
    return pl.DataFrame(
        {
            "term": names,
            "coef": beta,
            "se": se,
            ratio: np.exp(beta),
            f"{ratio}_lower": np.exp(beta - z * se),
            f"{ratio}_upper": np.exp(beta + z * se),
            "z": wald,
            "p": 2 * special.ndtr(-np.abs(wald)),
        }
    )


# --- logistic regression ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """A fitted logistic regression: per term (``Intercept`` first) the log odds ratio, its
    standard error, the odds ratio with its Wald CI, z and p; ``fitted`` holds each kept
    patient's predicted probability (for propensity scores)."""

    coefficients: pl.DataFrame
    n: int
    outcomes: int
    dropped: int
    log_likelihood: float
    conf_level: float
    terms: Mapping[str, tuple[str, ...]]
    reference: Mapping[str, str]
    fitted: pl.Series
    keep: pl.Series


def logistic_regression(
    frame: pl.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    *,
    conf_level: float = 0.95,
) -> LogisticModel:
    """Logistic regression of a 0/1 ``outcome`` (response, severe toxicity ...) on
    ``covariates`` by maximum likelihood (statsmodels ``Logit``)."""
    from statsmodels.discrete.discrete_model import Logit

    values = event_column(frame, outcome, {0: "no", 1: "yes"})
    design = design_matrix(frame, covariates)
    keep = design.keep
    y = values.filter(keep).cast(pl.Float64).to_numpy()
    matrix = design.matrix.filter(keep)
    if y.size == 0:
        raise CohortError("no patient has every covariate; nothing to fit")
    if y.min() == y.max():
        raise CohortError(
            f"column {outcome!r} has the same value ({int(y[0])}) for every patient; nothing to model"
        )
    _check_separation(matrix, y, outcome)
    covariate_values = matrix.to_numpy().astype(np.float64)
    x = np.column_stack([np.ones(y.size), covariate_values])
    result = _fit_logit(Logit(y, x), outcome)
    names = ["Intercept", *matrix.columns]
    beta = np.asarray(result.params)
    variance = np.asarray(result.cov_params())
    return LogisticModel(
        coefficients=_coefficient_table(names, beta, variance, conf_level, ratio="odds_ratio"),
        n=int(y.size),
        outcomes=int(y.sum()),
        dropped=design.dropped,
        log_likelihood=float(result.llf),
        conf_level=conf_level,
        terms=dict(design.terms),
        reference=dict(design.reference),
        fitted=pl.Series("fitted", np.asarray(result.predict(x))),
        keep=keep,
    )


def _fit_logit(model: Any, outcome: str) -> Any:
    """Fit by Newton's method, refusing a fit whose odds ratios would be meaningless.

    Quasi-complete separation (several covariates together predicting the outcome, which
    ``_check_separation`` cannot see) makes statsmodels warn of perfect separation or of a
    likelihood that does not converge, and still return numbers; either warning, or a result
    not marked converged, is a :class:`CohortError` instead."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    refused = CohortError(
        f"the covariates predict {outcome!r} (nearly) perfectly (quasi-complete separation) or "
        "the fit did not converge, so the odds ratios cannot be estimated; choose other covariates"
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            result = model.fit(method="newton", disp=False, maxiter=100, tol=1e-10)
        except (PerfectSeparationWarning, ConvergenceWarning):
            raise refused from None
    if not result.mle_retvals.get("converged", True):
        raise refused
    return result


def _check_separation(matrix: pl.DataFrame, y: NDArray[np.float64], outcome: str) -> None:
    """A 0/1 term whose level holds only one outcome makes the estimate infinite."""
    for name in matrix.columns:
        values = matrix[name].to_numpy()
        if np.all(values == values[0]):
            raise CohortError(
                f"covariate {name!r} has the same value for every patient; it cannot be estimated"
            )
        if _is_binary(values):
            for level in (0.0, 1.0):
                outcomes = y[values == level]
                if outcomes.size and outcomes.min() == outcomes.max():
                    raise CohortError(
                        f"the patients with {name} = {int(level)} all have {outcome} = "
                        f"{int(outcomes[0])}, so its odds ratio cannot be estimated (complete "
                        "separation); merge levels or leave those patients out"
                    )


# --- vein-to-vein time ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VeinToVein:
    """Vein-to-vein time (apheresis to infusion) and outcome: its distribution per group
    (:func:`carta.analytics.cohort.describe`) and the Cox hazard ratio per ``per_days`` days
    longer, adjusted for ``adjusted_for``."""

    distribution: pl.DataFrame
    model: CoxModel
    per_days: float
    term: str


def vein_to_vein_association(
    frame: pl.DataFrame,
    time: str,
    event: str,
    *,
    column: str = "vein_to_vein_days",
    group: str | None = None,
    adjusted_for: Sequence[str] = (),
    per_days: float = 7.0,
    conf_level: float = 0.95,
) -> VeinToVein:
    """How vein-to-vein time relates to (``time``, ``event``): distribution and hazard ratio
    per ``per_days`` days (a week by default)."""
    from carta.analytics.cohort import describe, numeric_values, require_column

    if per_days <= 0:
        raise CohortError(f"per_days must be positive, not {per_days}")
    days = numeric_values(require_column(frame, column), column, "vein-to-vein time")
    negative = (days < 0).fill_null(False)
    if negative.any():
        raise CohortError(
            f"column {column!r} has negative vein-to-vein times (infusion before apheresis)"
        )
    term = f"{column}_per_{per_days:g}"
    scaled = frame.with_columns((days / per_days).alias(term))
    model = cox_regression(scaled, time, event, [term, *adjusted_for], conf_level=conf_level)
    return VeinToVein(
        distribution=describe(frame, column, group), model=model, per_days=per_days, term=term
    )
