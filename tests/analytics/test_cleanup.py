"""Clean-up jobs: journal pruning in batches, per-tenant calls into the menus and send pipeline seams."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import cleanup, tasks
from analytics.models import AccountHealthLog
from messaging.models import Message
from tests.analytics.factories import AccountFactory, MessageFactory
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

CALLS: list[str] = []


def record_schema() -> str:
    CALLS.append(connection.schema_name)
    return connection.schema_name


def journal_entry(*, age_days: float, state: str = "processed") -> WebhookJournalEntry:
    received = timezone.now() - timedelta(days=age_days)
    return WebhookJournalEntry.objects.create(
        app_id="100000000000001",
        body=b"{}",
        received_at=received,
        state=state,
        processed_at=received if state == "processed" else None,
    )


def test_prune_deletes_only_processed_entries_past_the_retention_in_batches(db):
    failed = journal_entry(age_days=20, state="failed")  # not processed: kept whatever its age
    old = [journal_entry(age_days=15) for _ in range(7)]
    pending = journal_entry(age_days=15, state="pending")
    recent = journal_entry(age_days=13)  # inside the 14 days: kept
    dead_letter = WebhookDeadLetter.objects.create(
        journal_entry=old[0], app_id="1", envelope={}, envelope_hash="h", reason="unrouted"
    )

    with CaptureQueriesContext(connection) as queries:
        deleted = cleanup.webhook_journal_prune(batch_size=3)

    assert deleted == 7
    assert set(WebhookJournalEntry.objects.values_list("pk", flat=True)) == {pending.pk, failed.pk, recent.pk}
    deletes = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 1 ids, each its own statement
    dead_letter.refresh_from_db()
    assert dead_letter.journal_entry_id is None  # the dead letter stays for the platform admin


def test_retention_is_a_setting(db, settings):
    settings.WEBHOOK_JOURNAL_RETENTION_DAYS = 30
    entries = [journal_entry(age_days=31), journal_entry(age_days=15)]  # ids grow with time, as in life

    assert tasks.webhook_journal_prune_run() == 1
    assert list(WebhookJournalEntry.objects.values_list("pk", flat=True)) == [entries[1].pk]


def test_prune_refuses_to_run_inside_a_tenant(tenant_a, in_tenant):
    with in_tenant(tenant_a), pytest.raises(RuntimeError, match="public schema"):
        cleanup.webhook_journal_prune()


def test_conversation_states_expire_runs_once_in_each_active_tenant(
    sync_jobs, monkeypatch, tenant_a, tenant_b
):
    monkeypatch.setattr(cleanup, "CONVERSATION_STATES_EXPIRE", f"{__name__}.record_schema")
    CALLS.clear()

    assert tasks.conversation_states_expire_fan_out() == 2

    assert sorted(CALLS) == sorted([tenant_a.schema_name, tenant_b.schema_name])


def test_a_missing_seam_is_skipped_not_failed(sync_jobs, monkeypatch, tenant_a, caplog):
    monkeypatch.setattr(
        cleanup, "CONVERSATION_STATES_EXPIRE", "automations.nowhere.conversation_states_expire"
    )

    tasks.conversation_states_expire_fan_out()

    assert "does not exist yet" in caplog.text


def test_stuck_sending_messages_are_handed_to_the_send_pipeline(sync_jobs, tenant_a, in_tenant):
    pytest.importorskip("sending.outbox")
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


def test_the_real_menus_and_send_services_run_in_every_tenant_without_failing(sync_jobs, tenant_a, tenant_b):
    pytest.importorskip("automations.services")
    pytest.importorskip("sending.outbox")

    # In sync mode an exception inside a task propagates here and fails the test.
    assert tasks.conversation_states_expire_fan_out() == 2
    assert tasks.stuck_messages_reconcile_fan_out() == 2
