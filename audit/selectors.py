"""Reads of the audit log, in the schema the connection is on (a tenant's, or public)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from audit.errors import AuditFilterInvalid
from audit.models import AuditEntry

CSV_COLUMNS = [
    "time",
    "actor_type",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "changes",
    "client_address",
    "request_id",
]


@dataclass(frozen=True)
class AuditFilters:
    actor_type: str = ""
    actor_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def audit_entries(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The entries matching every given filter, newest first."""
    if filters.actor_type and filters.actor_type not in AuditEntry.ActorType.values:
        raise AuditFilterInvalid(
            f"Unknown actor type {filters.actor_type!r}; one of {', '.join(AuditEntry.ActorType.values)}.",
            details=[{"field": "actor_type", "message": "unknown"}],
        )
    if filters.action and filters.action not in AuditEntry.Action.values:
        raise AuditFilterInvalid(
            f"Unknown action {filters.action!r}; one of {', '.join(AuditEntry.Action.values)}.",
            details=[{"field": "action", "message": "unknown"}],
        )
    if filters.since and filters.until and filters.until <= filters.since:
        raise AuditFilterInvalid(
            "`until` must be after `since`.", details=[{"field": "until", "message": "before since"}]
        )
    entries = AuditEntry.objects.all()
    if filters.actor_type:
        entries = entries.filter(actor_type=filters.actor_type)
    if filters.actor_id is not None:
        entries = entries.filter(actor_id=filters.actor_id)
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_id:
        entries = entries.filter(object_id=filters.object_id)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.since:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until:
        entries = entries.filter(created_at__lt=filters.until)
    return entries.order_by("-id")


def audit_entries_page(
    filters: AuditFilters, *, before_id: int | None, limit: int
) -> tuple[list[AuditEntry], int | None]:
    """One page of newest-first entries older than `before_id`, and the cursor of the next page."""
    entries = audit_entries(filters)
    if before_id is not None:
        entries = entries.filter(id__lt=before_id)
    page = list(entries[: limit + 1])
    if len(page) > limit:
        return page[:limit], page[limit - 1].pk
    return page, None


def audit_actors(limit: int = 200) -> list[tuple[str, int, str]]:
    """(type, id, label) of the actors in the log, the most recent label of each, for a filter."""
    rows = (
        AuditEntry.objects.order_by("actor_type", "actor_id", "-id")
        .distinct("actor_type", "actor_id")
        .values_list("actor_type", "actor_id", "actor_label")
    )
    return sorted(rows[:limit], key=lambda row: row[2].lower())


def audit_object_types() -> list[str]:
    return sorted(AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct())


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (labels and values come from users)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv_lines(filters: AuditFilters) -> Iterator[str]:
    """The matching entries as CSV text, newest first, a few hundred rows at a time (for streaming)."""
    entries = audit_entries(filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for number, entry in enumerate(entries.iterator(chunk_size=2000), start=1):
        writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.actor_type,
                entry.actor_id,
                _safe_cell(entry.actor_label),
                entry.action,
                entry.object_type,
                _safe_cell(entry.object_id),
                _safe_cell(entry.object_repr),
                _safe_cell(json.dumps(entry.changes, ensure_ascii=False, sort_keys=True)),
                entry.client_address or "",
                entry.request_id,
            ]
        )
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
