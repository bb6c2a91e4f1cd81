"""Apply Meta's status webhooks (sent, delivered, read, failed) to outbound messages.

Used by webhook processing and by the send pipeline. Inside the tenant's schema. Guarantees:

- idempotent: each (wamid, status) is stored once (`StatusEvent` unique constraint); a repeat
  changes nothing;
- order-safe: a message's status only moves forward (`status_advances`); a late status still
  fills in its own timestamp (a `delivered` after `read` sets `delivered_at`) and billing data;
- early statuses wait: a status for a wamid no message has yet is stored unapplied and applied by
  `pending_statuses_apply` when the message gets that wamid, or at once when its
  `biz_opaque_callback_data` names our outbound message id;
- race-free: these functions take a transaction-scoped advisory lock on the wamid, so a status
  being stored and a send worker recording that wamid cannot miss each other.

`message_statuses_apply` is the batched form of `message_status_apply` (the webhook worker's):
the same rules (`status_effect`) and results, in a fixed number of statements per batch.

Each of them announces the status changes it made (`messaging.signals.message_statuses_changed`),
once, with all of them, before its transaction ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from messaging.models import Message, StatusEvent
from messaging.signals import message_statuses_changed
from messaging.status_order import FAILED, status_advances
from messaging.status_order import MessageStatus as S
from waba.webhook_events import StatusUpdate

TIMESTAMP_FIELDS: dict[str, str] = {
    S.SENT: "sent_at",
    S.DELIVERED: "delivered_at",
    S.READ: "read_at",
    S.FAILED: "failed_at",
}


@dataclass(frozen=True)
class StatusChange:
    """An outbound message's status moved forward, from `previous_status` to `status`."""

    message_id: int
    conversation_id: int
    wamid: str
    previous_status: str
    status: str
    timestamp: datetime  # when Meta says it happened
    recipient_id: str
    error_code: int | None
    error_title: str
    pricing_category: str


def _status_change(message: Message, previous_status: str, status_event: StatusEvent) -> StatusChange:
    return StatusChange(
        message_id=message.pk,
        conversation_id=message.conversation_id,
        wamid=message.wamid or status_event.wamid,
        previous_status=previous_status,
        status=message.status,
        timestamp=status_event.timestamp,
        recipient_id=status_event.recipient_id,
        error_code=message.error_code,
        error_title=message.error_title,
        pricing_category=message.pricing_category,
    )


def _changes_announce(changes: list[StatusChange]) -> None:
    if changes:
        message_statuses_changed.send_in_savepoints(sender=Message, changes=changes)


class StatusOutcome(StrEnum):
    APPLIED = "applied"  # moved the message forward
    RECORDED = "recorded"  # stored and attached, but the message was already further on
    PENDING = "pending"  # no message has this wamid yet: kept for later
    DUPLICATE = "duplicate"  # this (wamid, status) was already received


def message_status_apply(*, event: StatusUpdate) -> StatusOutcome:
    """Record one status webhook and apply it to its message if we know the message."""
    with transaction.atomic():
        wamids_lock([event.wamid])
        status_event = _status_event_insert(event)
        if status_event is None:
            return StatusOutcome.DUPLICATE
        message = _outbound().select_for_update().filter(wamid=event.wamid).first()
        if message is None:
            message = _message_by_callback_data(event)
        if message is None:
            return StatusOutcome.PENDING
        changes: list[StatusChange] = []
        advanced = _apply(message, status_event, changes)
        if message.wamid == event.wamid:
            _apply_waiting(message, changes)
        _changes_announce(changes)
    return StatusOutcome.APPLIED if advanced else StatusOutcome.RECORDED


def message_statuses_apply(*, events: Sequence[StatusUpdate]) -> list[StatusOutcome]:
    """Record and apply many status webhooks at once; returns each event's outcome, in order.

    Same rules, outcomes and rows as `message_status_apply` called on each event in turn, in a
    fixed number of statements whatever the number of events: the wamids' locks, one INSERT of the
    new statuses, the messages FOR UPDATE (by wamid, then by callback data), the statuses that
    waited, then one UPDATE of the messages and one of the statuses. All or nothing.
    """
    if not events:
        return []
    with transaction.atomic():
        wamids_lock(event.wamid for event in events)
        stored = _status_events_insert_many(events)
        new_wamids = {status_event.wamid for status_event in stored.values()}
        messages: dict[str, Message] = {}
        waiting: dict[str, list[StatusEvent]] = {}
        if new_wamids:
            messages = {
                m.wamid: m
                for m in _outbound().select_for_update().filter(wamid__in=new_wamids).only(*_APPLY_FIELDS)
                if m.wamid
            }
            earlier = StatusEvent.objects.filter(wamid__in=new_wamids, applied_at__isnull=True).exclude(
                pk__in=[status_event.pk for status_event in stored.values()]
            )
            for status_event in earlier:
                waiting.setdefault(status_event.wamid, []).append(status_event)
        by_callback = _messages_by_callback_data_many(
            [event for event in events if event.wamid in new_wamids and event.wamid not in messages]
        )
        batch = _StatusBatch(messages=messages, by_callback=by_callback, waiting=waiting)
        outcomes = [batch.apply(event, stored.pop((event.wamid, event.status), None)) for event in events]
        batch.write()
        _changes_announce(batch.changes)
    return outcomes


# What applying a status reads and writes on a message.
_APPLY_FIELDS = (
    "id",
    "wamid",
    "status",
    *TIMESTAMP_FIELDS.values(),
    "error_code",
    "error_title",
    "error_details",
    "conversation_info",
    "pricing",
    "pricing_category",
    "updated_at",
    "conversation_id",
)


class _StatusBatch:
    """The locked messages of one batch, changed in memory in the order `message_status_apply` would
    change them, by the same `status_effect`, then written at once."""

    def __init__(
        self,
        *,
        messages: dict[str, Message],
        by_callback: dict[int, Message],
        waiting: dict[str, list[StatusEvent]],
    ) -> None:
        self.messages = messages  # by wamid
        self.by_callback = by_callback  # by id: not yet claimed by a status's callback data
        self.waiting = waiting  # unapplied statuses by wamid, until their message is known
        self.dirty: dict[int, Message] = {}
        self.fields: set[str] = set()
        self.applied: list[StatusEvent] = []
        self.changes: list[StatusChange] = []
        self.now = timezone.now()

    def apply(self, event: StatusUpdate, status_event: StatusEvent | None) -> StatusOutcome:
        if status_event is None:
            return StatusOutcome.DUPLICATE
        message = self.messages.get(event.wamid) or self._claim_by_callback_data(event)
        if message is None:
            self.waiting.setdefault(event.wamid, []).append(status_event)
            return StatusOutcome.PENDING
        advanced = self._apply(message, status_event)
        for waited in sorted(self.waiting.pop(event.wamid, []), key=lambda e: (e.timestamp, e.pk)):
            self._apply(message, waited)
        return StatusOutcome.APPLIED if advanced else StatusOutcome.RECORDED

    def _claim_by_callback_data(self, event: StatusUpdate) -> Message | None:
        data = (event.biz_opaque_callback_data or "").strip()
        message = self.by_callback.pop(int(data), None) if data.isdigit() else None
        if message is not None:
            message.wamid = event.wamid
            self.messages[event.wamid] = message
            self._dirty(message, {"wamid"})
        return message

    def _apply(self, message: Message, status_event: StatusEvent) -> bool:
        previous_status = message.status
        advanced, changes = status_effect(message, status_event)
        if changes:
            for name, value in changes.items():
                setattr(message, name, value)
            self._dirty(message, set(changes))
        if advanced:
            self.changes.append(_status_change(message, previous_status, status_event))
        status_event.message_id = message.pk
        status_event.applied_at = self.now
        self.applied.append(status_event)
        return advanced

    def _dirty(self, message: Message, fields: set[str]) -> None:
        message.updated_at = self.now
        self.dirty[message.pk] = message
        self.fields |= fields | {"updated_at"}

    def write(self) -> None:
        """One UPDATE of the changed messages (the changed fields only), one of the applied statuses."""
        if self.dirty:
            fields = sorted(self.fields)
            messages = list(self.dirty.values())
            columns = ", ".join(f"{name} = v.{name}{_CASTS.get(name, '')}" for name in fields)
            arrays = ", ".join(f"%s::{_ARRAY_TYPES[name]}" for name in fields)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Message._meta.db_table} AS m SET {columns} "
                    f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(fields)}) WHERE m.id = v.id",
                    [[m.pk for m in messages]]
                    + [[_db_value(name, getattr(m, name)) for m in messages] for name in fields],
                )
        if self.applied:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {StatusEvent._meta.db_table} AS s SET message_id = v.message_id, applied_at = %s "
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, message_id) WHERE s.id = v.id",
                    [self.now, [e.pk for e in self.applied], [e.message_id for e in self.applied]],
                )


# The message fields a status may write, as columns of `unnest` (JSON travels as text, then cast).
_ARRAY_TYPES = {
    "status": "text[]",
    "wamid": "text[]",
    "sent_at": "timestamptz[]",
    "delivered_at": "timestamptz[]",
    "read_at": "timestamptz[]",
    "failed_at": "timestamptz[]",
    "error_code": "integer[]",
    "error_title": "text[]",
    "error_details": "text[]",
    "conversation_info": "text[]",
    "pricing": "text[]",
    "pricing_category": "text[]",
    "updated_at": "timestamptz[]",
}
_CASTS = {"conversation_info": "::jsonb", "pricing": "::jsonb"}


def _db_value(name: str, value: object) -> object:
    return _json(value) if name in _CASTS else value


def pending_statuses_apply(*, message: Message) -> None:
    """Apply the statuses that arrived before `message` was known by its wamid (oldest first).

    Call after the message's wamid is stored (committed, or in the same transaction). Idempotent.
    """
    if not message.wamid:
        return
    with transaction.atomic():
        wamids_lock([message.wamid])
        locked = _outbound().select_for_update().filter(pk=message.pk, wamid=message.wamid).first()
        if locked is not None:
            changes: list[StatusChange] = []
            _apply_waiting(locked, changes)
            _changes_announce(changes)
            message.refresh_from_db()


def _outbound() -> QuerySet[Message]:
    return Message.objects.filter(direction=Message.Direction.OUTBOUND)


def wamids_lock(wamids: Iterable[str]) -> None:
    """Take the transaction-scoped advisory lock of each wamid, in one statement.

    Status processing and the send worker's recording of wamids both take it, so a status stored
    for a wamid and that wamid being recorded on its message cannot miss each other. Locks are
    taken in sorted order, so two transactions locking overlapping sets never deadlock. Call
    inside a transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(hashtextextended('wamid:' || w, 0))) FROM unnest(%s::text[]) AS w",
            [sorted(set(wamids))],
        )


def _status_event_insert(event: StatusUpdate) -> StatusEvent | None:
    try:
        with transaction.atomic():
            return StatusEvent.objects.create(
                wamid=event.wamid,
                status=event.status,
                timestamp=event.timestamp,
                recipient_id=event.recipient_id or "",
                biz_opaque_callback_data=(event.biz_opaque_callback_data or "")[:512],
                conversation_info=event.conversation,
                pricing=event.pricing,
                errors=event.errors,
            )
    except IntegrityError:
        return None


def _status_events_insert_many(events: Sequence[StatusUpdate]) -> dict[tuple[str, str], StatusEvent]:
    """Store the statuses not stored yet, in one statement; returns the new ones by (wamid, status).

    The first of several equal (wamid, status) in `events` is the one stored, as one by one.
    """
    first: dict[tuple[str, str], StatusUpdate] = {}
    for event in events:
        first.setdefault((event.wamid, event.status), event)
    now = timezone.now()
    rows = [
        StatusEvent(
            wamid=event.wamid,
            status=event.status,
            timestamp=event.timestamp,
            recipient_id=event.recipient_id or "",
            biz_opaque_callback_data=(event.biz_opaque_callback_data or "")[:512],
            conversation_info=event.conversation,
            pricing=event.pricing,
            errors=event.errors,
            received_at=now,
        )
        for event in first.values()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {StatusEvent._meta.db_table} (wamid, status, timestamp, recipient_id, "
            "biz_opaque_callback_data, conversation_info, pricing, errors, received_at) "
            "SELECT w, s, t, r, b, c::jsonb, p::jsonb, e::jsonb, %s FROM unnest(%s::text[], %s::text[], "
            "%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) AS v(w, s, t, r, b, c, p, e) "
            "ON CONFLICT (wamid, status) DO NOTHING RETURNING id, wamid, status",
            [
                now,
                [row.wamid for row in rows],
                [row.status for row in rows],
                [row.timestamp for row in rows],
                [row.recipient_id for row in rows],
                [row.biz_opaque_callback_data for row in rows],
                [_json(row.conversation_info) for row in rows],
                [_json(row.pricing) for row in rows],
                [json.dumps(row.errors) for row in rows],
            ],
        )
        new = {(wamid, status): pk for pk, wamid, status in cursor.fetchall()}
    stored: dict[tuple[str, str], StatusEvent] = {}
    for row in rows:
        pk = new.get((row.wamid, row.status))
        if pk is not None:
            row.pk = pk
            row._state.adding = False
            stored[(row.wamid, row.status)] = row
    return stored


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value)


def _messages_by_callback_data_many(events: Sequence[StatusUpdate]) -> dict[int, Message]:
    """Our outbound messages without a wamid that these statuses' `biz_opaque_callback_data` name, locked."""
    ids = {
        int(data) for event in events if (data := (event.biz_opaque_callback_data or "").strip()).isdigit()
    }
    if not ids:
        return {}
    return {
        m.pk: m
        for m in _outbound().select_for_update().filter(pk__in=ids, wamid__isnull=True).only(*_APPLY_FIELDS)
    }


def _message_by_callback_data(event: StatusUpdate) -> Message | None:
    """Our outbound message named by `biz_opaque_callback_data`, if its wamid was never recorded."""
    data = (event.biz_opaque_callback_data or "").strip()
    if not data.isdigit():
        return None
    message = _outbound().select_for_update().filter(pk=int(data), wamid__isnull=True).first()
    if message is None:
        return None
    message.wamid = event.wamid
    Message.objects.filter(pk=message.pk).update(wamid=event.wamid, updated_at=timezone.now())
    return message


def _apply_waiting(message: Message, changed: list[StatusChange]) -> None:
    waiting = StatusEvent.objects.filter(wamid=message.wamid, applied_at__isnull=True).order_by(
        "timestamp", "id"
    )
    for status_event in waiting:
        _apply(message, status_event, changed)


def _apply(message: Message, status_event: StatusEvent, changed: list[StatusChange]) -> bool:
    """Apply one stored status to a locked message; returns whether the status moved forward (and
    then adds the change to `changed`)."""
    previous_status = message.status
    advanced, changes = status_effect(message, status_event)
    if changes:
        for name, value in changes.items():
            setattr(message, name, value)
        changes["updated_at"] = timezone.now()
        Message.objects.filter(pk=message.pk).update(**changes)
    StatusEvent.objects.filter(pk=status_event.pk).update(message=message, applied_at=timezone.now())
    if advanced:
        changed.append(_status_change(message, previous_status, status_event))
    return advanced


def status_effect(message: Message, status_event: StatusEvent) -> tuple[bool, dict[str, object]]:
    """What applying a stored status does to a message: whether it moves forward, and the new field
    values (empty when nothing changes). Pure: both the one-by-one and the batched paths write it."""
    changes: dict[str, object] = {}
    advanced = status_advances(message.status, status_event.status)
    if advanced:
        changes["status"] = status_event.status
        if status_event.status == FAILED:
            error = status_event.errors[0] if status_event.errors else {}
            changes["error_code"] = error.get("code")
            changes["error_title"] = str(error.get("title") or error.get("message") or "")[:500]
            changes["error_details"] = str((error.get("error_data") or {}).get("details") or "")
    timestamp_field = TIMESTAMP_FIELDS.get(status_event.status)
    # A late status still records when it happened; a late failure does not mark a delivered message.
    late_but_true = status_event.status != FAILED and getattr(message, timestamp_field or "", None) is None
    if timestamp_field and (advanced or late_but_true):
        changes[timestamp_field] = status_event.timestamp
    if status_event.conversation_info:
        changes["conversation_info"] = status_event.conversation_info
    if status_event.pricing:
        changes["pricing"] = status_event.pricing
        category = status_event.pricing.get("category")
        if category:
            changes["pricing_category"] = str(category)[:32]
    elif status_event.conversation_info and not message.pricing_category:
        origin = (status_event.conversation_info.get("origin") or {}).get("type")
        if origin:
            changes["pricing_category"] = str(origin)[:32]
    return advanced, changes
