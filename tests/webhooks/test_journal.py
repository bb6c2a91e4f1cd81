"""The journal as a work queue: claims are leases, failures back off, nothing is dropped."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from platform_core import backoff
from tests.fixtures import load_webhook_fixture_bytes
from webhooks import journal
from webhooks.journal import (
    journal_backlog,
    journal_entries_claim,
    journal_entries_release,
    journal_entries_requeue,
    journal_entry_record,
    journal_entry_retry_later,
)
from webhooks.models import WebhookJournalEntry
from webhooks.tasks import journal_entries_work, webhook_journal_drain

BODY = load_webhook_fixture_bytes("message_text")
State = WebhookJournalEntry.State


def _record(count: int = 1) -> list[int]:
    return [journal_entry_record(app_id="1", body=BODY, signature_verified=True) for _ in range(count)]


def test_claims_are_oldest_first_and_exclusive_while_the_lease_runs(db):
    ids = _record(3)

    first = journal_entries_claim(limit=2, worker="w1")
    second = journal_entries_claim(limit=2, worker="w2")

    assert first == ids[:2]
    assert second == ids[2:]
    assert journal_entries_claim(limit=5, worker="w3") == []
    entry = WebhookJournalEntry.objects.get(pk=ids[0])
    assert (entry.state, entry.claimed_by, entry.attempts) == (State.PROCESSING, "w1", 0)  # claimed, not started


def test_a_dead_workers_rows_are_claimed_again_when_the_lease_ends(db):
    [entry_id] = _record()
    journal_entries_claim(limit=1, worker="dead", lease_s=60)
    assert journal.journal_entry_start(entry_id=entry_id, worker="dead")
    WebhookJournalEntry.objects.filter(pk=entry_id).update(available_at=timezone.now() - timedelta(seconds=1))

    assert journal_entries_claim(limit=1, worker="alive") == [entry_id]
    assert journal.journal_entry_start(entry_id=entry_id, worker="alive")
    assert not journal.journal_entry_start(entry_id=entry_id, worker="dead")  # no longer the dead one's
    assert WebhookJournalEntry.objects.get(pk=entry_id).attempts == 2


def test_a_stopping_worker_gives_back_what_it_did_not_start(db):
    ids = _record(3)
    claimed = journal_entries_claim(limit=3, worker="w")

    done = journal_entries_work(entry_ids=claimed, worker="w", should_stop=lambda: True)

    assert done == 0
    assert journal_entries_claim(limit=3, worker="other") == ids
    assert set(WebhookJournalEntry.objects.values_list("attempts", flat=True)) == {0}


def test_release_only_touches_the_callers_rows(db):
    [entry_id] = _record()
    journal_entries_claim(limit=1, worker="owner")

    assert journal_entries_release(entry_ids=[entry_id], worker="someone-else") == 0
    assert journal_entries_release(entry_ids=[entry_id], worker="owner") == 1


def test_a_failing_entry_backs_off_then_fails_visibly(db, monkeypatch):
    # Seeded: full jitter may draw a delay of almost nothing, which would be over before the check.
    monkeypatch.setattr(backoff, "random", random.Random(0))
    [entry_id] = _record()

    def broken(*, entry_id):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("webhooks.tasks.journal_entry_process", broken)
    journal_entries_work(entry_ids=journal_entries_claim(limit=1, worker="w"), worker="w", should_stop=lambda: False)

    entry = WebhookJournalEntry.objects.get(pk=entry_id)
    assert entry.state == State.PENDING
    assert entry.available_at > timezone.now()
    assert entry.last_error == "RuntimeError: database hiccup"
    assert journal_backlog() == {"claimable": 0, "waiting": 1, "failed": 0}

    WebhookJournalEntry.objects.filter(pk=entry_id).update(attempts=journal.MAX_ATTEMPTS)
    journal_entry_retry_later(entry_id=entry_id, error="still broken")
    assert WebhookJournalEntry.objects.get(pk=entry_id).state == State.FAILED
    assert journal_backlog()["failed"] == 1

    assert journal_entries_requeue(entry_ids=[entry_id]) == 1
    entry = WebhookJournalEntry.objects.get(pk=entry_id)
    assert (entry.state, entry.attempts) == (State.PENDING, 0)


def test_the_scheduled_drain_processes_what_is_claimable(db):
    ids = _record(2)

    assert webhook_journal_drain(budget_s=5) == 2
    assert set(WebhookJournalEntry.objects.filter(id__in=ids).values_list("state", flat=True)) == {State.PROCESSED}


def test_recording_survives_a_connection_that_broke_since_its_last_use(db):
    """The request path skips Django's per-request health check; a dead connection is reopened once."""
    from django.db import connection

    from tests.webhooks.conftest import run_committed

    def record_on_a_broken_connection() -> int:
        connection.ensure_connection()
        connection.connection.close()  # the server went away behind Django's back
        entry_id = journal_entry_record(app_id="reconnect-test", body=BODY, signature_verified=True)
        assert WebhookJournalEntry.objects.filter(pk=entry_id).exists()
        WebhookJournalEntry.objects.filter(pk=entry_id).delete()
        return entry_id

    assert run_committed(record_on_a_broken_connection) > 0


class _Draws:
    """A stand-in for `random` that always draws the lowest (or highest) value of the range."""

    def __init__(self, *, highest: bool) -> None:
        self.highest = highest

    def uniform(self, low: float, high: float) -> float:
        return high if self.highest else low


@pytest.mark.parametrize("highest", [False, True])
def test_a_retry_waits_a_full_jitter_backoff(db, monkeypatch, highest):
    monkeypatch.setattr(backoff, "random", _Draws(highest=highest))
    [entry_id] = _record()
    WebhookJournalEntry.objects.filter(pk=entry_id).update(attempts=2)

    before = timezone.now()
    journal_entry_retry_later(entry_id=entry_id, error="database hiccup")
    after = timezone.now()

    available_at = WebhookJournalEntry.objects.get(pk=entry_id).available_at
    ceiling = timedelta(seconds=journal.RETRY_BASE_S * 2)  # the second attempt failed
    low, high = (before + ceiling, after + ceiling) if highest else (before, after)
    assert low <= available_at <= high


class WorkerKilled(BaseException):
    """What a worker that dies or hangs mid-entry looks like from the journal: the entry never finishes."""


def _die_on(poison_id: int, processed: list[int]):
    def process(*, entry_id):
        if entry_id == poison_id:
            raise WorkerKilled()
        processed.append(entry_id)

    return process


def _lease_runs_out(entry_ids: list[int]) -> None:
    WebhookJournalEntry.objects.filter(id__in=entry_ids, state=State.PROCESSING).update(
        available_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_entry_that_never_finishes_ends_failed_at_claim_time_with_the_reason(db, monkeypatch, caplog):
    [poison] = _record()
    monkeypatch.setattr("webhooks.tasks.journal_entry_process", _die_on(poison, []))
    for _ in range(journal.MAX_ATTEMPTS):
        with pytest.raises(WorkerKilled):
            journal_entries_work(entry_ids=journal_entries_claim(limit=5, worker="w"), worker="w",
                                 should_stop=lambda: False)
        _lease_runs_out([poison])

    assert journal_entries_claim(limit=5, worker="w") == []

    entry = WebhookJournalEntry.objects.get(pk=poison)
    assert (entry.state, entry.attempts, entry.claimed_by) == (State.FAILED, journal.MAX_ATTEMPTS, "")
    assert f"started {journal.MAX_ATTEMPTS} times" in entry.last_error
    assert "never finished within its budget" in entry.last_error
    assert journal_backlog() == {"claimable": 0, "waiting": 0, "failed": 1}
    [logged] = [r for r in caplog.records if r.name == "webhooks.journal" and r.levelname == "ERROR"]
    assert str(poison) in logged.getMessage()


def test_entries_claimed_with_a_poison_one_are_not_charged_for_it(db, monkeypatch):
    first, poison, after = _record(3)
    processed: list[int] = []
    monkeypatch.setattr("webhooks.tasks.journal_entry_process", _die_on(poison, processed))

    with pytest.raises(WorkerKilled):
        journal_entries_work(entry_ids=journal_entries_claim(limit=5, worker="w"), worker="w",
                             should_stop=lambda: False)
    _lease_runs_out([poison, after])

    attempts = dict(WebhookJournalEntry.objects.values_list("id", "attempts"))
    assert (attempts[first], attempts[poison], attempts[after]) == (1, 1, 0)
    assert processed == [first]


def test_each_entry_gets_its_own_budget_when_it_starts(db):
    ids = _record(2)
    journal_entries_claim(limit=2, worker="w", lease_s=60)

    assert journal.journal_entry_start(entry_id=ids[1], worker="w") is True
    assert journal.journal_entry_start(entry_id=ids[0], worker="someone-else") is False

    started = WebhookJournalEntry.objects.get(pk=ids[1])
    budget_left = (started.available_at - timezone.now()).total_seconds()
    assert journal.ENTRY_BUDGET_S - 5 < budget_left <= journal.ENTRY_BUDGET_S
    assert started.attempts == 1
    assert WebhookJournalEntry.objects.get(pk=ids[0]).attempts == 0
