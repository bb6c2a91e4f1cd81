"""The work-pending index: which tenant schemas have work of which kind, and from when.

Workers and frequent schedules read this one public table instead of visiting every schema, so
an idle platform costs the same with ten tenants as with ten thousand. The contract:

* whoever writes work calls `work_announce` in the same transaction: the row commits (or rolls
  back) with the work, so work is never left unannounced;
* whoever drains a schema reads the row's `version` (`work_due`, `work_version`) before it looks
  at the schema, then calls `work_settle` with what it found: nothing left (the row goes) or the
  time of the earliest work left (the row waits until then). Both apply only if the version is
  unchanged: an announcement made meanwhile bumps it, so its row is never cleared.

An announcement updates the row, so it holds the row's lock until its transaction ends: a
`work_settle` of the same row waits for that commit, then sees the new version and keeps the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from platform_core.batch_memo import batch_note, batch_noted
from tenants.context import connection
from tenants.models import WorkPending
from tenants.selectors import active_tenants


class WorkKind:
    """What a row announces, and who settles it."""

    OUTBOX = "outbox"  # queued or in-flight messages (sending.worker, sending's reconcile schedule)
    DELIVERIES = "deliveries"  # outbound webhook deliveries (integrations.worker)
    CAMPAIGNS = "campaigns"  # running campaigns to mark finished (broadcasts' schedule)
    MEDIA = "media"  # inbound media still to fetch (messaging's media-keep-due schedule)
    CONVERSATION_STATES = "conversation_states"  # states to expire or prune (automations' schedule)
    METERING = "metering"  # messages delivered since the last meter run (billing's meter schedule)
    ALERTS = "alerts"  # a condition or an open incident to reconcile (the alerts' sweep)


@dataclass(frozen=True)
class Pending:
    schema_name: str
    version: int
    due_at: datetime


def _table() -> str:
    return f"{connection.ops.quote_name(get_public_schema_name())}.{WorkPending._meta.db_table}"


def work_announce(*, kind: str, due_at: datetime | None = None, schema_name: str | None = None) -> None:
    """Announce work of `kind` in `schema_name` (default: the current schema), due from `due_at`
    (default: now). Call it inside the transaction that writes the work."""
    schema = schema_name or connection.schema_name
    if not schema or schema == get_public_schema_name():
        raise ValueError(f"work of kind {kind!r} announced outside a tenant schema")
    # In a batch of webhook changes (one transaction), the first announcement of a kind holds the
    # row until the batch commits: a later one due no earlier changes nothing and is not sent.
    due = due_at or timezone.now()
    first = batch_noted(("tenants.work_announced", schema, kind))
    if first is not None and due >= first:
        return
    if first is None:
        batch_note(("tenants.work_announced", schema, kind), due)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table()} AS w (schema_name, kind, due_at, version) "
            "VALUES (%s, %s, COALESCE(%s, clock_timestamp()), 1) "
            "ON CONFLICT (schema_name, kind) DO UPDATE "
            "SET due_at = LEAST(w.due_at, EXCLUDED.due_at), version = w.version + 1",
            [schema, kind, due_at],
        )


def work_due(
    *, kind: str, now: datetime | None = None, schemas: list[str] | None = None, limit: int | None = None
) -> list[Pending]:
    """Rows of `kind` due by `now` in active tenants' schemas (only `schemas`, when given), earliest first."""
    rows = WorkPending.objects.filter(
        kind=kind,
        due_at__lte=now or timezone.now(),
        schema_name__in=active_tenants().values("schema_name"),
    )
    if schemas is not None:
        rows = rows.filter(schema_name__in=schemas)
    rows = rows.order_by("due_at", "schema_name")
    if limit is not None:
        rows = rows[:limit]
    return [Pending(*row) for row in rows.values_list("schema_name", "version", "due_at")]


def work_version(*, kind: str, schema_name: str | None = None) -> int | None:
    """The row's version before looking at the schema (None when nothing is announced)."""
    schema = schema_name or connection.schema_name
    return WorkPending.objects.filter(kind=kind, schema_name=schema).values_list("version", flat=True).first()


def work_settle(
    *, kind: str, version: int | None, due_at: datetime | None, schema_name: str | None = None
) -> bool:
    """Record what a drain left: `due_at` None clears the row, else the row waits until `due_at`.

    Applies only if the row still has `version` (nobody announced since it was read); returns
    whether it did. Work found with no row at all (`version` None) is announced.
    """
    schema = schema_name or connection.schema_name
    if version is None:
        if due_at is not None:
            work_announce(kind=kind, due_at=due_at, schema_name=schema)
        return due_at is not None
    rows = WorkPending.objects.filter(kind=kind, schema_name=schema, version=version)
    if due_at is None:
        return rows.delete()[0] > 0
    return rows.update(due_at=due_at) > 0


def schemas_with_work(*, kind: str, now: datetime | None = None) -> list[str]:
    """Active tenants' schemas with work of `kind` due by `now`: what a frequent schedule fans out to."""
    return [pending.schema_name for pending in work_due(kind=kind, now=now)]

