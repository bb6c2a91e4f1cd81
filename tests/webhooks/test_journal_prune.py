"""Pruning the webhook journal: processed entries past the retention, in batches, in the public schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from webhooks import journal, tasks
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry


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
    failed = journal_entry(age_days=20, state="failed")  # failed rows have a retention of their own (30 days)
    old = [journal_entry(age_days=15) for _ in range(7)]
    pending = journal_entry(age_days=15, state="pending")
    recent = journal_entry(age_days=13)  # inside the 14 days: kept
    dead_letter = WebhookDeadLetter.objects.create(
        journal_entry=old[0], app_id="1", envelope={}, envelope_hash="h", reason="unrouted"
    )

    with CaptureQueriesContext(connection) as queries:
        deleted = journal.webhook_journal_prune(batch_size=3)

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
        journal.webhook_journal_prune()


def test_failed_entries_and_dead_letters_are_deleted_after_their_own_retention(db, settings):
    """Both hold raw customer messages: kept long enough for a replay, never forever."""
    settings.WEBHOOK_FAILED_RETENTION_DAYS = 30
    settings.WEBHOOK_DEAD_LETTER_RETENTION_DAYS = 20
    old_failed = journal_entry(age_days=31, state="failed")
    recent_failed = journal_entry(age_days=29, state="failed")
    pending = journal_entry(age_days=40, state="pending")  # still to be processed: never pruned
    letters = {
        age: WebhookDeadLetter.objects.create(app_id="1", envelope={}, envelope_hash=f"h{age}", reason="unrouted")
        for age in (21, 19)
    }
    for age, letter in letters.items():
        WebhookDeadLetter.objects.filter(pk=letter.pk).update(created_at=timezone.now() - timedelta(days=age))

    assert tasks.webhook_journal_prune_run() == 2

    assert set(WebhookJournalEntry.objects.values_list("pk", flat=True)) >= {recent_failed.pk, pending.pk}
    assert not WebhookJournalEntry.objects.filter(pk=old_failed.pk).exists()
    assert list(WebhookDeadLetter.objects.values_list("pk", flat=True)) == [letters[19].pk]
