"""The outbox: outbound Message rows are the queue. Writing them, claiming them, recording outcomes.

A message moves queued -> sending (claimed by one worker) -> sent / failed, or back to queued for
a retry. Claims lock their rows with `FOR UPDATE SKIP LOCKED`, so any number
of worker processes can claim at once and never get the same row. A claimed message carries a
lease in `next_attempt_at`: if its worker dies, the lease runs out and reconciliation decides,
from the status webhooks Meta sent for it, whether it went out before sending it again.

Everything here runs inside the tenant's schema (the caller enters it).
"""

from __future__ import annotations

import json
import logging
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone
from psycopg.types.json import Jsonb

from messaging.models import Contact, Conversation, Message, StatusEvent
from messaging.status_order import IN_OUTBOX
from messaging.statuses import pending_statuses_apply, wamids_lock
from platform_core.bulk_sql import column, defaults_sql
from sending.validation import BuiltMessage, built_message
from tenants.context import connection
from tenants.work_pending import WorkKind, work_announce
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
    # The recipient's contact and its conversation with the sending number, when the caller has them.
    contact_id: int | None = None
    conversation_id: int | None = None


# --- queueing ----------------------------------------------------------------------------------------


def outbox_enqueue(*, phone_number: PhoneNumber, items: Sequence[OutboundItem]) -> list[Message]:
    """Queue messages from one number in one transaction: contacts, conversations, messages.

    Each message's Graph request carries its own id as `biz_opaque_callback_data`, so ids are
    drawn from the table's sequence first. Items that name their contact and conversation are
    not looked up. Workers are woken when the transaction commits.
    """
    if not items:
        return []
    now = timezone.now()
    with transaction.atomic(savepoint=False):  # all or nothing with the caller, who sees any error
        looked_up = [item for item in items if item.contact_id is None or item.conversation_id is None]
        contacts = _contacts_ensure({item.wa_id for item in looked_up}) if looked_up else {}
        conversations = _conversations_ensure(phone_number, contacts.values()) if looked_up else {}
        ids = _message_ids_allocate(len(items))
        messages = []
        for message_id, item in zip(ids, items, strict=True):
            payload = dict(item.built.payload, biz_opaque_callback_data=str(message_id))
            if item.contact_id is not None and item.conversation_id is not None:
                contact_id, conversation_id = item.contact_id, item.conversation_id
            else:
                contact_id = contacts[item.wa_id]
                conversation_id = conversations[contact_id]
            messages.append(
                Message(
                    id=message_id,
                    conversation_id=conversation_id,
                    contact_id=contact_id,
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
        rows_copy(model=Message, objects=messages)
        _conversations_count([message.conversation_id for message in messages], at=now)
        outbox_notify(due_at=min(item.next_attempt_at or now for item in items))
    return messages


@dataclass(frozen=True)
class BulkItem:
    """One message of a large batch of one type from one number, already validated and built."""

    wa_id: str
    content: dict[str, Any]
    body: str
    template_id: int | None
    next_attempt_at: datetime


def outbox_enqueue_bulk(*, phone_number: PhoneNumber, message_type: str, items: Sequence[BulkItem]) -> list[int]:
    """Queue many messages in a few set-based statements; returns their ids in the order of `items`.

    The same rows as `outbox_enqueue` writes, for batches of thousands: the items are copied into a
    temporary table, then missing contacts and conversations are created and the messages inserted
    with INSERT ... SELECT, each Graph request assembled in SQL around its content. Call it inside
    a transaction (the temporary table lives until the commit); workers are woken when it commits.
    """
    if not items:
        return []
    now = timezone.now()
    ids = _message_ids_allocate(len(items))
    envelope = dict(built_message(to_wa_id="", message_type=message_type, content={}, body="").payload)
    for key in ("to", message_type):
        envelope.pop(key)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS outbox_stage (id bigint, wa_id text, content jsonb, body text, "
            "template_id bigint, due timestamptz) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE outbox_stage")
        with cursor.cursor.copy("COPY outbox_stage (id, wa_id, content, body, template_id, due) FROM STDIN") as copy:
            for message_id, item in zip(ids, items, strict=True):
                copy.write_row(
                    (message_id, item.wa_id, Jsonb(item.content), item.body, item.template_id, item.next_attempt_at)
                )
        contact_columns, contact_values, contact_params = defaults_sql(Contact, {"wa_id"}, now)
        cursor.execute(
            f"INSERT INTO {Contact._meta.db_table} (wa_id{contact_columns}) "
            f"SELECT DISTINCT s.wa_id{contact_values} FROM outbox_stage s ON CONFLICT (wa_id) DO NOTHING",
            contact_params,
        )
        conversation_columns, conversation_values, conversation_params = defaults_sql(
            Conversation, {"contact", "phone_number"}, now
        )
        cursor.execute(
            f"INSERT INTO {Conversation._meta.db_table} (contact_id, phone_number_id{conversation_columns}) "
            f"SELECT DISTINCT c.id, %s{conversation_values} FROM outbox_stage s "
            f"JOIN {Contact._meta.db_table} c ON c.wa_id = s.wa_id ON CONFLICT DO NOTHING",
            [phone_number.pk, *conversation_params],
        )
        computed = {
            "id": "s.id",
            "conversation": "v.id",
            "contact": "c.id",
            "phone_number": "%s",
            "direction": "%s",
            "type": "%s",
            "content": "s.content",
            "body": "s.body",
            "status": "%s",
            "timestamp": "%s",
            "request_payload": "%s::jsonb || jsonb_build_object('to', s.wa_id, %s::text, s.content, "
            "'biz_opaque_callback_data', s.id::text)",
            "template": "s.template_id",
            "next_attempt_at": "s.due",
        }
        computed_params: list[Any] = [
            phone_number.pk, Message.Direction.OUTBOUND, message_type, S.QUEUED, now, Jsonb(envelope), message_type
        ]
        message_columns, message_values, message_params = defaults_sql(Message, set(computed), now)
        columns = ", ".join(column(Message, name) for name in computed)
        cursor.execute(
            f"INSERT INTO {Message._meta.db_table} ({columns}{message_columns}) "
            f"SELECT {', '.join(computed.values())}{message_values} FROM outbox_stage s "
            f"JOIN {Contact._meta.db_table} c ON c.wa_id = s.wa_id "
            f"JOIN {Conversation._meta.db_table} v ON v.contact_id = c.id AND v.phone_number_id = %s",
            [*computed_params, *message_params, phone_number.pk],
        )
        cursor.execute(
            f"UPDATE {Conversation._meta.db_table} v SET message_count = v.message_count + n.count, "
            f"last_message_at = %s FROM (SELECT m.conversation_id, count(*) AS count "
            f"FROM outbox_stage s JOIN {Message._meta.db_table} m ON m.id = s.id GROUP BY 1) n "
            f"WHERE v.id = n.conversation_id",
            [now],
        )
        outbox_notify(due_at=min(item.next_attempt_at for item in items))
    return ids


def rows_copy(*, model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert model instances with COPY: several times faster than INSERT for a broadcast's batches.

    Every concrete field is written the way the ORM would (`pre_save` fills auto_now fields,
    `get_db_prep_save` adapts the value); a primary key left unset is generated by the table.
    """
    if not objects:
        return
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and getattr(objects[0], field.attname) is None)
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields if field.column)  # concrete: always set
    getters = [_value_getter(field) for field in fields]
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    ) as copy:
        for obj in objects:
            copy.write_row([get(obj) for get in getters])


# Fields whose stored value is the attribute itself (psycopg adapts it); any other goes through the ORM.
_PLAIN_FIELDS = (
    models.AutoField, models.BigAutoField, models.CharField, models.TextField, models.IntegerField,
    models.BooleanField, models.ForeignKey,
)


def _value_getter(field: models.Field) -> Callable[[models.Model], Any]:
    """How `rows_copy` reads a field's value: as the ORM would save it, without the ORM's per-value
    work for plain fields (a large share of a big COPY's time otherwise)."""
    if isinstance(field, _PLAIN_FIELDS) and not field.choices or isinstance(field, models.ForeignKey):
        return operator.attrgetter(field.attname)
    if isinstance(field, models.DateTimeField) and not (field.auto_now or field.auto_now_add):
        return operator.attrgetter(field.attname)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


def _contacts_ensure(wa_ids: set[str]) -> dict[str, int]:
    """Contact ids by WhatsApp id; the missing contacts are created (a concurrent creation is kept)."""
    found = dict(Contact.objects.filter(wa_id__in=wa_ids).values_list("wa_id", "pk"))
    missing = wa_ids - found.keys()
    if missing:
        Contact.objects.bulk_create([Contact(wa_id=wa_id) for wa_id in sorted(missing)], ignore_conflicts=True)
        found.update(Contact.objects.filter(wa_id__in=missing).values_list("wa_id", "pk"))
    return found


def _conversations_ensure(phone_number: PhoneNumber, contact_ids: Iterable[int]) -> dict[int, int]:
    """Conversation ids of this number by contact id; the missing conversations are created."""
    wanted = set(contact_ids)
    mine = Conversation.objects.filter(phone_number=phone_number)
    found = dict(mine.filter(contact_id__in=wanted).values_list("contact_id", "pk"))
    missing = wanted - found.keys()
    if missing:
        Conversation.objects.bulk_create(
            [Conversation(contact_id=pk, phone_number=phone_number) for pk in sorted(missing)], ignore_conflicts=True
        )
        found.update(mine.filter(contact_id__in=missing).values_list("contact_id", "pk"))
    return found


def _conversations_count(conversation_ids: Sequence[int], *, at: datetime) -> None:
    """Count each new message in its conversation: one UPDATE whatever the number of conversations."""
    counts = Counter(conversation_ids)
    ids = sorted(counts)  # one lock order for every writer
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Conversation._meta.db_table} v SET message_count = v.message_count + n.count, "
            f"last_message_at = %s FROM unnest(%s::bigint[], %s::int[]) AS n(id, count) WHERE v.id = n.id",
            [at, ids, [counts[pk] for pk in ids]],
        )


def _message_ids_allocate(count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('messaging_message', 'id')) FROM generate_series(1, %s)",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def outbox_notify(*, due_at: datetime | None = None) -> None:
    """Announce this tenant's queued messages (due from `due_at`, default now) in the work-pending
    index and wake the send workers. Both take effect when the transaction commits: the index row
    is what a worker finds if the notification is lost."""
    work_announce(kind=WorkKind.OUTBOX, due_at=due_at)
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
                          WHERE m.phone_number_id = p.id AND m.status = %s)
            FROM unnest(%s::bigint[]) AS p(id)
            """,
            [S.QUEUED, list(phone_number_ids)],
        )
        return {pk: due for pk, due in cursor.fetchall() if due is not None}


def outbox_next_due() -> datetime | None:
    """When this tenant's outbox next needs a worker: the earliest due time of its queued messages
    and of the leases of those being sent (reconciliation). None when nothing is left, or only
    messages held without a due time (a paused campaign)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT LEAST((SELECT min(next_attempt_at) FROM messaging_message WHERE status = %s), "
            "(SELECT min(next_attempt_at) FROM messaging_message WHERE status = %s))",
            [S.QUEUED, S.SENDING],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def outbox_pending_count() -> int:
    """Messages still to go out from numbers of active accounts (queued or being sent)."""
    return Message.objects.filter(
        status__in=IN_OUTBOX, phone_number__account__status="active"
    ).count()


def outbox_claim(*, phone_number_pk: int, limit: int, lease_s: float) -> list[Claimed]:
    """Claim up to `limit` due messages of one number: queued -> sending, one more attempt, a lease."""
    if limit <= 0:
        return []
    with connection.cursor() as cursor:
        # The due rows are picked once, in a materialized CTE. As `WHERE id IN (SELECT ... LIMIT n
        # FOR UPDATE SKIP LOCKED)` the planner may run the subquery again for each row it updates,
        # each run skipping what the last one locked, and so claim far more than `limit` rows:
        # more messages than the limiter granted slots for.
        cursor.execute(
            """
            WITH due AS MATERIALIZED (
                SELECT id FROM messaging_message
                WHERE phone_number_id = %s AND status = %s AND next_attempt_at <= clock_timestamp()
                ORDER BY next_attempt_at, id
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE messaging_message AS m
            SET status = %s, attempts = m.attempts + 1, last_attempt_at = clock_timestamp(),
                next_attempt_at = clock_timestamp() + make_interval(secs => %s), updated_at = clock_timestamp()
            FROM due
            WHERE m.id = due.id
            RETURNING m.id, m.attempts, m.request_payload
            """,
            [phone_number_pk, S.QUEUED, limit, S.SENDING, lease_s],
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

    Without a delay a message keeps its place in its number's queue (due from when it was queued,
    not from now), so a later message to the same customer cannot overtake it. `title` (with `code`
    and `details`) tells the tenant why the message is still waiting.
    """
    if not message_ids:
        return
    changes: dict[str, Any] = {}
    if title:
        changes = {"error_code": code, "error_title": title[:500], "error_details": details}
    now = timezone.now()
    due: Any = Least(F("created_at"), Value(now)) if delay_s <= 0 else now + timedelta(seconds=delay_s)
    Message.objects.filter(pk__in=message_ids, status=S.SENDING).update(
        status=S.QUEUED,
        attempts=F("attempts") - 1,
        next_attempt_at=due,
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

    The rows travel as three arrays, so the statement's text is the same for every batch size
    (psycopg parses it once per connection, not once per batch).
    """
    if not sent:
        return
    wamids = [wamid for _, wamid, _ in sent]
    params: dict[str, Any] = {
        "ids": [message_id for message_id, _, _ in sent],
        "wamids": wamids,
        "sent_ats": [sent_at for _, _, sent_at in sent],
        "in_outbox": list(IN_OUTBOX),
        "sent": S.SENT,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        wamids_lock(wamids)
        cursor.execute(
            f"""
            UPDATE messaging_message AS m SET
                wamid = COALESCE(m.wamid, v.wamid),
                sent_at = COALESCE(m.sent_at, v.sent_at),
                error_code = CASE WHEN m.status = ANY(%(in_outbox)s) THEN NULL ELSE m.error_code END,
                error_title = CASE WHEN m.status = ANY(%(in_outbox)s) THEN '' ELSE m.error_title END,
                error_details = CASE WHEN m.status = ANY(%(in_outbox)s) THEN '' ELSE m.error_details END,
                status = CASE WHEN m.status = ANY(%(in_outbox)s) THEN %(sent)s ELSE m.status END,
                next_attempt_at = NULL,
                updated_at = clock_timestamp()
            FROM unnest(%(ids)s::bigint[], %(wamids)s::text[], %(sent_ats)s::timestamptz[]) AS v(id, wamid, sent_at)
            WHERE m.id = v.id
            RETURNING v.wamid, EXISTS (
                SELECT 1 FROM {StatusEvent._meta.db_table} e WHERE e.wamid = v.wamid AND e.applied_at IS NULL
            )
            """,
            params,
        )
        waiting = sorted({wamid for wamid, has_waiting in cursor.fetchall() if has_waiting})
        if waiting:
            _pending_statuses_apply(wamids=waiting)


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
    Message.objects.filter(pk=message_id, status__in=IN_OUTBOX).update(
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
    held: int = 0  # the number's status webhooks are not arriving: its absence proves nothing yet


def outbox_reconcile(*, max_attempts: int, limit: int = 200) -> Reconciled:
    """Settle messages whose lease ran out while `sending` (worker died, or the outcome was unknown).

    A status webhook carrying the message's id in `biz_opaque_callback_data` (or a wamid already
    attached by webhook processing) proves Meta accepted it: it becomes `sent` and is not sent
    again. Without such proof it is queued again, or failed once its attempts are used up.

    The absence of a status proves something only while statuses arrive. When messages Meta
    accepted from the same number around the same time have no status either, the app's webhooks
    are failing (Meta retries them for days): the message is held for another grace period, up to
    `SEND_RECONCILE_MAX_HOLD_S` after its last attempt, rather than sent a second time.
    """
    confirmed = requeued = failed = held = 0
    now = timezone.now()
    grace = timedelta(seconds=settings.SEND_RECONCILE_GRACE_S)
    max_hold = timedelta(seconds=settings.SEND_RECONCILE_MAX_HOLD_S)
    silent_numbers: dict[int, bool] = {}
    with transaction.atomic():
        stale = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=S.SENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", "wamid", "attempts", "phone_number_id", "last_attempt_at")[:limit]
        )
        if not stale:
            return Reconciled()
        evidence = _status_evidence([pk for pk, wamid, *_ in stale if not wamid])
        sent: list[tuple[int, str, datetime]] = []
        for pk, wamid, attempts, number_id, last_attempt_at in stale:
            proof = (wamid, now) if wamid else evidence.get(pk)
            if proof is not None:
                sent.append((pk, proof[0], proof[1]))
                confirmed += 1
            elif (
                last_attempt_at is not None
                and now - last_attempt_at < max_hold
                and _statuses_silent(number_id, since=last_attempt_at - grace, until=now - grace,
                                     cache=silent_numbers)
            ):
                Message.objects.filter(pk=pk).update(next_attempt_at=now + grace, updated_at=now)
                held += 1
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
    if held:
        silent = sorted(number for number, is_silent in silent_numbers.items() if is_silent)
        logger.warning(
            "status webhooks are not arriving for phone number row(s) %s: %s message(s) whose outcome is "
            "unknown are held instead of sent again (check the app's webhook subscription in Meta's App "
            "Dashboard)", silent, held,
        )
    return Reconciled(confirmed=confirmed, requeued=requeued, failed=failed, held=held)


def _statuses_silent(number_id: int, *, since: datetime, until: datetime, cache: dict[int, bool]) -> bool:
    """Whether messages Meta accepted from this number in [since, until] all lack a status webhook.

    False when there are none to judge by: an idle number's silence says nothing about webhooks.
    """
    if number_id not in cache:
        accepted = list(
            Message.objects.filter(
                phone_number_id=number_id,
                direction=Message.Direction.OUTBOUND,
                wamid__isnull=False,
                last_attempt_at__range=(since, until),
            )
            .order_by("-last_attempt_at")
            .values_list("wamid", flat=True)[:20]
        )
        cache[number_id] = bool(accepted) and not StatusEvent.objects.filter(wamid__in=accepted).exists()
    return cache[number_id]


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
    """Statuses that arrived before their message knew its wamid are applied now, by messaging's rules."""
    waiting = set(
        StatusEvent.objects.filter(wamid__in=wamids, applied_at__isnull=True).values_list("wamid", flat=True)
    )
    if not waiting:
        return
    for message in Message.objects.filter(wamid__in=waiting):
        pending_statuses_apply(message=message)
