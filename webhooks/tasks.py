"""Workers of the webhook journal: the `process_webhooks` loop and a bounded drain for django-q2.

`webhook_worker_run` is what `python manage.py process_webhooks` runs: claim a batch, process
it, repeat; sleep briefly when there is nothing to do. Run as many as you like, on as many
machines as you like: claims never overlap while a lease runs.

`webhook_journal_drain` is the same work, bounded in time, for a django-q2 schedule: the safety
net that finishes the journal even when no dedicated worker runs. The other tasks: the prune
(journal and dead letters past their retention) and the replay of a resumed tenant's dead letters.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.db import connection
from django_q.tasks import async_task

from platform_core.heartbeats import WEBHOOK_WORKER, Heartbeat
from platform_core.log_context import request_id_bound
from tenants.jobs import JOB_TIMEOUT_S, tenant_task, tenants_fan_out
from webhooks import dead_letters, event_log, journal
from webhooks.journal import (
    ENTRY_BUDGET_S,
    LEASE_S,
    journal_entries_claim,
    journal_entries_release,
    journal_entry_retry_later,
    journal_entry_start,
)
from webhooks.processing import journal_entries_load, journal_entry_process, message_entries_process

logger = logging.getLogger(__name__)

BATCH_SIZE = 50  # claimed at once; entries of messages and statuses among them are applied together
IDLE_SLEEP_S = 0.1
DRAIN_BUDGET_S = 45  # under the schedules' task timeout (tenants.jobs.JOB_TIMEOUT_S)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def journal_entries_work(
    *, entry_ids: list[int], worker: str, should_stop: Callable[[], bool], budget_s: float = ENTRY_BUDGET_S
) -> int:
    """Process claimed entries; a failure retries that entry later. Returns how many ran.

    Entries that carry only inbound messages and status updates for tenants go first, together
    (`message_entries_process`: a few statements per tenant, however many, plus each new message's
    dispatch); the others
    one by one (`journal_entry_process`), each started first (an attempt counted, `budget_s` to
    finish in), so a poison entry is charged alone. Entries another worker took over meanwhile
    are skipped.
    """
    if should_stop():
        journal_entries_release(entry_ids=entry_ids, worker=worker)
        return 0
    done, batched, unfinished = 0, set[int](), list[int]()
    try:
        batch = [entry for entry in journal_entries_load(entry_ids=entry_ids, worker=worker) if entry.batchable]
    except Exception:  # a database hiccup: every entry goes the one-by-one way
        logger.exception("Loading webhook journal entries %s failed; processing them one by one.", entry_ids)
        _drop_broken_connection()
        batch = []
    if batch:
        batched = {entry.id for entry in batch}
        started = time.monotonic()
        with request_id_bound(f"journal-{batch[0].id}+{len(batch) - 1}"):
            try:
                result = message_entries_process(entries=batch, worker=worker, budget_s=budget_s)
                done, unfinished = len(result.completed), result.unfinished
            except Exception:  # completing failed: what was applied is applied again, idempotently
                logger.exception("A batch of message and status entries failed; processing them one by one.")
                _drop_broken_connection()
                unfinished = [entry.id for entry in batch]
        _over_budget_warn(f"A batch of {len(batch)} entries", time.monotonic() - started, budget_s)
    for entry_id in unfinished:  # started already
        _entry_process(entry_id=entry_id, budget_s=budget_s)
        done += 1
    rest = [entry_id for entry_id in entry_ids if entry_id not in batched]
    for index, entry_id in enumerate(rest):
        if should_stop():
            journal_entries_release(entry_ids=rest[index:], worker=worker)
            break
        if not journal_entry_start(entry_id=entry_id, worker=worker, budget_s=budget_s):
            continue
        _entry_process(entry_id=entry_id, budget_s=budget_s)
        done += 1
    return done


def _entry_process(*, entry_id: int, budget_s: float) -> None:
    """One started entry, the one-by-one way; a failure retries it later with backoff."""
    started = time.monotonic()
    with request_id_bound(f"journal-{entry_id}"):
        try:
            journal_entry_process(entry_id=entry_id)
        except Exception as error:  # a bug or a database hiccup: this entry only, retried with backoff
            logger.exception("Webhook journal entry %s failed; it will be retried.", entry_id)
            _drop_broken_connection()
            journal_entry_retry_later(entry_id=entry_id, error=f"{type(error).__name__}: {error}")
    _over_budget_warn(f"Webhook journal entry {entry_id}", time.monotonic() - started, budget_s)


def _over_budget_warn(what: str, took: float, budget_s: float) -> None:
    if took > budget_s:
        logger.warning(
            "%s took %.0f s, over its %s s budget: another worker may have processed it too.",
            what,
            took,
            budget_s,
        )


def webhook_worker_run(
    *,
    should_stop: Callable[[], bool],
    batch_size: int = BATCH_SIZE,
    idle_sleep_s: float = IDLE_SLEEP_S,
    lease_s: float = LEASE_S,
    exit_when_idle: bool = False,
) -> int:
    """Claim and process journal entries until `should_stop()` (or, with `exit_when_idle`, until
    nothing is claimable). `lease_s` is both a claim's lease and each started entry's budget.
    Returns how many entries ran."""
    worker = worker_name()
    heartbeat = Heartbeat(WEBHOOK_WORKER)

    def beat_and_should_stop() -> bool:
        """Asked before each batch and each entry: the heartbeat stays fresh through a slow batch."""
        heartbeat.beat()
        return should_stop()

    processed = 0
    while not beat_and_should_stop():
        try:
            entry_ids = journal_entries_claim(limit=batch_size, worker=worker, lease_s=lease_s)
        except Exception:
            logger.exception("Claiming webhook journal entries failed; trying again shortly.")
            _drop_broken_connection()
            time.sleep(1.0)
            continue
        if not entry_ids:
            if exit_when_idle:
                break
            time.sleep(idle_sleep_s)
            continue
        processed += journal_entries_work(
            entry_ids=entry_ids, worker=worker, should_stop=beat_and_should_stop, budget_s=lease_s
        )
    return processed


def _drop_broken_connection() -> None:
    """After an error, reconnect on next use if the database connection itself broke."""
    if not connection.in_atomic_block and connection.connection is not None and not connection.is_usable():
        connection.close()


def webhook_journal_drain(budget_s: float = DRAIN_BUDGET_S) -> int:
    """django-q2 task: process what is claimable for up to `budget_s` seconds, then return."""
    deadline = time.monotonic() + budget_s
    worker = worker_name()
    processed = 0
    while time.monotonic() < deadline:
        entry_ids = journal_entries_claim(limit=BATCH_SIZE, worker=worker)
        if not entry_ids:
            break
        processed += journal_entries_work(
            entry_ids=entry_ids, worker=worker, should_stop=lambda: time.monotonic() >= deadline
        )
    return processed


def webhook_journal_prune_run() -> int:
    """The schedule's entry point, in the public schema: old journal entries, then old dead letters,
    within one budget. Returns how many rows were deleted."""
    deadline = time.monotonic() + journal.PRUNE_BUDGET_S
    deleted = journal.webhook_journal_prune(budget_s=journal.PRUNE_BUDGET_S)
    remaining = deadline - time.monotonic()
    if remaining > 0:
        deleted += dead_letters.webhook_dead_letters_prune(budget_s=remaining)
    return deleted


def event_logs_prune_fan_out() -> int:
    """The schedule's entry point: each active tenant prunes its own webhook event log."""
    return len(tenants_fan_out(tenant_event_log_prune))


@tenant_task
def tenant_event_log_prune() -> int:
    return event_log.event_log_prune()


def tenant_dead_letters_replay_run(tenant_id: int, after_id: int = 0) -> int:
    """django-q2 task (public schema), queued when a tenant is resumed: deliver what waited for it.

    What its budget leaves undone continues in a new task. Returns how many were delivered.
    """
    result = dead_letters.tenant_dead_letters_replay(tenant_id=tenant_id, after_id=after_id)
    if result.resume_after_id is not None:
        tenant_dead_letters_replay_enqueue(tenant_id=tenant_id, after_id=result.resume_after_id)
    return result.delivered


def tenant_dead_letters_replay_enqueue(*, tenant_id: int, after_id: int = 0) -> str:
    return async_task(
        "webhooks.tasks.tenant_dead_letters_replay_run",
        tenant_id,
        after_id,
        q_options={"timeout": JOB_TIMEOUT_S},
    )
