"""Figures of the analyses (matplotlib, no global state): Kaplan-Meier curves with numbers at
risk, cumulative incidence curves, and forest plots of hazard or odds ratios.

Each function returns a :class:`matplotlib.figure.Figure` built without ``pyplot`` (so it is
safe in a web server or a test), ready for ``figure.savefig("km.png", dpi=150)``. The data
behind each plot are the frames of the result objects (``curves.table``, ``incidence.table``,
``model.coefficients``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from carta.analytics.cohort import GROUP, TIME
from carta.analytics.competing import CAUSE, CumulativeIncidence
from carta.analytics.survival import SurvivalCurves, round_ticks

# Colour-blind-safe palette (Okabe & Ito 2008).
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
RISK_TABLE_TICKS = 6
FOREST_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _step(
    times: Sequence[float], values: Sequence[float | None], start: float
) -> tuple[list[float], list[float]]:
    """The curve as a right-continuous step from (0, start)."""
    xs, ys = [0.0], [start]
    for time, value in zip(times, values, strict=True):
        if value is None:
            break
        xs.append(float(time))
        ys.append(float(value))
    return xs, ys


def km_plot(
    curves: SurvivalCurves,
    *,
    title: str | None = None,
    xlabel: str = "Days since infusion",
    ylabel: str = "Survival probability",
    risk_times: Sequence[float] | None = None,
    confidence: bool = True,
    censor_marks: bool = True,
) -> Figure:
    """Kaplan-Meier curves (one per group) with confidence bands, censoring marks, the
    medians in the legend and a table of the numbers at risk underneath."""
    end = float(curves.table[TIME].max() or 0.0)  # type: ignore[arg-type]
    ticks = list(risk_times) if risk_times is not None else round_ticks(end, RISK_TABLE_TICKS)
    rows = len(curves.levels)
    figure = Figure(figsize=(7.5, 5.0 + 0.25 * rows), layout="constrained")
    grid = figure.add_gridspec(2, 1, height_ratios=[4.0, 0.45 + 0.28 * rows])
    axes = figure.add_subplot(grid[0])
    table_axes = figure.add_subplot(grid[1], sharex=axes)
    medians = {row[GROUP]: row["median"] for row in curves.summary.iter_rows(named=True)}
    for index, group in enumerate(curves.levels):
        curve = curves.curve(group)
        colour = _colour(index)
        xs, ys = _step(curve[TIME].to_list(), curve["survival"].to_list(), 1.0)
        median = medians.get(group)
        label = (
            f"{group} (median {median:g})"
            if median is not None
            else f"{group} (median not reached)"
        )
        axes.step(xs, ys, where="post", color=colour, label=label, linewidth=1.6)
        if confidence:
            _band(axes, curve, colour, 1.0)
        if censor_marks:
            censored = curve.filter(pl.col("n_censor") > 0)
            axes.plot(censored[TIME], censored["survival"], "|", color=colour, markersize=7)
    _finish(axes, title, ylabel, curves.levels)
    _risk_table(table_axes, curves, ticks, xlabel)
    # A little room left of 0 so the first column of the table clears the group names.
    axes.set_xlim(-0.03 * max(ticks[-1], end), max(ticks[-1], end) * 1.02)
    return figure


def _band(axes: Axes, curve: pl.DataFrame, colour: str, start: float) -> None:
    lower = _step(curve[TIME].to_list(), curve["lower"].to_list(), start)
    upper = _step(curve[TIME].to_list(), curve["upper"].to_list(), start)
    length = min(len(lower[0]), len(upper[0]))
    axes.fill_between(
        lower[0][:length],
        lower[1][:length],
        upper[1][:length],
        step="post",
        color=colour,
        alpha=0.15,
        linewidth=0,
    )


def _finish(axes: Axes, title: str | None, ylabel: str, levels: Sequence[str]) -> None:
    axes.set_ylim(-0.02, 1.02)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title)
    if len(levels) > 1 or levels[0] != "all":
        axes.legend(loc="best", frameon=False, fontsize=9)
    axes.tick_params(labelbottom=False)


def _risk_table(axes: Axes, curves: SurvivalCurves, ticks: Sequence[float], xlabel: str) -> None:
    at_risk = curves.number_at_risk(ticks)
    for index, group in enumerate(curves.levels):
        counts = at_risk.filter(pl.col(GROUP) == group)
        y = len(curves.levels) - index
        for time, count in zip(counts[TIME], counts["n_risk"], strict=True):
            axes.text(
                time, y, f"{count:.0f}", ha="center", va="center", fontsize=8, color=_colour(index)
            )
    axes.set_ylim(0.4, len(curves.levels) + 0.6)
    axes.set_yticks(range(len(curves.levels), 0, -1), labels=list(curves.levels), fontsize=8)
    axes.set_xticks(list(ticks))
    axes.set_xlabel(xlabel)
    axes.set_title("Number at risk", fontsize=9, loc="left")
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="y", length=0)


def incidence_plot(
    incidence: CumulativeIncidence,
    *,
    cause: int = CAUSE,
    title: str | None = None,
    xlabel: str = "Days since infusion",
    ylabel: str = "Cumulative incidence",
    confidence: bool = True,
) -> Figure:
    """Cumulative incidence of ``cause`` per group, with confidence bands."""
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    axes = figure.add_subplot()
    top = 0.0
    for index, group in enumerate(incidence.levels):
        curve = incidence.curve(group, cause)
        colour = _colour(index)
        xs, ys = _step(curve[TIME].to_list(), curve["incidence"].to_list(), 0.0)
        axes.step(xs, ys, where="post", color=colour, label=group, linewidth=1.6)
        if confidence:
            _band(axes, curve, colour, 0.0)
        top = max(top, float(curve["upper"].max() or 0.0))  # type: ignore[arg-type]
    axes.set_xlim(left=0)
    axes.set_ylim(0, min(1.0, max(0.05, top * 1.1)))
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title)
    if len(incidence.levels) > 1 or incidence.levels[0] != "all":
        axes.legend(loc="best", frameon=False, fontsize=9)
    return figure


def forest_plot(
    coefficients: pl.DataFrame,
    *,
    ratio: str = "hr",
    title: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Hazard (``ratio="hr"``) or odds (``"odds_ratio"``) ratios with their CIs on a log
    scale, one row per term, the numbers printed on the right."""
    rows = coefficients.filter(pl.col("term") != "Intercept")
    count = rows.height
    figure = Figure(figsize=(7.5, 1.2 + 0.38 * max(count, 1)), layout="constrained")
    axes = figure.add_subplot()
    positions = np.arange(count)[::-1]
    estimates = rows[ratio].to_numpy()
    lower = rows[f"{ratio}_lower"].to_numpy()
    upper = rows[f"{ratio}_upper"].to_numpy()
    axes.errorbar(
        estimates,
        positions,
        xerr=[estimates - lower, upper - estimates],
        fmt="s",
        color=PALETTE[0],
        ecolor=PALETTE[0],
        capsize=3,
        markersize=5,
    )
    axes.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    axes.set_xscale("log")
    low_end, high_end = float(np.min(lower)), float(np.max(upper))
    ticks = [t for t in FOREST_TICKS if low_end / 1.5 <= t <= high_end * 1.5] or [1.0]
    axes.set_xticks(ticks, labels=[f"{t:g}" for t in ticks])
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_yticks(positions, labels=rows["term"].to_list())
    axes.set_ylim(-0.7, count - 0.3)
    label = {"hr": "Hazard ratio", "odds_ratio": "Odds ratio"}.get(ratio, ratio)
    axes.set_xlabel(xlabel or f"{label} (95% CI, log scale)")
    for position, estimate, low, high, p in zip(
        positions, estimates, lower, upper, rows["p"].to_numpy(), strict=True
    ):
        axes.annotate(
            f"{estimate:.2f} ({low:.2f}-{high:.2f})  p={p:.3g}",
            xy=(1.01, position),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize=8,
        )
    axes.grid(axis="x", alpha=0.3)
    if title:
        axes.set_title(title)
    return figure
