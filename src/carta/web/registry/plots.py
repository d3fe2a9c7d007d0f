"""The patient's journey as a swimmer-style plot, and the dashboard's monthly bars: geometry
for small hand-written SVG templates (``registry/_journey.svg``, ``registry/_bars.svg``).

No plotting library: the shapes are few (a few dozen day cells and markers), the page must stay
fast (ADR 0233), and a template keeps every label translatable and every shape a link-free,
titled element that screen readers and tests can read. This module only lays out what the
services and adapters computed; it grades nothing.

The day axis is piecewise linear (days after the first infusion, day 0): the weeks before the
infusion, the first 30 days (one cell per day, where CRS and ICANS happen), then the months
and years of follow-up, each in a fixed share of the width, so a day-3 grade stays readable
beside a 5-year visit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils.html import conditional_escape as escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 960
LABEL_WIDTH = 118
RIGHT_MARGIN = 18
TOP = 8
LANE_GAP = 6
AXIS_HEIGHT = 26
EARLY_LAST_DAY = 30  # the daily-grading window: one cell per day up to day 30
DEFAULT_FIRST_DAY = -7
MIN_TICK_SPACING = 30
MIN_CELL_TEXT_WIDTH = 9.0
FOLLOW_UP_TICKS = (60, 100, 180, 365, 730, 1095, 1461, 1826, 2557, 3652, 5479)
EARLY_TICKS = (0, 7, 14, 21, 28)
# Shares of the plot width: before the infusion, days 0-30, after day 30.
SHARE_BEFORE, SHARE_EARLY, SHARE_LATE = 0.2, 0.5, 0.3
SHARE_BEFORE_SHORT = 0.26  # when nothing happens after day 30

LANE_HEIGHTS = {"journey": 30, "crs": 22, "icans": 22, "therapy": 22, "outcome": 36}
OUTCOME_CHIP_OFFSET = -7  # responses above the lane's centre line, visits below
OUTCOME_VISIT_OFFSET = 9


@dataclass(frozen=True, slots=True)
class DayScale:
    """Maps a day (after the first infusion) to an x position; piecewise linear."""

    first_day: int
    last_day: int
    left: float
    right: float

    def _segments(self) -> list[tuple[float, float, float, float]]:
        """``(day_from, day_to, x_from, x_to)`` for each segment."""
        width = self.right - self.left
        late = self.last_day > EARLY_LAST_DAY
        before_share = SHARE_BEFORE if late else SHARE_BEFORE_SHORT
        x_zero = self.left + width * before_share
        x_early_end = x_zero + width * SHARE_EARLY if late else self.right
        segments = [
            (float(self.first_day), 0.0, self.left, x_zero),
            (0.0, EARLY_LAST_DAY + 1.0, x_zero, x_early_end),
        ]
        if late:
            segments.append((EARLY_LAST_DAY + 1.0, self.last_day + 1.0, x_early_end, self.right))
        return segments

    def x(self, day: float) -> float:
        """The x position of the start of ``day`` (clamped to the plot)."""
        segments = self._segments()
        day_from, day_to, x_from, x_to = segments[-1]
        for segment in segments:
            if day <= segment[1]:
                day_from, day_to, x_from, x_to = segment
                break
        if day_to == day_from:
            return x_from
        share = (min(max(day, day_from), day_to) - day_from) / (day_to - day_from)
        return round(x_from + share * (x_to - x_from), 1)

    def breaks(self) -> list[float]:
        """The x positions where the scale changes (drawn as dashed lines)."""
        return [segment[2] for segment in self._segments()[1:]]


@dataclass(frozen=True, slots=True)
class Lane:
    """A horizontal band of the plot with its label."""

    key: str
    label: str
    y: float
    height: float

    @property
    def middle(self) -> float:
        """The y of the lane's centre line."""
        return self.y + self.height / 2


@dataclass(frozen=True, slots=True)
class Shape:
    """One element of the plot, positioned: a box (``rect``, with optional centred text), a
    ``circle`` or a ``path`` (markers); ``css`` styles it, ``title`` is its hover text."""

    kind: str  # "rect", "circle" or "path"
    css: str
    title: str = ""
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    text: str = ""
    path: str = ""

    @property
    def text_x(self) -> float:
        """The centre of a box, where its text goes."""
        return round(self.x + self.width / 2, 1)

    @property
    def text_y(self) -> float:
        """The middle of a box."""
        return round(self.y + self.height / 2, 1)

    def svg(self) -> SafeString:
        """The SVG element, its hover text escaped (built here: a hundred shapes through the
        template language would cost the page more than everything else on it)."""
        return mark_safe(self._svg())

    def _svg(self) -> str:
        # f-strings of escaped values: the markup of format_html at a fraction of its cost
        # (numbers are written as str() writes them, as format_html does; ADR 0289).
        title = f"<title>{escape(self.title)}</title>" if self.title else ""
        css = escape(self.css)
        if self.kind == "circle":
            return f'<circle class="{css}" cx="{self.x}" cy="{self.y}" r="5">{title}</circle>'
        if self.kind == "path":
            return f'<path class="{css}" d="{escape(self.path)}">{title}</path>'
        text = (
            f'<text x="{self.text_x}" y="{self.text_y}">{escape(self.text)}</text>'
            if self.text
            else ""
        )
        return (
            f'<g class="{css}">{title}<rect x="{self.x}" y="{self.y}" width="{self.width}" '
            f'height="{self.height}" rx="2"/>{text}</g>'
        )


def _marker(kind: str, x: float, y: float) -> str:
    """The SVG path of a marker centred on ``(x, y)``."""
    shapes = {
        "diamond": f"M {x} {y - 7} l 7 7 l -7 7 l -7 -7 z",
        "triangle": f"M {x} {y - 8} l 8 14 l -16 0 z",
        "cross": f"M {x - 6} {y - 6} l 12 12 m 0 -12 l -12 12",
        "arrow": f"M {x - 2} {y - 6} l 8 6 l -8 6 z",
    }
    return shapes[kind]


CHIP_WIDTH_PER_CHARACTER = 6.5
CHIP_MIN_WIDTH = 12.0
CHIP_HEIGHT = 14.0


@dataclass(frozen=True, slots=True)
class Tick:
    """An axis tick at ``x`` labelled ``label``."""

    x: float
    label: str


@dataclass
class Journey:
    """Everything the journey template draws."""

    width: int
    height: int
    lanes: list[Lane]
    shapes: list[Shape] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    breaks: list[float] = field(default_factory=list)
    zero_x: float = 0.0
    axis_y: float = 0.0
    plot_left: float = LABEL_WIDTH
    plot_right: float = WIDTH - RIGHT_MARGIN

    @property
    def plot_width(self) -> float:
        """The width of the plotting area."""
        return self.plot_right - self.plot_left

    @property
    def tick_label_y(self) -> float:
        """Where the tick labels sit."""
        return self.axis_y + 12

    @property
    def axis_label_y(self) -> float:
        """Where the axis title sits."""
        return self.axis_y + 24

    @property
    def shapes_svg(self) -> SafeString:
        """Every shape's SVG element, in order (one string: a template loop over a hundred
        shapes cost more than building them)."""
        return mark_safe("".join(shape._svg() for shape in self.shapes))

    @property
    def grid_svg(self) -> SafeString:
        """The lanes with their labels, the axis ticks and the dashed scale breaks."""
        top = self.lanes[0].y if self.lanes else 0.0
        lanes = "".join(
            f'<g class="lane" data-lane="{escape(lane.key)}"><rect class="lane-bg" '
            f'x="{self.plot_left}" y="{lane.y}" width="{self.plot_width}" '
            f'height="{lane.height}"/><text class="lane-label" x="4" y="{lane.middle}" '
            f'dominant-baseline="central">{escape(lane.label)}</text></g>\n  '
            for lane in self.lanes
        )
        ticks = "".join(
            f'<g class="tick"><line x1="{tick.x}" x2="{tick.x}" y1="{top}" '
            f'y2="{self.axis_y}"/><text x="{tick.x}" y="{self.tick_label_y}" '
            f'text-anchor="middle">{escape(tick.label)}</text></g>\n  '
            for tick in self.ticks
        )
        breaks = "".join(
            f'<line class="break" x1="{x}" x2="{x}" y1="{top}" y2="{self.axis_y}"/>'
            for x in self.breaks
        )
        return mark_safe(lanes + ticks + breaks)


# --- inputs (plain values the view reads from the selectors) -----------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """Something that lasts from ``start`` to ``end`` (days after the first infusion)."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Event:
    """Something on one day; ``text`` is a short mark (``CR``), ``css`` its style."""

    day: int
    label: str
    text: str = ""
    css: str = ""


@dataclass(frozen=True, slots=True)
class GradedDay:
    """One day's computed grade (``None`` when not determined) and its hover text."""

    day: int
    grade: int | None
    title: str


@dataclass(frozen=True, slots=True)
class JourneyData:
    """The patient's journey in days after the first infusion."""

    aphereses: Sequence[Event] = ()
    bridging: Sequence[Period] = ()
    lymphodepletion: Sequence[Period] = ()
    infusions: Sequence[Event] = ()
    crs: Sequence[GradedDay] = ()
    icans: Sequence[GradedDay] = ()
    therapy: Sequence[Event] = ()
    responses: Sequence[Event] = ()
    visits: Sequence[Event] = ()
    death: Event | None = None
    last_contact: Event | None = None


def day_of(when: date, day_zero: date) -> int:
    """Days from ``day_zero`` to ``when``."""
    return (when - day_zero).days


def _all_days(data: JourneyData) -> list[int]:
    days: list[int] = []
    for events in (data.aphereses, data.infusions, data.therapy, data.responses, data.visits):
        days.extend(event.day for event in events)
    for periods in (data.bridging, data.lymphodepletion):
        for period in periods:
            days.extend((period.start, period.end))
    days.extend(graded.day for graded in (*data.crs, *data.icans))
    days.extend(event.day for event in (data.death, data.last_contact) if event is not None)
    return days


def _lanes() -> list[Lane]:
    labels = {
        "journey": _("Treatment"),
        "crs": _("CRS grade"),
        "icans": _("ICANS grade"),
        "therapy": _("Toxicity therapy"),
        "outcome": _("Response, follow-up"),
    }
    lanes, y = [], float(TOP)
    for key, height in LANE_HEIGHTS.items():
        lanes.append(Lane(key, str(labels[key]), y, height))
        y += height + LANE_GAP
    return lanes


def _ticks(scale: DayScale) -> list[Tick]:
    candidates = [scale.first_day, *EARLY_TICKS]
    candidates += [day for day in FOLLOW_UP_TICKS if day <= scale.last_day]
    ticks: list[Tick] = []
    for day in sorted(set(candidates)):
        x = scale.x(day)
        if ticks and x - ticks[-1].x < MIN_TICK_SPACING and day != 0:
            continue
        ticks.append(Tick(x, str(day)))
    return ticks


def _grade_cells(scale: DayScale, lane: Lane, days: Iterable[GradedDay]) -> list[Shape]:
    cells = []
    for graded in days:
        left, right = scale.x(graded.day), scale.x(graded.day + 1)
        width = round(max(right - left - 1.0, 1.5), 1)
        known = graded.grade is not None
        text = str(graded.grade) if known else "?"
        cells.append(
            Shape(
                "rect",
                f"cell g{graded.grade}" if known else "cell gna",
                graded.title,
                x=round(left + 0.5, 1),
                y=lane.y + 2,
                width=width,
                height=lane.height - 4,
                text=text if width >= MIN_CELL_TEXT_WIDTH else "",
            )
        )
    return cells


def _periods(scale: DayScale, lane: Lane, periods: Iterable[Period], css: str) -> list[Shape]:
    return [
        Shape(
            "rect",
            css,
            period.label,
            x=scale.x(period.start),
            y=lane.y + 9,
            width=round(max(scale.x(period.end + 1) - scale.x(period.start), 3.0), 1),
            height=lane.height - 18,
        )
        for period in periods
    ]


def _markers(scale: DayScale, lane: Lane, events: Iterable[Event], kind: str) -> list[Shape]:
    return [
        Shape("path", kind, event.label, path=_marker(kind, scale.x(event.day + 0.5), lane.middle))
        for event in events
    ]


def _circles(
    scale: DayScale, lane: Lane, events: Iterable[Event], offset: float = 0.0
) -> list[Shape]:
    return [
        Shape(
            "circle",
            f"circle {event.css}",
            event.label,
            x=scale.x(event.day + 0.5),
            y=lane.middle + offset,
        )
        for event in events
    ]


def _chips(
    scale: DayScale, lane: Lane, events: Iterable[Event], offset: float = 0.0
) -> list[Shape]:
    """Labelled boxes; one that would overlap the previous is moved just right of it."""
    chips: list[Shape] = []
    for event in sorted(events, key=lambda item: item.day):
        width = max(CHIP_MIN_WIDTH, CHIP_WIDTH_PER_CHARACTER * len(event.text) + 4)
        left = scale.x(event.day + 0.5) - width / 2
        if chips and left < chips[-1].x + chips[-1].width + 1:
            left = chips[-1].x + chips[-1].width + 1
        chips.append(
            Shape(
                "rect",
                f"chip {event.css}",
                event.label,
                x=round(left, 1),
                y=round(lane.middle + offset - CHIP_HEIGHT / 2, 1),
                width=round(width, 1),
                height=CHIP_HEIGHT,
                text=event.text,
            )
        )
    return chips


def _swim_line(scale: DayScale, lane: Lane, data: JourneyData, first: int) -> list[Shape]:
    """The patient's line from the first event to death (a cross) or last contact (an arrow)."""
    end = data.death or data.last_contact
    if end is None:
        return []
    closing = "cross" if data.death is not None else "arrow"
    left, right = scale.x(first), scale.x(end.day + 0.5)
    line = Shape("rect", "swim", x=left, y=lane.middle - 1, width=max(right - left, 0.0), height=2)
    return [line, Shape("path", closing, end.label, path=_marker(closing, right, lane.middle))]


def journey(data: JourneyData) -> Journey | None:
    """The plot of ``data``; ``None`` when there is nothing to draw."""
    days = _all_days(data)
    if not days:
        return None
    lanes = _lanes()
    by_key = {lane.key: lane for lane in lanes}
    first = min(min(days), DEFAULT_FIRST_DAY)
    scale = DayScale(first, max(max(days), EARLY_LAST_DAY), LABEL_WIDTH, WIDTH - RIGHT_MARGIN)
    plot = Journey(width=WIDTH, height=0, lanes=lanes)
    journey_lane = by_key["journey"]
    plot.shapes += _swim_line(scale, journey_lane, data, min(days))
    plot.shapes += _periods(scale, journey_lane, data.bridging, "bridging")
    plot.shapes += _periods(scale, journey_lane, data.lymphodepletion, "lymphodepletion")
    plot.shapes += _markers(scale, journey_lane, data.aphereses, "diamond")
    plot.shapes += _markers(scale, journey_lane, data.infusions, "triangle")
    plot.shapes += _grade_cells(scale, by_key["crs"], data.crs)
    plot.shapes += _grade_cells(scale, by_key["icans"], data.icans)
    plot.shapes += _chips(scale, by_key["therapy"], data.therapy)
    outcome = by_key["outcome"]
    plot.shapes += _circles(scale, outcome, data.visits, OUTCOME_VISIT_OFFSET)
    plot.shapes += _chips(scale, outcome, data.responses, OUTCOME_CHIP_OFFSET)
    last = lanes[-1]
    plot.axis_y = last.y + last.height + 4
    plot.height = int(plot.axis_y + AXIS_HEIGHT)
    plot.ticks = _ticks(scale)
    plot.breaks = scale.breaks()
    plot.zero_x = scale.x(0)
    return plot


# --- the dashboard's bars -------------------------------------------------------------------

BAR_WIDTH = 720
BAR_HEIGHT = 150
BAR_BOTTOM = 22
BAR_TOP = 16
BAR_LEFT = 8


@dataclass(frozen=True, slots=True)
class Bar:
    """One month's bar."""

    x: float
    y: float
    width: float
    height: float
    count: int
    label: str
    show_label: bool

    @property
    def middle(self) -> float:
        """The bar's centre line (where its count is written)."""
        return round(self.x + self.width / 2, 1)

    @property
    def count_y(self) -> float:
        """Just above the bar."""
        return round(self.y - 3, 1)


@dataclass(frozen=True, slots=True)
class BarChart:
    """Bars of counts per month."""

    width: int
    height: int
    baseline: float
    bars: list[Bar]

    @property
    def label_y(self) -> float:
        """Where the month labels sit, under the baseline."""
        return self.baseline + 14


def month_bars(counts: Sequence[tuple[date, int]]) -> BarChart:
    """A bar per month (``counts`` in month order, every month present)."""
    plot_height = BAR_HEIGHT - BAR_BOTTOM - BAR_TOP
    slot = (BAR_WIDTH - 2 * BAR_LEFT) / max(len(counts), 1)
    top = max((count for _month, count in counts), default=0) or 1
    bars = []
    for index, (month, count) in enumerate(counts):
        height = plot_height * count / top
        bars.append(
            Bar(
                x=round(BAR_LEFT + index * slot + slot * 0.15, 1),
                y=round(BAR_TOP + plot_height - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                count=count,
                label=f"{month:%Y-%m}",
                show_label=month.month in (1, 7) or index == 0,
            )
        )
    return BarChart(BAR_WIDTH, BAR_HEIGHT, BAR_TOP + plot_height, bars)
