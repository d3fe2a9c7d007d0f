"""The report's figures: the plots of :mod:`carta.analytics.plots` with labels in the report's
language, a swimmer plot, and SVG export with the glyphs drawn as paths (a reader needs no
font, and Chinese labels look the same everywhere).

Chinese labels need a CJK font in matplotlib. The first of :data:`CJK_FONTS` that is installed
is used (Debian: fonts-noto-cjk); without one, a one-line warning goes to stderr and the
labels fall back to the default font (which draws boxes for Chinese characters).
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from functools import cache

import numpy as np
import polars as pl
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from carta.analytics.plots import PALETTE
from carta.analytics.report.text import CHINESE, Text

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Sans CJK JP",
)
SWIMMER_LIMIT = 40
SWIMMER_SEED = 0
DAYS_PER_MONTH = 30.4375


@cache
def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


_warned: list[bool] = []


def _warn_no_cjk_font() -> None:
    if not _warned:
        _warned.append(True)
        print(
            "carta: warning: no Chinese (CJK) font found for the report's plots (tried "
            f"{', '.join(CJK_FONTS[:3])} ...); Chinese plot labels will show as boxes. "
            "Install one (Debian: apt-get install fonts-noto-cjk).",
            file=sys.stderr,
        )


@contextlib.contextmanager
def figure_style(lang: str) -> Iterator[None]:
    """Matplotlib settings for the report's figures (fonts for ``lang``, SVG as paths)."""
    families = ["DejaVu Sans"]
    if lang == CHINESE:
        font = cjk_font()
        if font is None:
            _warn_no_cjk_font()
        else:
            families = [font, "DejaVu Sans"]
    settings = rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": families,
            "axes.unicode_minus": False,
            "svg.fonttype": "path",
            "svg.hashsalt": "carta-report",  # the same input gives the same file
        }
    )
    with settings, warnings.catch_warnings():
        # Without a CJK font the one warning above says it all, not one per character.
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        yield


def to_svg(figure: Figure) -> str:
    """The figure as SVG text without the XML prologue and without metadata links."""
    buffer = io.StringIO()
    figure.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": None, "Type": None, "Format": None},
    )
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def month_ticks(end: float) -> list[float]:
    """Every 3, 6 or 12 months up to ``end`` months (the risk table's columns)."""
    step = 3.0 if end <= 24 else 6.0 if end <= 60 else 12.0
    return [float(t) for t in np.arange(0.0, end + step / 2, step)]


def relabel_km(figure: Figure, text: Text, medians: Sequence[tuple[str, str]]) -> None:
    """Put :func:`carta.analytics.plots.km_plot`'s fixed English words in the report's
    language: the number-at-risk title and the legend (group and median)."""
    axes, table_axes = figure.axes[0], figure.axes[1]
    table_axes.set_title(text("number_at_risk"), fontsize=9, loc="left")
    legend = axes.get_legend()
    if legend is not None:
        for label, (group, median) in zip(legend.get_texts(), medians, strict=False):
            label.set_text(text("median_label", group=group, median=median))
    labels = [text.value(label.get_text()) for label in table_axes.get_yticklabels()]
    table_axes.set_yticks(table_axes.get_yticks(), labels=labels, fontsize=8)


def swimmer_plot(patients: pl.DataFrame, text: Text, group: str | None) -> Figure:
    """One bar per patient from infusion to the last follow-up (months), coloured by group,
    with the first response, progression and death marked; an arrow for patients alive."""
    rows = patients.height
    figure = Figure(figsize=(7.5, 1.4 + 0.16 * rows), layout="constrained")
    axes = figure.add_subplot()
    levels = sorted({str(v) for v in patients[group].to_list()}) if group else []
    colours = {level: PALETTE[index % len(PALETTE)] for index, level in enumerate(levels)}
    end = float(patients["_months"].max() or 1.0)  # type: ignore[arg-type]
    for position, row in enumerate(patients.iter_rows(named=True)):
        y = rows - position
        colour = colours.get(str(row[group]), PALETTE[0]) if group else PALETTE[0]
        axes.barh(y, row["_months"], height=0.6, color=colour, alpha=0.75)
        if row.get("_response") is not None:
            axes.plot(row["_response"], y, marker="^", color="#009E73", markersize=5)
        if row.get("_progression") is not None:
            axes.plot(row["_progression"], y, marker="X", color="#D55E00", markersize=5)
        if row["_died"]:
            axes.plot(row["_months"], y, marker="s", color="black", markersize=4)
        else:
            axes.annotate(
                "",
                xy=(row["_months"] + end * 0.03, y),
                xytext=(row["_months"], y),
                arrowprops={"arrowstyle": "->", "color": "grey", "lw": 0.8},
            )
    axes.set_yticks([])
    axes.set_ylabel(text("swimmer_patients"))
    axes.set_xlabel(text("months"))
    axes.set_xlim(0, end * 1.08)
    axes.set_ylim(0.3, rows + 0.7)
    axes.grid(axis="x", alpha=0.3)
    handles = [
        Line2D([], [], marker="^", color="#009E73", linestyle="", label=text("swimmer_response")),
        Line2D(
            [], [], marker="X", color="#D55E00", linestyle="", label=text("swimmer_progression")
        ),
        Line2D([], [], marker="s", color="black", linestyle="", label=text("swimmer_death")),
        Line2D(
            [], [], marker=r"$\rightarrow$", color="grey", linestyle="", label=text("swimmer_alive")
        ),
    ]
    handles += [
        Line2D([], [], color=colours[level], linewidth=6, alpha=0.75, label=text.value(level))
        for level in levels
    ]
    figure.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False, fontsize=8)
    return figure


def box_plot(values: Mapping[str, Sequence[float]], *, title: str, ylabel: str) -> Figure:
    """One box per group (median, quartiles, whiskers to 1.5 IQR, outliers as dots); a group
    without values keeps its place on the axis, empty."""
    labels = list(values)
    figure = Figure(figsize=(7.5, 3.2 + 0.1 * len(labels)), layout="constrained")
    axes = figure.add_subplot()
    data = [list(values[label]) for label in labels]
    shown = [index for index, points in enumerate(data) if points]
    axes.boxplot(
        [data[index] for index in shown],
        positions=[index + 1 for index in shown],
        widths=0.5,
        patch_artist=True,
        boxprops={"facecolor": PALETTE[0], "alpha": 0.35},
        medianprops={"color": "black"},
        flierprops={"marker": ".", "markersize": 3, "alpha": 0.5},
    )
    axes.set_xticks(range(1, len(labels) + 1), labels=labels, fontsize=8)
    if len(labels) > 6:
        axes.tick_params(axis="x", labelrotation=30)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10, loc="left")
    axes.grid(axis="y", alpha=0.3)
    return figure
