"""The workers' counters (platform_core.counters): summed over processes in the database, exposed
by /metrics, compacted without changing a total, and shown on the platform console's health page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_q.signals import post_execute
from django_q.tasks import async_task

from platform_core import counters
from platform_core.models import MetricCounter
from tests.conftest import host_of
from tests.console.conftest import console_client

TOKEN = "metrics-token-for-tests-0123456789"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_counts_from_earlier_tests():
    counters.counters_discard()
    yield
    counters.counters_discard()


@pytest.fixture
def scrape(settings):
    settings.METRICS_TOKEN = TOKEN

    def scrape() -> list[str]:
        response = Client(HTTP_HOST="localhost").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        return response.content.decode().splitlines()

    return scrape


def test_counts_of_several_flushes_are_summed_and_exposed_as_prometheus_counters(scrape):
    counters.counter_add(counters.SENDS, 3, phone_number_id="1065", outcome="sent")
    counters.counter_add(counters.SEND_THROTTLED, phone_number_id="1065", reason="130429")
    assert counters.counters_flush()
    # Another flush in the same minute (another process, or this one later) adds to the same rows.
    counters.counter_add(counters.SENDS, 2, phone_number_id="1065", outcome="sent")
    counters.counter_add(counters.SENDS, phone_number_id="1065", outcome="fail")
    counters.counter_add(counters.GRAPH_ERRORS, code=131026)
    counters.counter_add(counters.SCHEDULE_RUNS, name="platform:health-checks", outcome="success")
    assert counters.counters_flush()

    lines = scrape()

    assert 'platform_sends_total{outcome="sent",phone_number_id="1065"} 5.0' in lines
    assert 'platform_sends_total{outcome="fail",phone_number_id="1065"} 1.0' in lines
    assert 'platform_send_throttled_total{phone_number_id="1065",reason="130429"} 1.0' in lines
    assert 'platform_graph_errors_total{code="131026"} 1.0' in lines
    assert 'platform_schedule_runs_total{name="platform:health-checks",outcome="success"} 1.0' in lines
    assert "# TYPE platform_sends_total counter" in lines
    assert 'platform_metrics_section_failed{section="counters"} 0.0' in lines
    assert MetricCounter.objects.filter(name=counters.SENDS).count() == 2  # one row per series and minute


def test_graph_latency_is_a_cumulative_histogram_by_endpoint_kind(scrape):
    for seconds in (0.004, 0.03, 0.03, 0.2, 12.0):
        counters.histogram_observe(
            counters.GRAPH_REQUEST_DURATION, seconds, counters.GRAPH_DURATION_BUCKETS, kind="messages"
        )
    counters.counters_flush()

    lines = [line for line in scrape() if line.startswith("platform_graph_request_duration_seconds")]

    assert lines == [
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="0.005"} 1.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="0.01"} 1.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="0.025"} 1.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="0.05"} 3.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="0.1"} 3.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="0.25"} 4.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="0.5"} 4.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="1.0"} 4.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="2.5"} 4.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="5.0"} 4.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="10.0"} 4.0',
        'platform_graph_request_duration_seconds_bucket{kind="messages",le="+Inf"} 5.0',
        'platform_graph_request_duration_seconds_count{kind="messages"} 5.0',
        'platform_graph_request_duration_seconds_sum{kind="messages"} 12.264',
    ]


def test_compaction_folds_old_minutes_into_the_all_time_row_without_changing_a_total(scrape):
    counters.counter_add(counters.SENDS, 4, phone_number_id="1065", outcome="sent")
    counters.counters_flush()
    MetricCounter.objects.filter(name=counters.SENDS).update(minute="2020-01-01T10:00:00Z")
    counters.counter_add(counters.SENDS, 1, phone_number_id="1065", outcome="sent")
    counters.counters_flush()

    counters.counters_compact()
    counters.counters_compact()  # a second (or concurrent) compaction finds nothing more to fold

    rows = sorted(MetricCounter.objects.filter(name=counters.SENDS).values_list("minute__year", "value"))
    assert rows == [(1970, 4.0), (rows[1][0], 1.0)] and rows[1][0] > 2020
    assert 'platform_sends_total{outcome="sent",phone_number_id="1065"} 5.0' in scrape()
    # The health page's recent figures leave the old minutes out.
    assert [n.sent for n in counters.traffic_summary(minutes=5).numbers] == [1]


def test_a_failed_flush_keeps_the_counts_for_the_next_one(monkeypatch, scrape):
    counters.counter_add(counters.GRAPH_ERRORS, code=100)
    monkeypatch.setattr(counters, "_table", lambda: "public.no_such_table")
    from django.db import transaction

    with transaction.atomic():
        assert counters.counters_flush() is False
        transaction.set_rollback(True)
    monkeypatch.undo()

    assert counters.counters_flush()
    assert 'platform_graph_errors_total{code="100"} 1.0' in scrape()


def test_schedule_runs_are_counted_by_name_and_outcome_from_the_job_cluster(sync_jobs, scrape):
    async_task("math.floor", 2.5, group="platform:test-schedule")  # the cluster's code path, in-process
    async_task("math.floor", 1.5, group="someone-else")  # not one of our schedules
    # A failed run, as the cluster's monitor reports it (in sync mode the task's exception is raised instead).
    post_execute.send(sender="django_q", task={"group": "platform:test-schedule", "success": False})
    counters.counters_flush()

    lines = scrape()

    assert 'platform_schedule_runs_total{name="platform:test-schedule",outcome="success"} 1.0' in lines
    assert 'platform_schedule_runs_total{name="platform:test-schedule",outcome="failure"} 1.0' in lines
    assert not [line for line in lines if "someone-else" in line]


def test_the_platform_health_page_shows_the_last_minutes_sends_throttles_latency_and_errors(tenant_a):
    counters.counter_add(counters.SENDS, 120, phone_number_id="1065550100", outcome="sent")
    counters.counter_add(counters.SENDS, 2, phone_number_id="1065550100", outcome="retry")
    counters.counter_add(counters.SEND_THROTTLED, 2, phone_number_id="1065550100", reason="130429")
    counters.counter_add(counters.SENDS, 7, phone_number_id="1065550200", outcome="sent")
    counters.counter_add(counters.GRAPH_ERRORS, 2, code=130429)
    for _ in range(10):  # all in the 25-50 ms bucket: p95 = 25 + 25 * 9.5 / 10 = 48.75 ms
        counters.histogram_observe(
            counters.GRAPH_REQUEST_DURATION, 0.03, counters.GRAPH_DURATION_BUCKETS, kind="messages"
        )
    counters.counters_flush()
    staff = User.objects.create_user("operator", password="x" * 12, is_staff=True)

    response = console_client("localhost", staff).get("/app/health/")

    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    assert "Sending, last 5 minutes" in page
    assert "<td>1065550100</td> <td>120</td> <td>2</td> <td>0</td>" in page
    assert "130429: 2" in page
    assert "<td>1065550200</td> <td>7</td> <td>0</td> <td>0</td>" in page
    assert "10 requests" in page and "p95 latency <strong class=\"graph-p95\">49 ms</strong>" in page
    assert '<span class="badge badge-bad graph-error">130429: 2</span>' in page


def test_a_tenant_console_has_no_platform_health_page(tenant_a, in_tenant):
    counters.counter_add(counters.SENDS, 5, phone_number_id="1065550100", outcome="sent")
    counters.counters_flush()
    with in_tenant(tenant_a):
        owner = User.objects.create_user("ana", password="x" * 12)
        client = console_client(host_of(tenant_a), owner)
        response = client.get("/app/health/")
    assert response.status_code in (302, 403, 404)
    assert b"1065550100" not in response.content
