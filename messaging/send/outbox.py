"""The outbox: outbound Message rows are the queue. Writing them, claiming them, recording outcomes.

A message moves queued -> sending (claimed by one worker) -> sent / failed, or back to queued for
a retry. Claims are `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`, so any number
of worker processes can claim at once and never get the same row. A claimed message carries a
lease in `next_attempt_at`: if its worker dies, the lease runs out and reconciliation decides,
from the status webhooks Meta sent for it, whether it went out before sending it again.

Everything here runs inside the tenant's schema (the caller enters it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from messaging.models import Contact, Conversation, Message, StatusEvent
from messaging.send.validation import BuiltMessage
from waba.models import MessageTemplate, PhoneNumber

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "send_outbox"
S = Message.Status


@dataclass(frozen=True)
class OutboundItem:
    """One message to queue: who gets it and what it carries."""

    wa_id: str
    built: BuiltMessage
    template: MessageTemplate | None = None
    idempotency_key: str | None = None
    next_attempt_at: datetime | None = None


# --- queueing ----------------------------------------------------------------------------------------


def outbox_enqueue(*, phone_number: PhoneNumber, items: Sequence[OutboundItem]) -> list[Message]:
    """Queue messages from one number in one transaction: contacts, conversations, messages.

    Each message's Graph request carries its own id as `biz_opaque_callback_data`, so ids are
    drawn from the table's sequence first. Workers are woken when the transaction commits.
    """
    if not items:
        return []
    now = timezone.now()
    with transaction.atomic():
        contacts = _contacts_ensure({item.wa_id for item in items})
        conversations = _conversations_ensure(phone_number, contacts.values())
        ids = _message_ids_allocate(len(items))
        messages = []
        for message_id, item in zip(ids, items, strict=True):
            payload = dict(item.built.payload, biz_opaque_callback_data=str(message_id))
            contact = contacts[item.wa_id]
            messages.append(
                Message(
                    id=message_id,
                    conversation=conversations[contact.pk],
                    contact=contact,
                    phone_number=phone_number,
                    direction=Message.Direction.OUTBOUND,
                    type=item.built.type,
                    content=item.built.content,
                    body=item.built.body,
                    context_wamid=item.built.context_wamid,
                    status=S.QUEUED,
                    timestamp=now,
                    request_payload=payload,
                    template=item.template,
                    idempotency_key=item.idempotency_key,
                    next_attempt_at=item.next_attempt_at or now,
                )
            )
        Message.objects.bulk_create(messages)
        Conversation.objects.filter(pk__in=[c.pk for c in conversations.values()]).update(
            message_count=F("message_count") + 1, last_message_at=now
        )
        if len(items) > len(conversations):  # several messages to one contact: count each
            _conversation_counts_fix(conversations, items, contacts)
        outbox_notify()
    return messages


def _contacts_ensure(wa_ids: set[str]) -> dict[str, Contact]:
    Contact.objects.bulk_create([Contact(wa_id=wa_id) for wa_id in sorted(wa_ids)], ignore_conflicts=True)
    return {contact.wa_id: contact for contact in Contact.objects.filter(wa_id__in=wa_ids)}


def _conversations_ensure(phone_number: PhoneNumber, contacts: Iterable[Contact]) -> dict[int, Conversation]:
    contact_ids = sorted(contact.pk for contact in contacts)
    Conversation.objects.bulk_create(
        [Conversation(contact_id=pk, phone_number=phone_number) for pk in contact_ids], ignore_conflicts=True
    )
    found = Conversation.objects.filter(phone_number=phone_number, contact_id__in=contact_ids)
    return {conversation.contact_id: conversation for conversation in found}


def _conversation_counts_fix(
    conversations: dict[int, Conversation], items: Sequence[OutboundItem], contacts: dict[str, Contact]
) -> None:
    extra: dict[int, int] = {}
    for item in items:
        pk = conversations[contacts[item.wa_id].pk].pk
        extra[pk] = extra.get(pk, 0) + 1
    for pk, count in extra.items():
        if count > 1:
            Conversation.objects.filter(pk=pk).update(message_count=F("message_count") + count - 1)


def _message_ids_allocate(count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('messaging_message', 'id')) FROM generate_series(1, %s)",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def outbox_notify() -> None:
    """Wake the send workers for this tenant; PostgreSQL delivers it when the transaction commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, connection.schema_name])


# --- worker side: finding and claiming due messages ----------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int
    payload: dict[str, Any]

    @property
    def wa_id(self) -> str:
        return str(self.payload.get("to", ""))


def outbox_due_by_number(*, phone_number_ids: Sequence[int]) -> dict[int, datetime]:
    """For each number (by pk) with queued messages: when the earliest of them is due."""
    if not phone_number_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id, (SELECT min(m.next_attempt_at) FROM messaging_message m
                          WHERE m.phone_number_id = p.id AND m.status = 'queued')
            FROM unnest(%s::bigint[]) AS p(id)
            """,
            [list(phone_number_ids)],
        )
        return {pk: due for pk, due in cursor.fetchall() if due is not None}


def outbox_pending_count() -> int:
    """Messages still to go out from numbers of active accounts (queued or being sent)."""
    return Message.objects.filter(
        status__in=[S.QUEUED, S.SENDING], phone_number__account__status="active"
    ).count()


def outbox_claim(*, phone_number_pk: int, limit: int, lease_s: float) -> list[Claimed]:
    """Claim up to `limit` due messages of one number: queued -> sending, one more attempt, a lease."""
    if limit <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE messaging_message AS m
            SET status = 'sending', attempts = m.attempts + 1, last_attempt_at = clock_timestamp(),
                next_attempt_at = clock_timestamp() + make_interval(secs => %s), updated_at = clock_timestamp()
            WHERE m.id IN (
                SELECT id FROM messaging_message
                WHERE phone_number_id = %s AND status = 'queued' AND next_attempt_at <= clock_timestamp()
                ORDER BY next_attempt_at, id
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            RETURNING m.id, m.attempts, m.request_payload
            """,
            [lease_s, phone_number_pk, limit],
        )
        rows = cursor.fetchall()
    # Raw cursors hand jsonb back as text (Django decodes it only for model fields).
    claimed = [
        Claimed(id=pk, attempts=attempts, payload=json.loads(payload) if isinstance(payload, str) else payload)
        for pk, attempts, payload in rows
    ]
    return sorted(claimed, key=lambda c: c.id)


def outbox_release(
    *,
    message_ids: Sequence[int],
    delay_s: float = 0.0,
    code: int | None = None,
    title: str = "",
    details: str = "",
) -> None:
    """Hand claimed messages back unsent (held by our limiter, account stopped): no attempt used.

    `title` (with `code` and `details`) tells the tenant why the message is still waiting.
    """
    if not message_ids:
        return
    changes: dict[str, Any] = {}
    if title:
        changes = {"error_code": code, "error_title": title[:500], "error_details": details}
    Message.objects.filter(pk__in=message_ids, status=S.SENDING).update(
        status=S.QUEUED,
        attempts=F("attempts") - 1,
        next_attempt_at=timezone.now() + timedelta(seconds=delay_s),
        updated_at=timezone.now(),
        **changes,
    )


# --- recording outcomes ------------------------------------------------------------------------------


def outbox_record_sent(*, sent: Sequence[tuple[int, str, datetime]]) -> None:
    """Store the wamids of accepted sends, (id, wamid, sent_at) each, in one statement.

    A status webhook may have moved the message on already (delivered, read, failed): the status
    and its error then stay; only a missing wamid is filled in. Statuses that arrived before the
    wamid was known are applied afterwards, under the same per-wamid advisory locks that webhook
    processing takes (messaging.statuses), so a status stored concurrently is never missed.
    """
    if not sent:
        return
    wamids = sorted(wamid for _, wamid, _ in sent)
    values = ", ".join(["(%s::bigint, %s::text, %s::timestamptz)"] * len(sent))
    params = [value for row in sent for value in row]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(hashtextextended('wamid:' || w, 0))) FROM unnest(%s::text[]) AS w",
            [wamids],
        )
        cursor.execute(
            f"""
            UPDATE messaging_message AS m SET
                wamid = COALESCE(m.wamid, v.wamid),
                sent_at = COALESCE(m.sent_at, v.sent_at),
                error_code = CASE WHEN m.status IN ('queued', 'sending') THEN NULL ELSE m.error_code END,
                error_title = CASE WHEN m.status IN ('queued', 'sending') THEN '' ELSE m.error_title END,
                error_details = CASE WHEN m.status IN ('queued', 'sending') THEN '' ELSE m.error_details END,
                status = CASE WHEN m.status IN ('queued', 'sending') THEN 'sent' ELSE m.status END,
                next_attempt_at = NULL,
                updated_at = clock_timestamp()
            FROM (VALUES {values}) AS v(id, wamid, sent_at)
            WHERE m.id = v.id
            """,
            params,
        )
        _pending_statuses_apply(wamids=wamids)


def outbox_record_retry(
    *, message_id: int, delay_s: float, code: int | None, title: str, details: str = ""
) -> None:
    Message.objects.filter(pk=message_id, status=S.SENDING).update(
        status=S.QUEUED,
        next_attempt_at=timezone.now() + timedelta(seconds=delay_s),
        error_code=code,
        error_title=title[:500],
        error_details=details,
        updated_at=timezone.now(),
    )


def outbox_record_failed(*, message_id: int, code: int | None, title: str, details: str = "") -> None:
    now = timezone.now()
    Message.objects.filter(pk=message_id, status__in=[S.QUEUED, S.SENDING]).update(
        status=S.FAILED,
        failed_at=now,
        next_attempt_at=None,
        error_code=code,
        error_title=title[:500],
        error_details=details,
        updated_at=now,
    )


def outbox_record_unknown(*, message_id: int, grace_s: float, title: str, details: str = "") -> None:
    """The request may have reached Meta: keep it `sending` until reconciliation looks at it."""
    Message.objects.filter(pk=message_id, status=S.SENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=grace_s),
        error_title=title[:500],
        error_details=details,
        updated_at=timezone.now(),
    )


# --- reconciliation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciled:
    confirmed: int = 0  # a status webhook proved it went out: not sent again
    requeued: int = 0  # no trace at Meta after the grace period: sent again
    failed: int = 0  # out of attempts


def outbox_reconcile(*, max_attempts: int, limit: int = 200) -> Reconciled:
    """Settle messages whose lease ran out while `sending` (worker died, or the outcome was unknown).

    A status webhook carrying the message's id in `biz_opaque_callback_data` (or a wamid already
    attached by webhook processing) proves Meta accepted it: it becomes `sent` and is not sent
    again. Without such proof it is queued again, or failed once its attempts are used up.
    """
    confirmed = requeued = failed = 0
    now = timezone.now()
    with transaction.atomic():
        stale = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=S.SENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", "wamid", "attempts")[:limit]
        )
        if not stale:
            return Reconciled()
        evidence = _status_evidence([pk for pk, wamid, _ in stale if not wamid])
        sent: list[tuple[int, str, datetime]] = []
        for pk, wamid, attempts in stale:
            proof = (wamid, now) if wamid else evidence.get(pk)
            if proof is not None:
                sent.append((pk, proof[0], proof[1]))
                confirmed += 1
            elif attempts >= max_attempts:
                outbox_record_failed(
                    message_id=pk,
                    code=None,
                    title=f"No answer from Meta after {attempts} attempts",
                    details="The last attempt's outcome is unknown and no status webhook arrived for it.",
                )
                failed += 1
            else:
                Message.objects.filter(pk=pk).update(status=S.QUEUED, next_attempt_at=now, updated_at=now)
                requeued += 1
        outbox_record_sent(sent=sent)
    if confirmed or requeued or failed:
        logger.info("reconciled: %s confirmed by webhooks, %s queued again, %s failed", confirmed, requeued, failed)
    return Reconciled(confirmed=confirmed, requeued=requeued, failed=failed)


def _status_evidence(message_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    """Message id -> (wamid, time) of the earliest status webhook that named it."""
    if not message_ids:
        return {}
    events = (
        StatusEvent.objects.filter(biz_opaque_callback_data__in=[str(pk) for pk in message_ids])
        .order_by("timestamp")
        .values_list("biz_opaque_callback_data", "wamid", "timestamp")
    )
    found: dict[int, tuple[str, datetime]] = {}
    for opaque, wamid, at in events:
        found.setdefault(int(opaque), (wamid, at))
    return found


def _pending_statuses_apply(*, wamids: Sequence[str]) -> None:
    """Statuses that arrived before their message knew its wamid are applied now (issue 4's service)."""
    waiting = set(
        StatusEvent.objects.filter(wamid__in=wamids, applied_at__isnull=True).values_list("wamid", flat=True)
    )
    if not waiting:
        return
    try:
        apply = import_module("messaging.statuses").pending_statuses_apply
    except (ImportError, AttributeError):
        logger.info("%s status events wait for messaging.statuses.pending_statuses_apply", len(waiting))
        return
    for message in Message.objects.filter(wamid__in=waiting):
        apply(message=message)
