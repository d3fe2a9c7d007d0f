"""The swimmer plot's geometry and the dashboard's bars."""

from __future__ import annotations

from datetime import date

import pytest
from django.template import Context, Template
from django.utils.html import format_html

from carta.web.registry import plots


def test_the_day_scale_is_increasing_and_stays_in_the_plot() -> None:
    scale = plots.DayScale(first_day=-40, last_day=800, left=100, right=900)
    xs = [scale.x(day) for day in range(-60, 900, 3)]
    assert xs == sorted(xs)
    assert min(xs) == 100 and max(xs) == 900
    assert scale.x(-40) == 100
    # days 0-30 take half the width, one equal cell per day
    width = scale.x(31) - scale.x(0)
    assert width == pytest.approx(0.5 * 800, abs=0.2)
    assert scale.x(2) - scale.x(1) == pytest.approx(width / 31, abs=0.2)
    assert len(scale.breaks()) == 2


def test_without_follow_up_the_early_days_fill_the_rest() -> None:
    scale = plots.DayScale(first_day=-7, last_day=30, left=0, right=1000)
    assert scale.x(31) == 1000
    assert len(scale.breaks()) == 1


def test_nothing_to_draw() -> None:
    assert plots.journey(plots.JourneyData()) is None


def test_the_journey_draws_each_graded_day_with_its_number() -> None:
    data = plots.JourneyData(
        aphereses=[plots.Event(-30, "apheresis")],
        lymphodepletion=[plots.Period(-5, -3, "flu/cy")],
        infusions=[plots.Event(0, "infusion")],
        crs=[
            plots.GradedDay(day, grade, f"day {day}") for day, grade in ((1, 1), (2, 3), (3, None))
        ],
        therapy=[plots.Event(2, "tocilizumab", text="T")],
        responses=[plots.Event(28, "CR", text="CR", css="resp-good")],
        visits=[plots.Event(100, "day 100", css="overdue")],
        last_contact=plots.Event(40, "last contact"),
    )
    journey = plots.journey(data)
    assert journey is not None
    cells = [shape for shape in journey.shapes if shape.css.startswith("cell")]
    assert [(cell.css, cell.text) for cell in cells] == [
        ("cell g1", "1"),
        ("cell g3", "3"),
        ("cell gna", "?"),
    ]
    assert all(cell.title for cell in cells)
    assert {"diamond", "triangle", "lymphodepletion", "swim", "arrow"} <= {
        s.css for s in journey.shapes
    }
    assert journey.ticks[0].label == "-30"
    assert "100" in [tick.label for tick in journey.ticks]
    assert journey.height > journey.axis_y > 0


def test_month_bars_scale_to_the_busiest_month() -> None:
    chart = plots.month_bars([(date(2025, 1, 1), 2), (date(2025, 2, 1), 0), (date(2025, 3, 1), 4)])
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == 0
    assert heights[2] == pytest.approx(2 * heights[0])
    assert chart.bars[2].y == pytest.approx(16.0)  # the tallest bar reaches the top margin
    assert [bar.label for bar in chart.bars] == ["2025-01", "2025-02", "2025-03"]


def test_chips_on_the_same_day_do_not_overlap() -> None:
    data = plots.JourneyData(
        infusions=[plots.Event(0, "infusion")],
        responses=[plots.Event(365, "PR", text="PR"), plots.Event(366, "PD", text="PD")],
    )
    journey = plots.journey(data)
    assert journey is not None
    first, second = (shape for shape in journey.shapes if shape.css.startswith("chip"))
    assert second.x >= first.x + first.width


# The journey's markup as the template loops and ``format_html`` wrote it before ADR 0289.
LOOPS_BEFORE = (
    "{% load l10n %}{% localize off %}"
    '{% for lane in journey.lanes %}<g class="lane" data-lane="{{ lane.key }}"><rect '
    'class="lane-bg" x="{{ journey.plot_left }}" y="{{ lane.y }}" width="{{ journey.plot_width }}"'
    ' height="{{ lane.height }}"/><text class="lane-label" x="4" y="{{ lane.middle }}" '
    'dominant-baseline="central">{{ lane.label }}</text></g>\n  {% endfor %}'
    '{% for tick in journey.ticks %}<g class="tick"><line x1="{{ tick.x }}" x2="{{ tick.x }}" '
    'y1="{{ journey.lanes.0.y }}" y2="{{ journey.axis_y }}"/><text x="{{ tick.x }}" '
    'y="{{ journey.tick_label_y }}" text-anchor="middle">{{ tick.label }}</text></g>\n  '
    "{% endfor %}"
    '{% for x in journey.breaks %}<line class="break" x1="{{ x }}" x2="{{ x }}" '
    'y1="{{ journey.lanes.0.y }}" y2="{{ journey.axis_y }}"/>{% endfor %}'
    "{% endlocalize %}"
)


def _shape_before(shape: plots.Shape) -> str:
    title = format_html("<title>{}</title>", shape.title) if shape.title else ""
    if shape.kind == "circle":
        return format_html(
            '<circle class="{}" cx="{}" cy="{}" r="5">{}</circle>',
            shape.css,
            shape.x,
            shape.y,
            title,
        )
    if shape.kind == "path":
        return format_html('<path class="{}" d="{}">{}</path>', shape.css, shape.path, title)
    text = (
        format_html('<text x="{}" y="{}">{}</text>', shape.text_x, shape.text_y, shape.text)
        if shape.text
        else ""
    )
    return format_html(
        '<g class="{}">{}<rect x="{}" y="{}" width="{}" height="{}" rx="2"/>{}</g>',
        shape.css,
        title,
        shape.x,
        shape.y,
        shape.width,
        shape.height,
        text,
    )


def test_the_svg_strings_are_the_markup_of_the_template_loops() -> None:
    data = plots.JourneyData(
        aphereses=[plots.Event(-30, 'apheresis <b>"A&B"</b>')],
        bridging=[plots.Period(-20, -12, "R-<CHOP>")],
        lymphodepletion=[plots.Period(-5, -3, "flu/cy")],
        infusions=[plots.Event(0, "infusion")],
        crs=[plots.GradedDay(day, day % 3 or None, f"day {day} <x>") for day in range(0, 31)],
        therapy=[plots.Event(2, "tocilizumab & co", text="<T>", css="therapy-x")],
        responses=[plots.Event(28, "CR", text="CR", css="resp-good")],
        visits=[plots.Event(100, "day 100", css="overdue")],
        death=plots.Event(400, "died"),
    )
    journey = plots.journey(data)
    assert journey is not None
    assert str(journey.grid_svg) == Template(LOOPS_BEFORE).render(Context({"journey": journey}))
    assert str(journey.shapes_svg) == "".join(_shape_before(shape) for shape in journey.shapes)
    assert "&lt;T&gt;" in journey.shapes_svg and "<T>" not in journey.shapes_svg
