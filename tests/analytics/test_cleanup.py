"""Clean-up jobs: journal pruning in batches, per-tenant calls into the menus and send pipeline seams."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Task

from analytics import cleanup, tasks
from analytics.models import AccountHealthLog
from messaging.models import Message
from tests.analytics.factories import AccountFactory, MessageFactory

CALLS: list[str] = []


def record_schema() -> str:
    CALLS.append(connection.schema_name)
    return connection.schema_name


@pytest.fixture
def journal_stand_in(monkeypatch):
    """Until messaging.webhooks ships its journal model, django-q2's public Task table plays it:
    `started` is the received time, `success` the processed flag."""
    monkeypatch.setattr(cleanup, "JOURNAL_MODEL", "django_q.Task")
    monkeypatch.setattr(cleanup, "JOURNAL_RECEIVED_FIELD", "started")
    monkeypatch.setattr(cleanup, "JOURNAL_PROCESSED_FILTER", {"success": True})


def journal_entry(n: int, *, age_days: float, processed: bool) -> Task:
    started = timezone.now() - timedelta(days=age_days)
    return Task.objects.create(
        id=f"entry-{n}-{age_days}-{processed}",
        name=f"entry {n}",
        func="x",
        started=started,
        stopped=started,
        success=processed,
    )


def test_prune_deletes_only_processed_entries_past_the_retention_in_batches(db, journal_stand_in):
    for n in range(7):
        journal_entry(n, age_days=15, processed=True)
    journal_entry(100, age_days=15, processed=False)  # never processed: kept whatever its age
    journal_entry(101, age_days=13, processed=True)  # inside the 14 days: kept

    with CaptureQueriesContext(connection) as queries:
        deleted = cleanup.webhook_journal_prune(batch_size=3)

    assert deleted == 7
    assert sorted(Task.objects.values_list("name", flat=True)) == ["entry 100", "entry 101"]
    deletes = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 1 ids


def test_retention_is_a_setting(db, journal_stand_in, settings):
    settings.WEBHOOK_JOURNAL_RETENTION_DAYS = 30
    journal_entry(1, age_days=15, processed=True)

    assert tasks.webhook_journal_prune_run() == 0
    assert Task.objects.count() == 1


def test_prune_refuses_to_run_inside_a_tenant(tenant_a, in_tenant):
    with in_tenant(tenant_a), pytest.raises(RuntimeError, match="public schema"):
        cleanup.webhook_journal_prune()


def test_prune_without_a_journal_model_is_a_no_op(db, monkeypatch):
    monkeypatch.setattr(cleanup, "JOURNAL_MODEL", "webhooks.NoSuchJournal")
    assert cleanup.webhook_journal_prune() == 0


def test_conversation_states_expire_runs_once_in_each_active_tenant(
    sync_jobs, monkeypatch, tenant_a, tenant_b
):
    monkeypatch.setattr(cleanup, "CONVERSATION_STATES_EXPIRE", f"{__name__}.record_schema")
    CALLS.clear()

    assert tasks.conversation_states_expire_fan_out() == 2

    assert sorted(CALLS) == sorted([tenant_a.schema_name, tenant_b.schema_name])


def test_a_missing_seam_is_skipped_not_failed(sync_jobs, monkeypatch, tenant_a, caplog):
    monkeypatch.setattr(
        cleanup, "CONVERSATION_STATES_EXPIRE", "messaging.menus.nowhere.conversation_states_expire"
    )

    tasks.conversation_states_expire_fan_out()

    assert "does not exist yet" in caplog.text


def test_stuck_sending_messages_are_handed_to_the_send_pipeline(sync_jobs, tenant_a, in_tenant):
    pytest.importorskip("messaging.send.outbox")
    with in_tenant(tenant_a):
        stuck = MessageFactory(
            status=Message.Status.SENDING,
            wamid=None,
            attempts=1,
            next_attempt_at=timezone.now() - timedelta(minutes=5),
        )
        fresh = MessageFactory(
            status=Message.Status.SENDING,
            wamid=None,
            attempts=1,
            next_attempt_at=timezone.now() + timedelta(minutes=5),
        )

    tasks.stuck_messages_reconcile_fan_out()

    with in_tenant(tenant_a):
        stuck.refresh_from_db()
        fresh.refresh_from_db()
        assert stuck.status == Message.Status.QUEUED
        assert fresh.status == Message.Status.SENDING


def test_old_health_logs_are_pruned(sync_jobs, tenant_a, in_tenant, settings):
    settings.HEALTH_LOG_RETENTION_DAYS = 30
    with in_tenant(tenant_a):
        account = AccountFactory()
        for age in (40, 10):
            AccountHealthLog.objects.create(account=account, checked_at=timezone.now() - timedelta(days=age))

    tasks.health_logs_prune_fan_out()

    with in_tenant(tenant_a):
        assert AccountHealthLog.objects.count() == 1
