"""/metrics: guarded by METRICS_TOKEN, and its gauges read from the database at scrape time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from messaging.models import Message
from platform_core.heartbeats import WEBHOOK_WORKER, Heartbeat
from tests.factories import MessageFactory
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

TOKEN = "metrics-token-for-tests-0123456789"

pytestmark = pytest.mark.django_db


@pytest.fixture
def scrape(settings):
    settings.METRICS_TOKEN = TOKEN

    def scrape() -> list[str]:
        response = Client(HTTP_HOST="localhost").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        return response.content.decode().splitlines()

    return scrape


def test_with_a_token_set_metrics_refuses_requests_without_it(settings):
    settings.METRICS_TOKEN = TOKEN
    client = Client(HTTP_HOST="localhost")

    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response["WWW-Authenticate"] == "Bearer"
        assert TOKEN not in response.content.decode()


def test_without_a_token_metrics_is_not_found_in_production_and_open_with_debug(settings):
    settings.METRICS_TOKEN = None
    client = Client(HTTP_HOST="localhost")

    settings.DEBUG = False
    assert client.get("/metrics").status_code == 404
    settings.DEBUG = True
    assert client.get("/metrics").status_code == 200


def test_metrics_is_served_on_the_public_host_only(settings, tenant_a):
    settings.METRICS_TOKEN = TOKEN
    tenant_host = tenant_a.domains.get(is_primary=True).domain

    response = Client(HTTP_HOST=tenant_host).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 404


def test_the_journal_backlog_and_its_oldest_age(scrape):
    received = timezone.now() - timedelta(minutes=10)
    for _ in range(3):
        WebhookJournalEntry.objects.create(app_id="1", body=b"{}", received_at=received)
    WebhookJournalEntry.objects.create(app_id="1", body=b"{}", state=WebhookJournalEntry.State.PROCESSED)

    lines = scrape()

    assert 'platform_webhook_journal_entries{state="pending"} 3.0' in lines
    assert 'platform_webhook_journal_entries{state="processing"} 0.0' in lines
    [oldest] = [line for line in lines if line.startswith("platform_webhook_journal_oldest_unfinished_age_seconds ")]
    assert 590 <= float(oldest.split()[1]) < 700
    assert 'platform_metrics_section_failed{section="journal"} 0.0' in lines


def test_unresolved_dead_letters_by_reason(scrape):
    for index in range(2):
        WebhookDeadLetter.objects.create(app_id="1", envelope={}, envelope_hash=f"h{index}",
                                         reason=WebhookDeadLetter.Reason.UNROUTED)
    WebhookDeadLetter.objects.create(app_id="1", envelope={}, envelope_hash="done", resolved_at=timezone.now(),
                                     reason=WebhookDeadLetter.Reason.UNROUTED)

    lines = scrape()

    assert 'platform_webhook_dead_letters_unresolved{reason="unrouted"} 2.0' in lines
    assert 'platform_webhook_dead_letters_unresolved{reason="tenant_inactive"} 0.0' in lines


def test_the_outbox_depth_of_each_tenant(scrape, tenant_a, tenant_b, number_a, in_tenant):
    with in_tenant(tenant_a):
        for status in (Message.Status.QUEUED, Message.Status.QUEUED, Message.Status.SENDING, Message.Status.SENT):
            MessageFactory(conversation__phone_number=number_a, direction=Message.Direction.OUTBOUND, status=status)

    lines = scrape()

    assert f'platform_outbox_messages{{state="queued",tenant="{tenant_a.schema_name}"}} 2.0' in lines
    assert f'platform_outbox_messages{{state="sending",tenant="{tenant_a.schema_name}"}} 1.0' in lines
    assert f'platform_outbox_messages{{state="queued",tenant="{tenant_b.schema_name}"}} 0.0' in lines
    assert not [line for line in lines if line.startswith("platform_outbox_messages") and 'state="sent"' in line]


def test_the_outbox_counts_at_most_the_configured_number_of_tenants(scrape, settings, tenant_a, tenant_b):
    settings.METRICS_OUTBOX_MAX_TENANTS = 1

    lines = scrape()

    assert "platform_outbox_tenants_counted 1.0" in lines
    assert [line for line in lines if line.startswith("platform_outbox_tenants_skipped ")] != []
    assert len([line for line in lines if line.startswith("platform_outbox_messages{")]) == 2


def test_heartbeat_ages_and_live_processes(scrape):
    Heartbeat(WEBHOOK_WORKER).beat(force=True)

    lines = scrape()

    assert 'platform_processes_alive{process_type="webhook_worker"} 1.0' in lines
    assert 'platform_processes_alive{process_type="send_worker"} 0.0' in lines
    assert 'platform_process_heartbeat_age_seconds{process_type="webhook_worker"} 0.0' in lines


def test_a_schedule_past_its_next_run_is_overdue(scrape):
    from django_q.models import Schedule

    Schedule.objects.create(name="rollup", func="analytics.tasks.rollup",
                            next_run=timezone.now() - timedelta(minutes=5))

    lines = scrape()

    [overdue] = [line for line in lines if line.startswith('platform_schedule_overdue_seconds{schedule="rollup"}')]
    assert 290 <= float(overdue.split()[1]) < 400


def test_a_failing_section_is_reported_and_the_others_still_answer(scrape, monkeypatch):
    from django.db import ProgrammingError

    from platform_core import metrics

    def broken() -> list:
        raise ProgrammingError("relation does not exist")

    monkeypatch.setattr(metrics, "_dead_letter_metrics", broken)

    lines = scrape()

    assert 'platform_metrics_section_failed{section="dead_letters"} 1.0' in lines
    assert 'platform_metrics_section_failed{section="outbox"} 0.0' in lines
    assert 'platform_webhook_journal_entries{state="pending"} 0.0' in lines
