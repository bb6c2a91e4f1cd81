"""The tenant-visible log of webhook changes: one row per change routed to a tenant's schema.

Written by the worker inside the tenant's schema (`messaging.WebhookEventLogEntry`), so each tenant
reads only its own rows; the public journal stays the platform's. A change applied again (retry,
redelivery, dead-letter replay) updates its row: the last attempt's outcome wins.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.utils import timezone

from messaging.models import WebhookEventLogEntry
from platform_core.errors import DomainError
from waba.webhook_events import (
    AccountEvent,
    CallEvent,
    InboundMessage,
    StatusUpdate,
    WebhookErrorEvent,
    WebhookEvent,
)
from webhooks.routing import Change

logger = logging.getLogger(__name__)

EVENT_TYPE_NAMES: dict[type[WebhookEvent], str] = {
    InboundMessage: "message",
    StatusUpdate: "status",
    WebhookErrorEvent: "error",
    AccountEvent: "account_event",
    CallEvent: "call",
}


PRUNE_BATCH_SIZE = 5_000


def event_log_prune(*, now: datetime | None = None, batch_size: int = PRUNE_BATCH_SIZE) -> int:
    """Delete this schema's rows received before WEBHOOK_EVENT_LOG_RETENTION_DAYS, oldest first, in
    batches (short transactions, the newest-first index walked backwards). Returns how many went."""
    before = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_EVENT_LOG_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(
            WebhookEventLogEntry.objects.filter(received_at__lt=before)
            .order_by("received_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += WebhookEventLogEntry.objects.filter(id__in=ids).delete()[0]


def event_log_record(
    *, change: Change, received_at: datetime, journal_entry_id: int | None, error: str = ""
) -> None:
    """Record a change's outcome in the current tenant schema (failed when `error` is set). Idempotent:
    one upsert on the change's envelope hash."""
    _upsert(
        {
            change.envelope_hash: _row_values(
                change=change, received_at=received_at, journal_entry_id=journal_entry_id, error=error
            )
        }
    )


@dataclass(frozen=True)
class LoggedChange:
    change: Change
    received_at: datetime
    journal_entry_id: int | None


def event_logs_record(*, changes: list[LoggedChange]) -> int:
    """Record many applied changes in the current tenant schema in one upsert; returns the rows written.

    A change that appears more than once (Meta delivered it twice) is one row, the last one's.
    """
    rows: dict[str, dict] = {}
    for logged in changes:
        rows[logged.change.envelope_hash] = _row_values(
            change=logged.change,
            received_at=logged.received_at,
            journal_entry_id=logged.journal_entry_id,
            error="",
        )
    _upsert(rows)
    return len(rows)


# The columns `event_logs_record` writes and their types in `unnest` (JSON travels as text, then cast).
_COLUMNS = {
    "journal_entry_id": "bigint",
    "received_at": "timestamptz",
    "field": "text",
    "event_types": "text",
    "event_count": "integer",
    "phone_number_id": "text",
    "waba_id": "text",
    "status": "text",
    "error": "text",
    "applied_at": "timestamptz",
}
_CASTS = {"event_types": "::jsonb"}
_UPSERT_SQL = (
    f"INSERT INTO {WebhookEventLogEntry._meta.db_table} (envelope_hash, {', '.join(_COLUMNS)}) "
    f"SELECT envelope_hash, {', '.join(name + _CASTS.get(name, '') for name in _COLUMNS)} "
    f"FROM unnest(%s::text[], {', '.join(f'%s::{sql_type}[]' for sql_type in _COLUMNS.values())}) "
    f"AS v(envelope_hash, {', '.join(_COLUMNS)}) "
    f"ON CONFLICT (envelope_hash) DO UPDATE SET {', '.join(f'{name} = EXCLUDED.{name}' for name in _COLUMNS)}"
)


def _upsert(rows: dict[str, dict]) -> None:
    """Insert or update rows by envelope hash, in one statement."""
    if not rows:
        return
    values = list(rows.values())
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_SQL, [list(rows)] + [[_db_value(name, row[name]) for row in values] for name in _COLUMNS]
        )


def _db_value(name: str, value: object) -> object:
    return json.dumps(value) if name in _CASTS else value


def _row_values(*, change: Change, received_at: datetime, journal_entry_id: int | None, error: str) -> dict:
    phone_ids = [event.phone_number_id for event in change.events if event.phone_number_id]
    waba_ids = [event.waba_id for event in change.events if event.waba_id]
    if change.routing_kind == "phone_number_id":
        phone_ids.insert(0, change.routing_id)
    else:
        waba_ids.insert(0, change.routing_id)
    return {
        "journal_entry_id": journal_entry_id,
        "received_at": received_at,
        "field": change.field[:64],
        "event_types": sorted({EVENT_TYPE_NAMES.get(type(event), "other") for event in change.events}),
        "event_count": len(change.events),
        "phone_number_id": next(filter(None, phone_ids), "")[:64],
        "waba_id": next(filter(None, waba_ids), "")[:64],
        "status": WebhookEventLogEntry.Status.FAILED if error else WebhookEventLogEntry.Status.PROCESSED,
        "error": error,
        "applied_at": timezone.now(),
    }


def event_log_failure_record(
    *, change: Change, received_at: datetime, journal_entry_id: int | None, exception: Exception
) -> None:
    """Record why a change failed, without ever hiding the original exception.

    A domain error keeps its message; anything else only its type (its text may hold data that
    is not the tenant's to read). A database that refuses this write too is only logged.
    """
    if isinstance(exception, DomainError):
        error = exception.message
    else:
        error = f"Applying failed with an unexpected {type(exception).__name__}."
    try:
        event_log_record(
            change=change, received_at=received_at, journal_entry_id=journal_entry_id, error=error
        )
    except DatabaseError:
        logger.warning("Could not record the failure of a %s change in the tenant's event log.", change.field)


def event_log_list(*, field: str | None = None, status: str | None = None) -> QuerySet[WebhookEventLogEntry]:
    """The current tenant's logged changes, newest first."""
    entries = WebhookEventLogEntry.objects.all()
    if field:
        entries = entries.filter(field=field)
    if status:
        entries = entries.filter(status=status)
    return entries
