"""Apply Meta's status webhooks (sent, delivered, read, failed) to outbound messages.

Used by webhook processing and by the send pipeline. Inside the tenant's schema. Guarantees:

- idempotent: each (wamid, status) is stored once (`StatusEvent` unique constraint); a repeat
  changes nothing;
- order-safe: a message's status only moves forward (`status_advances`); a late status still
  fills in its own timestamp (a `delivered` after `read` sets `delivered_at`) and billing data;
- early statuses wait: a status for a wamid no message has yet is stored unapplied and applied by
  `pending_statuses_apply` when the message gets that wamid, or at once when its
  `biz_opaque_callback_data` names our outbound message id;
- race-free: both functions take a transaction-scoped advisory lock on the wamid, so a status
  being stored and a send worker recording that wamid cannot miss each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from messaging.models import Message, StatusEvent
from messaging.status_order import FAILED, status_advances
from messaging.status_order import MessageStatus as S
from waba.webhook_events import StatusUpdate

TIMESTAMP_FIELDS: dict[str, str] = {S.SENT: "sent_at", S.DELIVERED: "delivered_at", S.READ: "read_at", S.FAILED: "failed_at"}


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
        advanced = _apply(message, status_event)
        if message.wamid == event.wamid:
            _apply_waiting(message)
    return StatusOutcome.APPLIED if advanced else StatusOutcome.RECORDED


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
            _apply_waiting(locked)
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


def _apply_waiting(message: Message) -> None:
    waiting = StatusEvent.objects.filter(wamid=message.wamid, applied_at__isnull=True).order_by("timestamp", "id")
    for status_event in waiting:
        _apply(message, status_event)


def _apply(message: Message, status_event: StatusEvent) -> bool:
    """Apply one stored status to a locked message; returns whether the status moved forward."""
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
    if changes:
        for name, value in changes.items():
            setattr(message, name, value)
        changes["updated_at"] = timezone.now()
        Message.objects.filter(pk=message.pk).update(**changes)
    StatusEvent.objects.filter(pk=status_event.pk).update(message=message, applied_at=timezone.now())
    return advanced
