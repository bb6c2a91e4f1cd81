"""Server-side charts: scales, lines with gaps, grouped bars, the SVG the template draws, and safe CSV."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string

from console.charts import (
    BAD,
    BRAND,
    Series,
    Table,
    bar_chart,
    chart_csv,
    count_label,
    csv_safe,
    duration_label,
    line_chart,
    nice_ceiling,
)

SVG = "{http://www.w3.org/2000/svg}"
TABLE = Table(["Day", "Sent"], [["2026-03-01", 3]])


def _line(values: list[list[float | None]], **options) -> object:
    categories = [f"Mar {day}" for day in range(1, len(values[0]) + 1)]
    return line_chart(
        name="sent",
        title="Sent per day",
        description="What left the queue.",
        categories=categories,
        series=[Series(f"S{index}", one, BRAND) for index, one in enumerate(values)],
        x_label="Day",
        y_label="Messages",
        table=TABLE,
        **options,
    )


def _svg(chart) -> ET.Element:
    html = render_to_string("console/dashboard/_chart.html", {"chart": chart, "query": "date_from=x"})
    return ET.fromstring(html[html.index("<svg") : html.index("</svg>") + len("</svg>")])


@pytest.mark.parametrize(
    ("highest", "expected"),
    [
        (0, (4.0, 1.0)),
        (3, (3.0, 1.0)),
        (8, (8.0, 2.0)),
        (9, (10.0, 5.0)),
        (130, (150.0, 50.0)),
        (2700, (3000.0, 1000.0)),
    ],
)
def test_the_axis_top_is_a_round_number_above_the_highest_value(highest, expected):
    assert nice_ceiling(highest) == expected


def test_labels_read_like_people_write_them():
    assert [count_label(v) for v in (0, 2.5, 1500, 12000, 3_500_000)] == ["0", "2.5", "1,500", "12k", "3.5M"]
    assert [duration_label(s) for s in (45, 180, 190, 3600, 8100, 86400)] == [
        "45 s",
        "3 min",
        "3 min 10 s",
        "1 h",
        "2 h 15 min",
        "1 d",
    ]


def test_a_line_chart_has_a_point_per_value_and_breaks_at_gaps():
    chart = _line([[1, 2, None, 4, 5]])

    svg = _svg(chart)
    assert len(svg.findall(f".//{SVG}circle")) == 4
    assert len(svg.findall(f".//{SVG}polyline")) == 2  # 1-2 and 4-5
    assert svg.find(f"{SVG}title").text == "Sent per day"
    assert svg.find(f"{SVG}desc").text.startswith("What left the queue.")
    assert svg.get("viewBox") == "0 0 400 240" and svg.get("width") == "100%"
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert "Day" in texts and "Messages" in texts and "Mar 1" in texts
    titles = [circle.find(f"{SVG}title").text for circle in svg.iter(f"{SVG}circle")]
    assert titles[0] == "Mar 1 · S0: 1"


def test_points_sit_on_the_scale():
    chart = _line([[0, 8]])
    low, high = chart.lines[0].points
    assert low.y == chart.plot_bottom and high.y == chart.plot_top
    assert low.x == chart.plot_left and high.x == chart.plot_right


def test_a_single_day_is_a_point_without_a_line():
    svg = _svg(_line([[3], [1]]))
    assert len(svg.findall(f".//{SVG}circle")) == 2
    assert svg.findall(f".//{SVG}polyline") == []


def test_a_rate_chart_keeps_its_fixed_top():
    chart = _line([[50.0, 100.0]], y_max=100)
    assert [tick.label for tick in chart.y_ticks] == ["0", "25", "50", "75", "100"]


def test_x_labels_are_thinned_to_stay_apart():
    chart = _line([[1] * 90])
    assert len(chart.x_ticks) <= 6
    assert len(chart.lines[0].points) == 90


def test_grouped_bars_one_per_category_and_series_in_the_series_colour():
    chart = bar_chart(
        name="codes",
        title="Failures",
        description="By code.",
        categories=["131026", "131047", "a_long_template_name"],
        series=[Series("Failed", [2, 1, 0], BAD), Series("Other", [1, 1, 1], BRAND)],
        x_label="Code",
        y_label="Messages",
        table=TABLE,
    )

    svg = _svg(chart)
    bars = svg.findall(f".//{SVG}rect")
    assert len(bars) == 6
    assert [bar.get("fill") for bar in bars[:2]] == [BAD, BRAND]
    assert bars[0].find(f"{SVG}title").text == "131026 · Failed: 2"
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[0] == 2 * heights[1] and heights[4] == 0
    assert all(len(tick.label) <= 14 for tick in chart.x_ticks)


def test_a_chart_without_data_is_empty_and_draws_nothing():
    chart = _line([[0, 0, 0]])
    assert chart.is_empty and chart.lines == [] and chart.y_ticks == []
    html = render_to_string("console/dashboard/_chart.html", {"chart": chart, "query": ""})
    assert "<svg" not in html and "Nothing to show in this range." in html


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (3, "3"),
        (None, ""),
        (50.0, "50.0"),
    ],
)
def test_csv_cells_never_start_a_formula(cell, expected):
    assert csv_safe(cell) == expected


def test_chart_csv_is_the_table():
    chart = _line([[1]])
    chart.table.rows.append(["=evil", None])
    rows = list(csv.reader(io.StringIO(chart_csv(chart))))
    assert rows == [["Day", "Sent"], ["2026-03-01", "3"], ["'=evil", ""]]
