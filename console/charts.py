"""Server-side charts: a chart is data (categories, series, its table) plus the geometry of an SVG
that `console/dashboard/_chart.html` draws. No JavaScript: the page works as plain HTML, and every
chart's numbers are also a table and a CSV file (`chart_csv`).

Geometry is in the SVG's own units (`WIDTH` x `HEIGHT`); the template sets `viewBox` and a width of
100%, so a chart scales to the card it sits in. The units are chosen so that the 11-unit labels stay
readable on a phone (about 10 px at 360 px wide).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

# The console's palette (console.css): SVG presentation attributes cannot read CSS variables.
BRAND, INFO, WARN, BAD = "#0b7a5a", "#1769aa", "#8d5b00", "#b42318"

WIDTH, HEIGHT = 400, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 46  # margins around the plot area: axis labels live there
MAX_X_LABELS = 6
MAX_BAR_WIDTH = 36
LABEL_CHAR_WIDTH = 8  # an 11 to 14 unit label's average character width, for shortening labels
CSV_UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None
Kind = Literal["line", "bar"]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per category; None: no value (a gap in a line)
    colour: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    colour: str
    segments: list[str]  # `points` attributes of polylines; a None value splits the line
    points: list[Point]


@dataclass
class Chart:
    """One chart: what it shows, its table, and the shapes to draw (empty when there is no data)."""

    name: str
    title: str
    description: str
    kind: Kind
    categories: list[str]
    series: list[Series]
    x_label: str
    y_label: str
    table: Table
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.categories or all(not value for series in self.series for value in series.values)

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def height(self) -> int:
        return HEIGHT

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return WIDTH - RIGHT

    @property
    def plot_top(self) -> int:
        return TOP

    @property
    def plot_bottom(self) -> int:
        return HEIGHT - BOTTOM

    @property
    def x_label_y(self) -> int:
        return HEIGHT - 6

    @property
    def y_label_x(self) -> int:
        return 12

    @property
    def y_label_y(self) -> float:
        return (TOP + HEIGHT - BOTTOM) / 2


def count_label(value: float) -> str:
    """`7`, `2.5`, `1,500`, `12k`, `3.5M`: short enough for an axis."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def percent_label(value: float) -> str:
    return f"{value:.0f}%"


def duration_label(seconds: float) -> str:
    """`45 s`, `3 min`, `2 h 15 min`, `1 d`: a reply time as people say it."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min" if not rest else f"{minutes} min {rest} s"
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours} h" if rest < 60 else f"{hours} h {rest // 60} min"
    return f"{seconds / 86400:.1f} d".replace(".0 d", " d")


def nice_ceiling(value: float, *, steps: int = 4) -> tuple[float, float]:
    """The axis top and tick step for values up to `value`: a step of 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return float(steps), 1.0
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = float(max(step, 1.0))
    return step * math.ceil(value / step), step


def line_chart(
    *,
    name: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[Series],
    x_label: str,
    y_label: str,
    table: Table,
    y_max: float | None = None,
    y_format: Callable[[float], str] = count_label,
) -> Chart:
    """A line per series over the categories (days); `y_max` fixes the axis (100 for rates)."""
    chart = Chart(name, title, description, "line", categories, series, x_label, y_label, table)
    if chart.is_empty:
        return chart
    top, step = _axis(series, y_max)
    chart.y_ticks = _y_ticks(top, step, y_format)
    positions = _line_positions(len(categories))
    chart.x_ticks = _x_ticks(categories, positions)
    for one in series:
        segments: list[str] = []
        current: list[str] = []
        points: list[Point] = []
        for index, value in enumerate(one.values):
            if value is None:
                if current:
                    segments.append(" ".join(current))
                current = []
                continue
            x, y = positions[index], _y(value, top)
            current.append(f"{x:.1f},{y:.1f}")
            points.append(Point(x, y, f"{categories[index]} · {one.name}: {y_format(value)}"))
        if current:
            segments.append(" ".join(current))
        chart.lines.append(Line(one.colour, [segment for segment in segments if " " in segment], points))
    return chart


def bar_chart(
    *,
    name: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[Series],
    x_label: str,
    y_label: str,
    table: Table,
    y_format: Callable[[float], str] = count_label,
) -> Chart:
    """Grouped bars: one bar per category and series, the series side by side in each group."""
    chart = Chart(name, title, description, "bar", categories, series, x_label, y_label, table)
    if chart.is_empty:
        return chart
    top, step = _axis(series, None)
    chart.y_ticks = _y_ticks(top, step, y_format)
    slot = (WIDTH - RIGHT - LEFT) / len(categories)
    group = min(slot * 0.8, MAX_BAR_WIDTH * len(series))
    bar_width = group / len(series)
    centres = [LEFT + slot * (index + 0.5) for index in range(len(categories))]
    chart.x_ticks = _x_ticks(categories, centres)
    for index, category in enumerate(categories):
        for position, one in enumerate(series):
            value = one.values[index] or 0
            y = _y(value, top)
            chart.bars.append(
                Bar(
                    x=round(centres[index] - group / 2 + position * bar_width, 1),
                    y=round(y, 1),
                    width=round(max(bar_width - 1, 1), 1),
                    height=round(HEIGHT - BOTTOM - y, 1),
                    colour=one.colour,
                    title=f"{category} · {one.name}: {y_format(value)}",
                )
            )
    return chart


def _axis(series: list[Series], y_max: float | None) -> tuple[float, float]:
    if y_max is not None:
        return y_max, y_max / 4
    highest = max((value for one in series for value in one.values if value is not None), default=0)
    return nice_ceiling(highest)


def _y(value: float, top: float) -> float:
    plot_height = HEIGHT - BOTTOM - TOP
    return HEIGHT - BOTTOM - plot_height * (value / top if top else 0)


def _y_ticks(top: float, step: float, y_format: Callable[[float], str]) -> list[Tick]:
    count = round(top / step)
    return [Tick(round(_y(step * index, top), 1), y_format(step * index)) for index in range(count + 1)]


def _line_positions(count: int) -> list[float]:
    if count == 1:
        return [(LEFT + WIDTH - RIGHT) / 2]
    span = WIDTH - RIGHT - LEFT
    return [LEFT + span * index / (count - 1) for index in range(count)]


def _x_ticks(categories: list[str], positions: list[float]) -> list[Tick]:
    """At most MAX_X_LABELS labels, evenly spread, so that they never overlap."""
    every = max(1, math.ceil(len(categories) / MAX_X_LABELS))
    shown = range(0, len(categories), every)
    room = max(3, int((WIDTH - RIGHT - LEFT) / len(shown) / LABEL_CHAR_WIDTH))
    return [Tick(round(positions[index], 1), _short(categories[index], room)) for index in shown]


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def csv_safe(cell: Cell) -> str:
    """A cell as text that a spreadsheet will not run as a formula."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(CSV_UNSAFE_START) else text


def chart_csv(chart: Chart) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_safe(header) for header in chart.table.headers])
    for row in chart.table.rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return buffer.getvalue()
