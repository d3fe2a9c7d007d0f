"""What the report's sections share: the context (cohort, group, words), number formatting
and the default model covariates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from carta.analytics.cohort import ALL, GROUP, CohortError, design_matrix
from carta.analytics.plots import km_plot
from carta.analytics.report.document import Note, Section, Table
from carta.analytics.report.figures import month_ticks, relabel_km, to_svg
from carta.analytics.report.text import Text
from carta.analytics.survival import SurvivalCurves

DEFAULT_COVARIATES = (
    "age_at_infusion_years",
    "sex",
    "disease",
    "prior_lines",
    "bridging_therapy",
)
LANDMARK_MONTHS = (6.0, 12.0, 24.0)
RMST_MONTHS = 24.0
DASH = "–"
EMPTY = "-"


@dataclass(frozen=True, slots=True)
class _Context:
    """What every section needs: the (filtered) cohort, the group and the words."""

    cohort: pl.DataFrame
    group: str | None
    levels: tuple[str, ...]
    text: Text

    def subsets(self) -> list[tuple[str, pl.DataFrame]]:
        """(label, patients) per group, then the whole cohort when grouped."""
        if self.group is None:
            return [(self.text("all_patients"), self.cohort)]
        labels = self.cohort[self.group].cast(pl.String)
        parts = [
            (self.text.value(level), self.cohort.filter(labels == level)) for level in self.levels
        ]
        return [*parts, (self.text("overall"), self.cohort)]

    def group_label(self, level: str) -> str:
        return self.text("all_patients") if level == ALL else self.text.value(level)


# --- formatting ---------------------------------------------------------------------------------


def _number(value: object, digits: int = 1) -> str:
    if value is None or not isinstance(value, int | float) or value != value:  # NaN
        return EMPTY
    return f"{value:,.{digits}f}"


def _count_percent(count: int, total: int) -> str:
    return f"{count:,} ({100 * count / total:.1f})" if total else f"{count:,}"


def _interval(lower: object, upper: object, scale: float = 1.0, digits: int = 1) -> str:
    def shown(value: object) -> str:
        if not isinstance(value, int | float):
            return "NR"
        return f"{value * scale:.{digits}f}"

    return f"{shown(lower)}{DASH}{shown(upper)}"


def _estimate_ci(
    value: object, lower: object, upper: object, scale: float = 1.0, digits: int = 1
) -> str:
    if not isinstance(value, int | float):
        return EMPTY
    return f"{value * scale:.{digits}f} ({_interval(lower, upper, scale, digits)})"


def _p_value(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _p_phrase(p: float) -> str:
    """``p = 0.023`` or ``p < 0.001`` for running text."""
    shown = _p_value(p)
    return f"p {shown[0]} {shown[1:]}" if shown.startswith("<") else f"p = {shown}"


def _median_iqr(row: Mapping[str, object], digits: int = 1) -> str:
    if row.get("median") is None:
        return EMPTY
    return (
        f"{_number(row['median'], digits)} "
        f"({_number(row['q1'], digits)}{DASH}{_number(row['q3'], digits)})"
    )


def _missing_columns(context: _Context, key: str, columns: Sequence[str]) -> Section | None:
    absent = [name for name in columns if name not in context.cohort.columns]
    if not absent:
        return None
    names = ", ".join(repr(name) for name in absent)
    return Section(
        key, context.text(f"sec_{key}"), (Note(context.text("na_columns", columns=names)),)
    )


def _survival_table(
    context: _Context,
    curves: SurvivalCurves,
    caption: str,
    *,
    rmst: bool,
    data: dict[str, pl.DataFrame] | None = None,
    key: str = "",
) -> Table:
    text = context.text
    landmarks = curves.at(LANDMARK_MONTHS)
    columns = [text("col_group"), text("col_n"), text("col_events"), text("col_median_ci")]
    columns += [text("col_at_months", months=months) for months in LANDMARK_MONTHS]
    restricted = None
    if rmst:
        last = curves.table.group_by(GROUP).agg(pl.col("time").max())["time"].min()
        tau = min(RMST_MONTHS, float(last))  # type: ignore[arg-type]
        restricted = curves.rmst(tau)
        columns.append(text("col_rmst", tau=round(tau, 1)))
        if data is not None:
            data[f"{key}_rmst"] = restricted
    rows = []
    for row in curves.summary.iter_rows(named=True):
        median = (
            _estimate_ci(row["median"], row["median_lower"], row["median_upper"])
            if row["median"] is not None
            else text("not_reached")
        )
        cells = [context.group_label(row[GROUP]), f"{row['n']:,}", f"{row['events']:,}", median]
        here = landmarks.filter(pl.col(GROUP) == row[GROUP])
        cells += [
            _estimate_ci(mark["survival"], mark["lower"], mark["upper"], 100)
            for mark in here.iter_rows(named=True)
        ]
        if restricted is not None:
            found = restricted.filter(pl.col(GROUP) == row[GROUP]).row(0, named=True)
            cells.append(_estimate_ci(found["rmst"], found["lower"], found["upper"]))
        rows.append(tuple(cells))
    return Table(caption, tuple(columns), tuple(rows))


# --- model covariates ----------------------------------------------------------------------------


def default_covariates(cohort: pl.DataFrame, group: str | None) -> list[str]:
    """The group (when it has two values or more) and the usual baseline covariates that the
    cohort has and that vary in it, each kept only if the model stays estimable with it (a
    column collinear with those before it - disease within target antigen, say - is left
    out)."""
    candidates = ([group] if group else []) + [c for c in DEFAULT_COVARIATES if c != group]
    chosen: list[str] = []
    for name in candidates:
        if name not in cohort.columns or cohort[name].drop_nulls().n_unique() < 2:
            continue
        if _full_rank(cohort, [*chosen, name]):
            chosen.append(name)
    return chosen


def _full_rank(cohort: pl.DataFrame, covariates: Sequence[str]) -> bool:
    """Whether the covariates' terms and a constant are linearly independent (a Cox model
    absorbs the constant in its baseline hazard, so a term set spanning it is collinear)."""
    try:
        design = design_matrix(cohort, covariates)
    except CohortError:  # a covariate with one value among the complete cases
        return False
    matrix = design.matrix.filter(design.keep).to_numpy()
    with_constant = np.column_stack([np.ones(matrix.shape[0]), matrix])
    return bool(np.linalg.matrix_rank(with_constant) == with_constant.shape[1])


def _term_label(context: _Context, term: str) -> str:
    column, sign, level = term.partition("=")
    label = context.text.variable(column)
    return f"{label}: {context.text.value(level)}" if sign else label


def km_svg(context: _Context, curves: SurvivalCurves, title: str) -> str:
    """Kaplan-Meier curves with their number-at-risk table, in the report's language (the
    legend gives each group's median), as SVG."""
    text = context.text
    end = float(curves.table["time"].max() or 0.0)  # type: ignore[arg-type]
    figure = km_plot(
        curves,
        title=title,
        xlabel=text("months"),
        ylabel=text("survival_probability"),
        risk_times=month_ticks(end),
    )
    medians = [
        (
            context.group_label(row[GROUP]),
            _number(row["median"]) if row["median"] is not None else text("not_reached"),
        )
        for row in curves.summary.iter_rows(named=True)
    ]
    relabel_km(figure, text, medians)
    return to_svg(figure)
