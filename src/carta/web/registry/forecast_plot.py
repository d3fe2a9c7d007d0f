"""The forecast panel's trend: one small inline SVG with a line per target (ADR 0431).

Hand-written SVG like :mod:`carta.web.registry.plots`: a few points per line, no plotting
library, every line titled so that screen readers and tests can read it. Geometry only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 520, 140
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 8, 20
LINE_CSS = {"icans_5d": "fc-icans", "severe_icans_5d": "fc-severe", "crs2_5d": "fc-crs"}
# Presentation attributes rather than stylesheet rules, so the plot needs no shared CSS.
LINE_COLOURS = {"icans_5d": "#7b3fa0", "severe_icans_5d": "#b3261e", "crs2_5d": "#c77700"}
DASHES = {"icans_5d": "", "severe_icans_5d": "", "crs2_5d": "4 3"}
Y_TICKS = (0.0, 0.5, 1.0)


# format_html escapes its arguments into strings first, so numbers are formatted here.
def _x(day: int, first: int, last: int) -> str:
    span = max(last - first, 1)
    return f"{LEFT + (WIDTH - LEFT - RIGHT) * (day - first) / span:.1f}"


def _y(probability: float) -> str:
    return f"{TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - probability):.1f}"


def _line(target: Any, first: int, last: int, day_text: str) -> SafeString:
    """One target's polyline and dots with their titles.

    The dots are written directly rather than through ``format_html`` (a hundred calls per
    page, ADR 0288): the only text in them is the label and the translated "day %(day)s",
    escaped here (``escape`` works character by character, so the markup is the same).
    """
    points = [(_x(day, first, last), _y(p), day, p) for day, p in target.trend]
    label = escape(target.label)
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="2"><title>{label}, '
        f"{escape(day_text % {'day': day})}: {100 * p:.0f}%</title></circle>"
        for x, y, day, p in points
    )
    return format_html(
        '<g class="{}" stroke="{}" fill="{}"><title>{}</title>'
        '<polyline points="{}" fill="none" stroke-width="2" stroke-dasharray="{}"/>{}</g>',
        LINE_CSS.get(target.target, ""),
        LINE_COLOURS.get(target.target, "#333"),
        LINE_COLOURS.get(target.target, "#333"),
        target.label,
        " ".join(f"{x},{y}" for x, y, _day, _p in points),
        DASHES.get(target.target, ""),
        mark_safe(dots),  # built above from escaped text and numbers
    )


def trend_svg(targets: Sequence[Any]) -> SafeString:
    """Probability (0-1) against day since infusion, one polyline (and dots) per target."""
    days = [day for target in targets for day, _p in target.trend]
    if not days:
        return mark_safe("")
    first, last = min(days), max(days)
    parts = [
        format_html(
            '<line class="fc-grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
            '<text class="fc-tick" x="{}" y="{}" text-anchor="end" font-size="10" '
            'fill="#666">{}%</text>',
            LEFT,
            WIDTH - RIGHT,
            _y(tick),
            _y(tick),
            LEFT - 4,
            f"{float(_y(tick)) + 3:.1f}",
            int(tick * 100),
        )
        for tick in Y_TICKS
    ]
    for day in sorted({first, last}):
        parts.append(
            format_html(
                '<text class="fc-tick" x="{}" y="{}" text-anchor="{}" font-size="10" '
                'fill="#666">{}</text>',
                _x(day, first, last),
                HEIGHT - 5,
                "end" if day == last and day != first else "start",
                _("day %(day)s") % {"day": day},
            )
        )
    day_text = _("day %(day)s")  # translated once, not once per dot
    for target in targets:
        if target.trend:
            parts.append(_line(target, first, last, day_text))
    return format_html(
        '<svg class="forecast-trend" viewBox="0 0 {} {}" width="{}" height="{}" '
        'style="max-width:100%;height:auto" role="img" aria-label="{}">{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        _("Forecast trend by day since infusion"),
        mark_safe("".join(parts)),
    )
