"""Writes on the webhook journal: record an accepted POST, claim work, finish or retry it.

The request path makes exactly one statement (`journal_entry_record`, an autocommitted
INSERT): that keeps the acknowledgement fast and makes "durable before the 200" literal.
Everything else is the workers' side; pruning old rows is webhook_journal_prune (a schedule of
this app). Claims use `FOR UPDATE SKIP LOCKED`, so any number of worker processes on any number
of machines share the journal without taking a row twice while its lease runs; a row whose
worker died is claimable again when the lease ends.

`attempts` counts the times processing of a row started (`journal_entry_start`, or
`journal_entries_start` for the status entries a worker applies together), not claims: rows
a worker claimed but never reached (it died on an earlier row of its batch, or stopped) are not
charged. Each start gives the row ENTRY_BUDGET_S; a row that used up MAX_ATTEMPTS starts without
ever finishing (it kills or hangs its worker) is failed by the next claim instead of being leased
again, with the reason recorded and logged.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from platform_core.backoff import backoff_delay
from tenants.context import connection
from webhooks.models import WebhookJournalEntry

logger = logging.getLogger(__name__)

State = WebhookJournalEntry.State

LEASE_S = 60  # how long a claim lasts before its rows are started
ENTRY_BUDGET_S = 60  # how long one row may take once started; a row is processed well within it
MAX_ATTEMPTS = 8  # then the row is `failed` and waits for a replay from the platform admin
RETRY_BASE_S = 2.0
RETRY_MAX_S = 15 * 60.0


def journal_entry_record(*, app_id: str, body: bytes, signature_verified: bool) -> int:
    """Store an accepted POST and return its id: the one statement of the request path.

    Outside a transaction the INSERT autocommits, so the row is durable when this returns (the
    request is acknowledged only then). It goes straight to the driver, schema-qualified: no
    `SET search_path` round trip first, whatever schema the connection was left in, and with the
    body sent as a bound binary parameter rather than quoted into the SQL text. A connection that
    broke since its last use is reopened and the INSERT tried once more (a duplicate row from a
    retry is harmless: processing is idempotent).
    """
    now = timezone.now()
    values = (app_id, body, signature_verified, now, State.PENDING, now)
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each `connection.x` looks it up again
    for attempt in (1, 2):
        try:
            db.ensure_connection()
            with psycopg.Cursor(db.connection) as cursor:
                cursor.execute(_INSERT_SQL, values)
                row = cursor.fetchone()
                assert row is not None
                return int(row[0])
        except (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError):
            if attempt == 2 or db.in_atomic_block:
                raise
            db.close()
    raise AssertionError("unreachable")


_TABLE = f'"{get_public_schema_name()}"."{WebhookJournalEntry._meta.db_table}"'
_INSERT_SQL = (
    f"INSERT INTO {_TABLE} "
    "(app_id, body, signature_verified, received_at, state, available_at, attempts, claimed_by, last_error) "
    "VALUES (%s, %s, %s, %s, %s, %s, 0, '', '') RETURNING id"
)


def _claimable(now: datetime) -> QuerySet[WebhookJournalEntry]:
    return WebhookJournalEntry.objects.filter(
        state__in=[State.PENDING, State.PROCESSING], available_at__lte=now
    )


def journal_entries_claim(*, limit: int, worker: str, lease_s: float = LEASE_S) -> list[int]:
    """Lease up to `limit` claimable rows to `worker`, oldest first; returns their ids.

    Rows whose attempts are used up are failed here, not claimed (see the module docstring).
    """
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            _claimable(now)
            .order_by("available_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", "attempts", "last_error")[:limit]
        )
        exhausted = [(pk, attempts, error) for pk, attempts, error in rows if attempts >= MAX_ATTEMPTS]
        for pk, attempts, error in exhausted:
            _fail_unfinished(entry_id=pk, attempts=attempts, last_error=error)
        ids = [pk for pk, attempts, _ in rows if attempts < MAX_ATTEMPTS]
        if ids:
            WebhookJournalEntry.objects.filter(id__in=ids).update(
                state=State.PROCESSING,
                claimed_by=worker[:64],
                available_at=now + timedelta(seconds=lease_s),
            )
    return ids


def _fail_unfinished(*, entry_id: int, attempts: int, last_error: str) -> None:
    reason = (
        f"Processing started {attempts} times and never finished within its budget (it killed or hung "
        "its worker); it waits for a replay."
    )
    if last_error:
        reason += f" Last error: {last_error}"
    WebhookJournalEntry.objects.filter(pk=entry_id).update(
        state=State.FAILED, processed_at=timezone.now(), last_error=reason[:2000], claimed_by=""
    )
    logger.error(
        "Webhook journal entry %s failed: processing started %s times and never finished.", entry_id, attempts
    )


def journal_entry_start(*, entry_id: int, worker: str, budget_s: float = ENTRY_BUDGET_S) -> bool:
    """Count an attempt and give the row its processing budget, if `worker` still holds it.

    False when the row is no longer this worker's (its lease ran out and another worker took it,
    or it was requeued): the caller must then leave it alone.
    """
    return bool(
        WebhookJournalEntry.objects.filter(
            pk=entry_id, state=State.PROCESSING, claimed_by=worker[:64]
        ).update(attempts=F("attempts") + 1, available_at=timezone.now() + timedelta(seconds=budget_s))
    )


def journal_entries_start(*, entry_ids: list[int], worker: str, budget_s: float = ENTRY_BUDGET_S) -> set[int]:
    """`journal_entry_start` for several rows in one statement; returns the ids this worker still held."""
    if not entry_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} SET attempts = attempts + 1, available_at = %s "
            "WHERE id = ANY(%s::bigint[]) AND state = %s AND claimed_by = %s RETURNING id",
            [timezone.now() + timedelta(seconds=budget_s), list(entry_ids), State.PROCESSING, worker[:64]],
        )
        return {row[0] for row in cursor.fetchall()}


def journal_entries_release(*, entry_ids: list[int], worker: str) -> int:
    """Give back rows this worker claimed but did not start (graceful shutdown)."""
    return WebhookJournalEntry.objects.filter(
        id__in=entry_ids, state=State.PROCESSING, claimed_by=worker[:64]
    ).update(state=State.PENDING, available_at=timezone.now(), claimed_by="")


def journal_entry_complete(*, entry_id: int, outcome: dict[str, int]) -> None:
    WebhookJournalEntry.objects.filter(pk=entry_id).update(
        state=State.PROCESSED, processed_at=timezone.now(), outcome=outcome, last_error="", claimed_by=""
    )


def journal_entries_complete(*, outcomes: dict[int, dict[str, int]]) -> None:
    """`journal_entry_complete` for several rows, each with its own outcome, in one statement."""
    if not outcomes:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} AS j SET state = %s, processed_at = %s, outcome = v.outcome::jsonb, "
            "last_error = '', claimed_by = '' FROM unnest(%s::bigint[], %s::text[]) AS v(id, outcome) "
            "WHERE j.id = v.id",
            [State.PROCESSED, timezone.now(), list(outcomes), [json.dumps(o) for o in outcomes.values()]],
        )


def journal_entry_reject(*, entry_id: int, error: str) -> None:
    """The body can never be processed (not a webhook envelope): keep it, visibly failed."""
    WebhookJournalEntry.objects.filter(pk=entry_id).update(
        state=State.FAILED, processed_at=timezone.now(), last_error=error[:2000], claimed_by=""
    )


def journal_entry_retry_later(*, entry_id: int, error: str) -> None:
    """A run failed (database hiccup, a bug): back off exponentially, or give up visibly."""
    entry = WebhookJournalEntry.objects.filter(pk=entry_id).only("attempts").first()
    if entry is None:
        return
    if entry.attempts >= MAX_ATTEMPTS:
        WebhookJournalEntry.objects.filter(pk=entry_id).update(
            state=State.FAILED, last_error=error[:2000], claimed_by=""
        )
        logger.error(
            "Webhook journal entry %s failed %s times; it waits for a replay.", entry_id, entry.attempts
        )
        return
    delay = backoff_delay(retry=entry.attempts - 1, base_s=RETRY_BASE_S, max_s=RETRY_MAX_S)
    WebhookJournalEntry.objects.filter(pk=entry_id).update(
        state=State.PENDING,
        available_at=timezone.now() + timedelta(seconds=delay),
        last_error=error[:2000],
        claimed_by="",
    )


def journal_entries_requeue(*, entry_ids: list[int]) -> int:
    """Queue rows again, whatever their state (the admin's replay). Safe: processing is idempotent."""
    return WebhookJournalEntry.objects.filter(id__in=entry_ids).update(
        state=State.PENDING, available_at=timezone.now(), attempts=0, claimed_by=""
    )


def journal_backlog() -> dict[str, int]:
    """Unfinished rows: claimable now, waiting (backoff or lease), failed."""
    now = timezone.now()
    unfinished = WebhookJournalEntry.objects.filter(state__in=[State.PENDING, State.PROCESSING])
    return {
        "claimable": unfinished.filter(available_at__lte=now).count(),
        "waiting": unfinished.filter(available_at__gt=now).count(),
        "failed": WebhookJournalEntry.objects.filter(state=State.FAILED).count(),
    }


# Leave room under the task's timeout: a prune that runs out of time continues on the next run.
PRUNE_BUDGET_S = 40


def webhook_journal_prune(
    *,
    now: datetime | None = None,
    retention_days: int | None = None,
    failed_retention_days: int | None = None,
    batch_size: int | None = None,
    budget_s: float = PRUNE_BUDGET_S,
) -> int:
    """Delete journal entries past their retention, `batch_size` ids per transaction; returns the count.

    Processed entries go after WEBHOOK_JOURNAL_RETENTION_DAYS, failed ones (raw messages kept for
    a replay) after WEBHOOK_FAILED_RETENTION_DAYS; pending and processing entries are kept
    whatever their age. The journal has no index on `received_at`; ids grow with it, so the first
    id past the later cutoff bounds every batch to a range of the primary key.
    """
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("webhook_journal_prune runs in the public schema, where the journal lives.")
    now = now or timezone.now()
    retention_days = settings.WEBHOOK_JOURNAL_RETENTION_DAYS if retention_days is None else retention_days
    if failed_retention_days is None:
        failed_retention_days = settings.WEBHOOK_FAILED_RETENTION_DAYS
    cutoff = now - timedelta(days=retention_days)
    failed_cutoff = now - timedelta(days=failed_retention_days)
    journal = WebhookJournalEntry.objects
    expired = journal.filter(
        Q(state=State.PROCESSED, received_at__lt=cutoff)
        | Q(state=State.FAILED, received_at__lt=failed_cutoff)
    )
    later_cutoff = max(cutoff, failed_cutoff)
    first_kept = (
        journal.filter(received_at__gte=later_cutoff).order_by("pk").values_list("pk", flat=True).first()
    )
    if first_kept is not None:
        expired = expired.filter(pk__lt=first_kept)
    return rows_delete_in_batches(
        expired=expired,
        batch_size=batch_size or settings.WEBHOOK_JOURNAL_PRUNE_BATCH_SIZE,
        deadline=time.monotonic() + budget_s,
    )


def rows_delete_in_batches(*, expired: QuerySet[Any], batch_size: int, deadline: float) -> int:
    """Delete `expired` in ascending id order, one short transaction per batch, until `deadline`.

    Each batch is one DELETE by primary key, so no lock is held for long and webhook writes go on
    meanwhile. Returns how many rows of the queryset's model were deleted.
    """
    model = expired.model
    total, after = 0, 0
    while time.monotonic() < deadline:
        ids = list(expired.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            total += model._default_manager.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
        after = ids[-1]
        if len(ids) < batch_size:
            break
    return total
