"""The analytics plots as inline SVG, in the page's language.

The figures are :mod:`carta.analytics.plots`'; this module relabels them (axis titles,
legends, the risk table's title, forest-plot terms) through gettext and renders them to SVG
on the server. Chinese labels need a CJK font: "Noto Sans CJK SC" is used when the active
language is Chinese and the font is installed, else matplotlib's default (quietly; the
glyphs would then be missing, never an error). Text stays text in the SVG (selectable, read
by screen readers), naming its font; a browser without it uses its own. Element ids are
prefixed per figure, so several figures share a page safely. matplotlib's settings are
process-wide: one lock keeps two requests from mixing fonts.
"""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import polars as pl
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure

from carta.analytics.cohort import GROUP
from carta.analytics.competing import CumulativeIncidence
from carta.analytics.plots import PALETTE, forest_plot, incidence_plot, km_plot
from carta.analytics.survival import SurvivalCurves

CJK_FONT = "Noto Sans CJK SC"
_LOCK = threading.Lock()
_FONT_FOUND: dict[str, bool] = {}


def cjk_font_available(name: str = CJK_FONT) -> bool:
    """Is ``name`` installed (looked up once per process)?"""
    if name not in _FONT_FOUND:
        try:
            font_manager.findfont(
                font_manager.FontProperties(family=name), fallback_to_default=False
            )
            _FONT_FOUND[name] = True
        except ValueError:
            _FONT_FOUND[name] = False
    return _FONT_FOUND[name]


def _settings(salt: str) -> dict[str, Any]:
    """matplotlib settings of one figure: the language's font, and an SVG id salt per figure
    so that several figures in one page never share an element id."""
    settings: dict[str, Any] = {"svg.hashsalt": salt, "svg.fonttype": "none"}
    if (get_language() or "").startswith("zh") and cjk_font_available():
        settings["font.family"] = [CJK_FONT, "DejaVu Sans"]
    return settings


def to_svg(build: Callable[[], Figure], salt: str, label: str) -> SafeString:
    """Build a figure and render it as an ``<svg>`` element (XML prolog and DOCTYPE
    dropped), with ``label`` as its accessible name."""
    with _LOCK, rc_context(cast(Any, _settings(salt))), warnings.catch_warnings():
        # Without the CJK font, matplotlib warns once per missing glyph: the fallback is quiet.
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        figure = build()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
    text = buffer.getvalue()
    svg = _own_ids(text[text.index("<svg") :], salt)
    # Scale with the page; the accessible name says what the plot shows.
    escaped = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    svg = svg.replace(
        "<svg ",
        f'<svg role="img" aria-label="{escaped}" class="analytics-plot" data-plot="{salt}" ',
        1,
    )
    # matplotlib's own SVG, and the label escaped above.
    return mark_safe(svg)


def _own_ids(svg: str, prefix: str) -> str:
    """Every element id of ``svg`` (and every reference to one) prefixed, so that several
    figures in one page never share an id (matplotlib numbers ``figure_1``, ``axes_1`` ... in
    each figure)."""
    svg = svg.replace(' id="', f' id="{prefix}-')
    svg = svg.replace("url(#", f"url(#{prefix}-")
    return re.sub(r'href="#', f'href="#{prefix}-', svg)


def relabelled_curves(curves: SurvivalCurves, labels: Mapping[str, str]) -> SurvivalCurves:
    """``curves`` with each group named by ``labels`` (for the legend and the risk table)."""
    mapping = {level: labels.get(level, level) for level in curves.levels}
    rename = pl.col(GROUP).replace_strict(mapping, default=pl.col(GROUP))
    return dataclasses.replace(
        curves,
        table=curves.table.with_columns(rename),
        summary=curves.summary.with_columns(rename),
        levels=tuple(mapping[level] for level in curves.levels),
    )


def km_svg(curves: SurvivalCurves, labels: Mapping[str, str], salt: str, title: str) -> SafeString:
    """Kaplan-Meier curves with the numbers at risk, labelled in the page's language."""
    shown = relabelled_curves(curves, labels)

    def build() -> Figure:
        figure = km_plot(
            shown,
            xlabel=_("Days since infusion"),
            ylabel=_("Survival probability"),
        )
        curve_axes, table_axes = figure.axes[0], figure.axes[1]
        table_axes.set_title(_("Number at risk"), fontsize=9, loc="left")
        legend = curve_axes.get_legend()
        if legend is not None:
            medians = dict(shown.summary.select(GROUP, "median").iter_rows())
            for text, group in zip(legend.get_texts(), shown.levels, strict=False):
                median = medians.get(group)
                text.set_text(
                    _("%(group)s (median %(median)s days)")
                    % {"group": group, "median": f"{median:g}"}
                    if median is not None
                    else _("%(group)s (median not reached)") % {"group": group}
                )
        return figure

    return to_svg(build, salt, title)


def incidence_svg(
    incidence: CumulativeIncidence, labels: Mapping[str, str], salt: str, title: str
) -> SafeString:
    """Cumulative incidence of cause 1 per group, labelled in the page's language."""

    def build() -> Figure:
        figure = incidence_plot(
            incidence, xlabel=_("Days since infusion"), ylabel=_("Cumulative incidence")
        )
        legend = figure.axes[0].get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_text(labels.get(text.get_text(), text.get_text()))
        return figure

    return to_svg(build, salt, title)


def forest_svg(
    coefficients: pl.DataFrame,
    term_label: Callable[[str], str],
    salt: str,
    title: str,
    ratio: str = "hr",
) -> SafeString:
    """Hazard (``ratio="hr"``) or odds (``"odds_ratio"``) ratios with their CIs, the terms
    named in the page's language."""
    shown = coefficients.with_columns(
        pl.col("term").map_elements(term_label, return_dtype=pl.String)
    )
    xlabel = (
        _("Odds ratio (95% CI, log scale)")
        if ratio == "odds_ratio"
        else _("Hazard ratio (95% CI, log scale)")
    )

    def build() -> Figure:
        return forest_plot(shown, ratio=ratio, xlabel=xlabel)

    return to_svg(build, salt, title)


def box_svg(
    values: Mapping[str, Sequence[float]], labels: Mapping[str, str], salt: str, title: str
) -> SafeString:
    """One horizontal box per group with every patient as a dot (jittered, a fixed seed so the
    same data give the same picture), for vein-to-vein time in days."""
    groups = [group for group, shown in values.items() if shown]

    def build() -> Figure:
        figure = Figure(figsize=(7.5, 1.0 + 0.55 * max(len(groups), 1)), layout="constrained")
        axes = figure.add_subplot()
        data = [np.asarray(values[group], dtype=float) for group in groups]
        positions = np.arange(len(groups))[::-1] + 1.0
        axes.boxplot(
            data,
            positions=positions,
            orientation="horizontal",
            widths=0.5,
            showfliers=False,
            medianprops={"color": PALETTE[1]},
        )
        jitter = np.random.default_rng(0)
        for position, days in zip(positions, data, strict=True):
            axes.scatter(
                days,
                position + jitter.uniform(-0.18, 0.18, days.size),
                s=6,
                alpha=0.35,
                color=PALETTE[0],
                linewidths=0,
            )
        axes.set_yticks(positions, labels=[labels.get(group, group) for group in groups])
        axes.set_xlabel(_("Vein-to-vein time, days (apheresis to infusion)"))
        axes.grid(axis="x", alpha=0.3)
        return figure

    return to_svg(build, salt, title)
