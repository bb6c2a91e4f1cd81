"""The tenant dashboard: figures from the roll-ups on the page and in each chart's CSV, range validation,
charts as valid SVG, the empty state, and the outsider refused."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.rollups import usage_day_rollup
from messaging.models import Message
from tests.analytics.dataset import D, seed_dataset
from tests.analytics.factories import MessageFactory, TemplateFactory, at
from tests.conftest import host_of
from tests.console.conftest import console_client

SVG = "{http://www.w3.org/2000/svg}"
DAY = D.isoformat()
ONE_DAY = f"/app/dashboard/?date_from={DAY}&date_to={DAY}"
THREE_DAYS = f"/app/dashboard/?date_from={(D - timedelta(days=1)).isoformat()}&date_to={(D + timedelta(days=1)).isoformat()}"


@pytest.fixture
def data(tenant_a, in_tenant):
    """The analytics suite's hand-computed history (see tests/analytics/dataset.py), rolled up."""
    with in_tenant(tenant_a):
        data = seed_dataset()
        for offset in (-1, 0, 1):
            usage_day_rollup(day=D + timedelta(days=offset))
    return data


def _csv(client, url: str, chart: str) -> list[list[str]]:
    response = client.get(f"{url}&format=csv&chart={chart}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def _found(pattern: str, text: str, group: int = 0) -> str:
    match = re.search(pattern, text, re.S)
    assert match is not None, pattern
    return match.group(group)


def _section(page: str, name: str) -> str:
    return _found(rf'<section class="card chart-card" id="chart-{name}".*?</section>', page)


def _svg(page: str, name: str) -> ET.Element:
    return ET.fromstring(_found(r"<svg.*?</svg>", _section(page, name)))


def _table(page: str, name: str) -> list[list[str]]:
    body = _found(r"<tbody>(.*?)</tbody>", _section(page, name), 1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_day_s_figures_are_on_the_page_and_in_the_csv(console_a, data):
    response = console_a.get(ONE_DAY)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-current="page">Dashboard<' in page
    assert "50.0%" in page  # delivery rate: 4 delivered of 8 sent
    assert "4 delivered out of 8 sent." in page
    assert "3 min" in page  # median first reply: 180 s
    assert _table(page, "messages") == [[DAY, "8", "4", "2", "3", "5"]]
    assert _csv(console_a, ONE_DAY, "messages") == [
        ["Day", "Sent", "Delivered", "Read", "Failed", "Received"],
        [DAY, "8", "4", "2", "3", "5"],
    ]
    assert _table(page, "rates") == [[DAY, "8", "4", "2", "50.0", "50.0"]]
    assert _csv(console_a, ONE_DAY, "rates")[1] == [DAY, "8", "4", "2", "50.0", "50.0"]
    assert _table(page, "conversations") == [
        ["marketing", "1"],
        ["utility", "0"],
        ["authentication", "0"],
        ["service", "1"],
    ]
    assert _csv(console_a, ONE_DAY, "conversations")[1:] == [
        ["marketing", "1"],
        ["utility", "0"],
        ["authentication", "0"],
        ["service", "1"],
    ]
    template = [
        data.t1.name,
        data.t1.language,
        data.t1.category,
        "2",
        "1",
        "1",
        "1",
        "1",
        "50.0",
        "100.0",
        "100.0",
    ]
    assert _table(page, "templates") == [template]
    assert _csv(console_a, ONE_DAY, "templates")[1:] == [template]
    assert _table(page, "reply-times") == [[DAY, "3", "3 min", "180"]]
    assert _csv(console_a, ONE_DAY, "reply-times")[1:] == [[DAY, "3", "3 min", "180"]]
    failures = [
        ["131026", "message undeliverable", "2"],
        ["131047", "outside the 24-hour window; needs a template", "1"],
    ]
    assert _table(page, "failures") == failures
    assert _csv(console_a, ONE_DAY, "failures")[1:] == failures


def test_the_figures_come_from_the_roll_ups(console_a, data, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        Message.objects.all().delete()

    assert _csv(console_a, ONE_DAY, "messages")[1] == [DAY, "8", "4", "2", "3", "5"]


def test_every_day_of_the_range_is_a_point_and_a_table_row(console_a, data):
    page = console_a.get(THREE_DAYS).content.decode()

    svg = _svg(page, "messages")
    assert svg.find(f"{SVG}title").text == "Messages per day"
    assert svg.get("viewBox") == "0 0 400 240" and svg.get("width") == "100%"
    assert len(svg.findall(f".//{SVG}circle")) == 3 * 4  # three days, four series
    assert len(svg.findall(f".//{SVG}polyline")) == 4
    assert {text.text for text in svg.iter(f"{SVG}text")} >= {
        "Messages",
        "Day (UTC)",
        "Mar 1",
        "Mar 2",
        "Mar 3",
    }
    assert [row[0:2] for row in _table(page, "messages")] == [
        ["2026-03-01", "1"],
        [DAY, "8"],
        ["2026-03-03", "1"],
    ]
    conversations = _svg(page, "conversations")
    assert len(conversations.findall(f".//{SVG}rect")) == 4  # one bar per category
    assert len(_svg(page, "templates").findall(f".//{SVG}rect")) == 4  # one template, four series
    assert len(_svg(page, "failures").findall(f".//{SVG}rect")) == 2
    for colour in ("#0b7a5a", "#1769aa", "#8d5b00", "#b42318"):
        assert colour in page
    assert 'class="legend"' in page


def test_a_day_without_sends_breaks_the_rate_line(console_a, data, tenant_a, in_tenant):
    since, until = (D - timedelta(days=2)).isoformat(), DAY
    page = console_a.get(f"/app/dashboard/?date_from={since}&date_to={until}").content.decode()

    rates = _svg(page, "rates")
    assert len(rates.findall(f".//{SVG}circle")) == 2 * 2  # 28 Feb has no rate
    assert _table(page, "rates")[0] == ["2026-02-28", "0", "0", "0", "—", "—"]
    assert _csv(console_a, f"/app/dashboard/?date_from={since}&date_to={until}", "rates")[1] == [
        "2026-02-28",
        "0",
        "0",
        "0",
        "",
        "",
    ]


def test_an_empty_range_shows_the_empty_state_not_a_chart(console_a, tenant_a):
    response = console_a.get("/app/dashboard/?date_from=2025-01-01&date_to=2025-01-31")

    page = response.content.decode()
    assert response.status_code == 200
    assert "No messages in this range." in page
    assert "<svg" not in page


def test_the_default_range_is_the_last_30_days_with_presets(console_a, tenant_a):
    today = timezone.now().date()
    page = console_a.get("/app/dashboard/").content.decode()

    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in page
    assert f'value="{today.isoformat()}"' in page
    for days in (7, 30, 90):
        start = (today - timedelta(days=days - 1)).isoformat()
        assert f"?date_from={start}&amp;date_to={today.isoformat()}" in page
    assert 'aria-current="true">30 days' in page


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("date_from=2026-03-05&date_to=2026-03-01", "The start date must be on or before the end date."),
        ("date_from=2025-01-01&date_to=2026-03-01", "Choose a range of at most 366 days."),
        ("date_from=yesterday&date_to=2026-03-01", "Enter a valid date."),
        ("date_from=1900-01-01&date_to=1900-01-02", "Choose days between"),
        ("date_to=2026-03-01", "This field is required."),
    ],
)
def test_a_bad_range_shows_the_error_and_no_chart(console_a, tenant_a, query, error):
    response = console_a.get(f"/app/dashboard/?{query}")

    page = response.content.decode()
    assert response.status_code == 200
    assert error in page
    assert "<svg" not in page
    csv_response = console_a.get(f"/app/dashboard/?{query}&format=csv&chart=messages")
    assert csv_response.status_code == 400
    assert error in csv_response.content.decode()


def test_csv_download_names_its_file_and_refuses_unknown_charts(console_a, data):
    response = console_a.get(f"{ONE_DAY}&format=csv&chart=failures")
    assert response["Content-Disposition"] == f'attachment; filename="failures-{DAY}-to-{DAY}.csv"'
    assert console_a.get(f"{ONE_DAY}&format=csv&chart=nope").status_code == 404


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(console_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = MessageFactory(timestamp=at(DAY, "10:00"), status=Message.Status.DELIVERED)
        template = TemplateFactory(account=message.phone_number.account, name="=HYPERLINK(1)")
        Message.objects.filter(pk=message.pk).update(template=template)
        usage_day_rollup(day=D)

    rows = _csv(console_a, ONE_DAY, "templates")
    assert rows[1][0] == "'=HYPERLINK(1)"
    assert "=HYPERLINK(1)" in console_a.get(ONE_DAY).content.decode()


def test_another_tenants_session_and_anonymous_visitors_go_to_the_login_page(tenant_a, console_b, data):
    console_b.defaults["HTTP_HOST"] = host_of(tenant_a)
    response = console_b.get(ONE_DAY)
    assert response.status_code == 302 and response.url.startswith("/app/login/")
    anonymous = console_client(host_of(tenant_a)).get(f"{ONE_DAY}&format=csv&chart=messages")
    assert anonymous.status_code == 302 and anonymous.url.startswith("/app/login/")


def test_beta_sees_none_of_alphas_figures(console_b, data):
    assert "No messages in this range." in console_b.get(ONE_DAY).content.decode()


def test_the_dashboard_is_not_served_on_the_public_host(platform_console):
    assert platform_console.get("/app/dashboard/").status_code == 404
