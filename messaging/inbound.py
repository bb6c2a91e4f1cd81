"""Store what customers send: contacts, conversations and inbound messages of every type.

Runs inside the tenant's schema (the webhook worker enters it). Idempotent by database
constraint: `Message.wamid` is unique, so a redelivered message inserts nothing, counts
nothing and dispatches nothing, however many workers race on it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from messaging.errors import PhoneNumberNotInTenant
from messaging.media import inbound_media_track
from messaging.models import Contact, Conversation, Message
from messaging.signals import inbound_batch_dispatched, inbound_message_stored
from platform_core.batch_memo import batch_checkpoint, batch_note, batch_noted
from platform_core.bulk_sql import defaults_sql, rows_insert_returning
from waba.meta import CUSTOMER_SERVICE_WINDOW_S
from waba.models import PhoneNumber
from waba.webhook_events import AccountEvent, InboundMessage

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(seconds=CUSTOMER_SERVICE_WINDOW_S)
# Messages Meta writes on the customer's behalf: stored and counted, but they are not the customer
# talking, so they neither open the service window nor wait to be read.
NOT_FROM_CUSTOMER_TYPES = frozenset({"system"})


@dataclass(frozen=True)
class InboundBatch:
    """The new inbound messages a batch is dispatching, in order. The transaction that stored them
    holds their conversations' row locks (it updated their counts), and no other transaction can
    see them yet."""

    messages: tuple[Message, ...]
    message_ids: frozenset[int]
    conversation_ids: frozenset[int]


_BATCH_KEY = "messaging.inbound_batch"


def inbound_batch() -> InboundBatch | None:
    """The batch being dispatched (inside `inbound_messages_store` and a batch scope), else None."""
    batch: InboundBatch | None = batch_noted(_BATCH_KEY)
    return batch


def conversation_lock(*, conversation_id: int) -> None:
    """Hold the conversation's row lock until the transaction ends, so the messages of one contact
    are handled one at a time. A conversation of the batch being dispatched is locked already."""
    batch = inbound_batch()
    if batch is not None and conversation_id in batch.conversation_ids:
        return
    list(Conversation.objects.select_for_update().filter(pk=conversation_id))


@dataclass(frozen=True)
class InboundStoreResult:
    message: Message | None  # None: this wamid was already stored
    dispatch_failures: int = 0

    @property
    def created(self) -> bool:
        return self.message is not None


def inbound_message_store(*, event: InboundMessage, phone_number: PhoneNumber | None = None) -> InboundStoreResult:
    """Store one inbound message with its contact and conversation, then dispatch it once.

    `phone_number` saves a lookup when the caller already has the event's number. Raises
    PhoneNumberNotInTenant when this schema has no such number (the caller dead-letters).
    """
    phone = phone_number or phone_number_for_event(event)
    with transaction.atomic():
        contact = contact_touch(wa_id=event.wa_id, profile_name=event.profile_name, seen_at=event.timestamp)
        conversation, _ = Conversation.objects.get_or_create(contact_id=contact.pk, phone_number=phone)
        message = _message_insert(event, conversation=conversation, contact=contact, phone=phone)
        if message is None:
            return InboundStoreResult(message=None)
        _conversation_count(conversation, message)
        inbound_media_track(message=message)
        failures = inbound_message_stored.send_in_savepoints(sender=Message, message=message)
    return InboundStoreResult(message=message, dispatch_failures=failures)


def inbound_messages_store(*, events: Sequence[InboundMessage]) -> list[InboundStoreResult]:
    """Store many inbound messages of this schema at once; the results are in the order of `events`.

    The same rows, counts and dispatches as `inbound_message_store` on each event in turn, in a few
    statements whatever their number: the numbers, one upsert of the contacts, one insert of the
    missing conversations and one read of them, one insert of the messages that skips known wamids,
    one update of the conversations' counts. Then each new message has its media tracked and is
    dispatched once, in order (`_messages_dispatch`), while `inbound_batch()` names them all; then
    `inbound_batch_dispatched` is sent. All or nothing; raises PhoneNumberNotInTenant when this
    schema lacks one of the numbers (the caller then stores the events one by one, dead-lettering
    only those).
    """
    if not events:
        return []
    with transaction.atomic():
        phones = _phone_numbers_for_events(events)
        contacts = _contacts_touch_many(events)
        conversations = _conversations_ensure_many(
            {(contacts[event.wa_id].pk, phones[event.phone_number_id].pk) for event in events}
        )
        candidates: dict[str, Message] = {}
        for event in events:
            if event.wamid not in candidates:  # a wamid twice in one batch: the first is stored
                contact, phone = contacts[event.wa_id], phones[event.phone_number_id]
                candidates[event.wamid] = _message_build(
                    event, conversation=conversations[(contact.pk, phone.pk)], contact=contact, phone=phone
                )
        inserted = dict(
            (wamid, pk)
            for pk, wamid in rows_insert_returning(
                model=Message, objects=list(candidates.values()), conflict="(wamid)", returning=("id", "wamid")
            )
        )
        new: dict[str, Message] = {}
        for wamid, pk in inserted.items():
            message = candidates[wamid]
            message.pk = pk
            message._state.adding = False
            new[wamid] = message
        new_messages = [new[wamid] for wamid in candidates if wamid in new]
        _conversations_count_many(new_messages)
        batch = InboundBatch(
            messages=tuple(new_messages),
            message_ids=frozenset(message.pk for message in new_messages),
            conversation_ids=frozenset(message.conversation_id for message in new_messages),
        )
        batch_note(_BATCH_KEY, batch)
        try:
            failures = _messages_dispatch(new_messages)
            if new_messages:
                inbound_batch_dispatched.send(sender=Message, batch=batch)
        finally:
            batch_note(_BATCH_KEY, None)
    results: list[InboundStoreResult] = []
    for event in events:
        first = new.pop(event.wamid) if event.wamid in new else None  # None: stored before, or earlier in this batch
        failed = failures[first.pk] if first is not None else 0
        results.append(InboundStoreResult(message=first, dispatch_failures=failed))
    return results


def _messages_dispatch(messages: Sequence[Message]) -> dict[int, int]:
    """Track each new message's media and dispatch it once, in order; the receivers that failed per
    message. All the receivers run in one savepoint first; if one raises, that is rolled back and
    the messages are dispatched again with each receiver in a savepoint of its own, so the failing
    one is rolled back alone and the others' work stands."""
    try:
        with transaction.atomic(), batch_checkpoint():
            for message in messages:
                inbound_media_track(message=message)
                inbound_message_stored.send_together(sender=Message, message=message)
        return {message.pk: 0 for message in messages}
    except Exception:
        logger.info("A receiver failed in a batch of %s messages: each is dispatched again alone.", len(messages))
    failures: dict[int, int] = {}
    for message in messages:
        inbound_media_track(message=message)
        failures[message.pk] = inbound_message_stored.send_in_savepoints(sender=Message, message=message)
    return failures


def _phone_numbers_for_events(events: Sequence[InboundMessage]) -> dict[str, PhoneNumber]:
    wanted = {event.phone_number_id for event in events}
    phones = {phone.phone_number_id: phone for phone in PhoneNumber.objects.filter(phone_number_id__in=wanted)}
    missing = sorted(wanted - phones.keys())
    if missing:
        raise PhoneNumberNotInTenant(f"No phone number {', '.join(missing)} in this workspace.")
    return phones


def phone_number_for_event(event: InboundMessage) -> PhoneNumber:
    phone = PhoneNumber.objects.filter(phone_number_id=event.phone_number_id).first()
    if phone is None:
        raise PhoneNumberNotInTenant(f"No phone number {event.phone_number_id} in this workspace.")
    return phone


_CONTACT_UPSERT = f"""
    INSERT INTO {Contact._meta.db_table} (wa_id, profile_name, first_seen_at, last_seen_at, opted_out, created_at)
    VALUES (%(wa_id)s, %(name)s, %(at)s, %(at)s, false, now())
    ON CONFLICT (wa_id) DO UPDATE SET
        first_seen_at = LEAST({Contact._meta.db_table}.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST({Contact._meta.db_table}.last_seen_at, EXCLUDED.last_seen_at),
        profile_name = COALESCE(NULLIF(EXCLUDED.profile_name, ''), {Contact._meta.db_table}.profile_name)
    RETURNING id, profile_name, first_seen_at, last_seen_at, opted_out, opted_out_at, created_at
"""


def contact_touch(*, wa_id: str, profile_name: str | None, seen_at: datetime) -> Contact:
    """The contact for `wa_id`, created on first sight; seen times only widen, so order does not matter.

    One statement (INSERT ... ON CONFLICT DO UPDATE): concurrent first messages of a new customer
    cannot create it twice.
    """
    with connection.cursor() as cursor:
        cursor.execute(_CONTACT_UPSERT, {"wa_id": wa_id, "name": profile_name or "", "at": seen_at})
        pk, name, first_seen, last_seen, opted_out, opted_out_at, created_at = cursor.fetchone()
    return Contact(pk=pk, wa_id=wa_id, profile_name=name, first_seen_at=first_seen, last_seen_at=last_seen,
                   opted_out=opted_out, opted_out_at=opted_out_at, created_at=created_at)


_CONTACTS_UPSERT = f"""
    INSERT INTO {Contact._meta.db_table} (wa_id, profile_name, first_seen_at, last_seen_at, opted_out, created_at)
    SELECT w, n, f, l, false, now() FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])
        AS v(w, n, f, l)
    ON CONFLICT (wa_id) DO UPDATE SET
        first_seen_at = LEAST({Contact._meta.db_table}.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST({Contact._meta.db_table}.last_seen_at, EXCLUDED.last_seen_at),
        profile_name = COALESCE(NULLIF(EXCLUDED.profile_name, ''), {Contact._meta.db_table}.profile_name)
    RETURNING id, wa_id, profile_name, first_seen_at, last_seen_at, opted_out, opted_out_at, created_at
"""


def _contacts_touch_many(events: Sequence[InboundMessage]) -> dict[str, Contact]:
    """`contact_touch` for every sender at once: one upsert, one row per WhatsApp id (the earliest
    and latest times, the last non-empty name, as one by one would leave them)."""
    seen: dict[str, list[Any]] = {}  # wa_id -> [name, first, last]
    for event in events:
        row = seen.setdefault(event.wa_id, ["", event.timestamp, event.timestamp])
        row[0] = event.profile_name or row[0]
        row[1], row[2] = min(row[1], event.timestamp), max(row[2], event.timestamp)
    wa_ids = sorted(seen)  # one lock order for every worker
    with connection.cursor() as cursor:
        cursor.execute(_CONTACTS_UPSERT, [
            wa_ids, [seen[w][0] for w in wa_ids], [seen[w][1] for w in wa_ids], [seen[w][2] for w in wa_ids]
        ])
        return {
            wa_id: Contact(pk=pk, wa_id=wa_id, profile_name=name, first_seen_at=first_seen, last_seen_at=last_seen,
                           opted_out=opted_out, opted_out_at=opted_out_at, created_at=created_at)
            for pk, wa_id, name, first_seen, last_seen, opted_out, opted_out_at, created_at in cursor.fetchall()
        }


def _conversations_ensure_many(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Conversation]:
    """The conversations of (contact id, phone number id) pairs, the missing ones created."""
    ordered = sorted(pairs)
    columns, values, params = defaults_sql(Conversation, {"contact", "phone_number"}, timezone.now())
    table = Conversation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (contact_id, phone_number_id{columns}) SELECT c, p{values} "
            f"FROM unnest(%s::bigint[], %s::bigint[]) AS v(c, p) ON CONFLICT DO NOTHING",
            [*params, [c for c, _ in ordered], [p for _, p in ordered]],
        )
    found = Conversation.objects.raw(
        f"SELECT t.* FROM {table} t JOIN unnest(%s::bigint[], %s::bigint[]) AS v(c, p) "
        f"ON t.contact_id = v.c AND t.phone_number_id = v.p",
        [[c for c, _ in ordered], [p for _, p in ordered]],
    )
    return {(conversation.contact_id, conversation.phone_number_id): conversation for conversation in found}


_CONVERSATIONS_COUNT = f"""
    UPDATE {Conversation._meta.db_table} t SET
        message_count = t.message_count + v.n,
        last_message_at = GREATEST(t.last_message_at, v.at),
        unread_count = t.unread_count + v.unread,
        last_inbound_at = GREATEST(t.last_inbound_at, v.inbound_at),
        service_window_expires_at = GREATEST(t.service_window_expires_at, v.window_end)
    FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], %s::int[], %s::timestamptz[], %s::timestamptz[])
        AS v(id, n, at, unread, inbound_at, window_end)
    WHERE t.id = v.id
"""


def _conversations_count_many(messages: Sequence[Message]) -> None:
    """`_conversation_count` for many new messages: one UPDATE, each conversation's sums and latest times."""
    if not messages:
        return
    sums: dict[int, list[Any]] = {}  # conversation id -> [count, latest, unread, latest from the customer]
    for message in messages:
        row = sums.setdefault(message.conversation_id, [0, message.timestamp, 0, None])
        row[0] += 1
        row[1] = max(row[1], message.timestamp)
        if message.type not in NOT_FROM_CUSTOMER_TYPES:
            row[2] += 1
            row[3] = message.timestamp if row[3] is None else max(row[3], message.timestamp)
    ids = sorted(sums)
    with connection.cursor() as cursor:
        cursor.execute(_CONVERSATIONS_COUNT, [
            ids,
            [sums[pk][0] for pk in ids],
            [sums[pk][1] for pk in ids],
            [sums[pk][2] for pk in ids],
            [sums[pk][3] for pk in ids],
            [None if sums[pk][3] is None else sums[pk][3] + SERVICE_WINDOW for pk in ids],
        ])


def _message_build(
    event: InboundMessage, *, conversation: Conversation, contact: Contact, phone: PhoneNumber
) -> Message:
    content = dict(event.content)
    if event.context:
        content["context"] = event.context
    return Message(
        conversation=conversation,
        contact=contact,
        phone_number=phone,
        direction=Message.Direction.INBOUND,
        wamid=event.wamid,
        type=event.type,
        content=content,
        body=message_body_text(event.type, event.content),
        context_wamid=(event.context or {}).get("id") or "",
        referral=event.referral,
        referral_source_id=((event.referral or {}).get("source_id") or "")[:256],
        status=Message.Status.RECEIVED,
        timestamp=event.timestamp,
    )


def _message_insert(
    event: InboundMessage, *, conversation: Conversation, contact: Contact, phone: PhoneNumber
) -> Message | None:
    message = _message_build(event, conversation=conversation, contact=contact, phone=phone)
    try:
        with transaction.atomic():  # a savepoint: a duplicate wamid rolls back only this INSERT
            message.save(force_insert=True)
            return message
    except IntegrityError:
        return None  # another delivery of the same wamid won the race


_CONVERSATION_COUNT = f"""
    UPDATE {Conversation._meta.db_table} SET
        message_count = message_count + 1,
        last_message_at = GREATEST(last_message_at, %(at)s),
        unread_count = unread_count + %(unread)s,
        last_inbound_at = CASE WHEN %(from_customer)s THEN GREATEST(last_inbound_at, %(at)s) ELSE last_inbound_at END,
        service_window_expires_at = CASE WHEN %(from_customer)s
            THEN GREATEST(service_window_expires_at, %(window_end)s) ELSE service_window_expires_at END
    WHERE id = %(id)s
"""


def _conversation_count(conversation: Conversation, message: Message) -> None:
    """Count a new message; times only move forward (GREATEST ignores NULL), so arrival order does
    not matter. The window is 24 hours after the customer's latest message."""
    from_customer = message.type not in NOT_FROM_CUSTOMER_TYPES
    with connection.cursor() as cursor:
        cursor.execute(_CONVERSATION_COUNT, {
            "id": conversation.pk,
            "at": message.timestamp,
            "unread": 1 if from_customer else 0,
            "from_customer": from_customer,
            "window_end": message.timestamp + SERVICE_WINDOW,
        })


def message_body_text(message_type: str, content: dict[str, Any]) -> str:
    """The searchable text of a message: its words, caption, title or name, whatever the type has."""
    if message_type == "contacts":
        names = [(card.get("name") or {}).get("formatted_name") for card in content.get("contacts") or []]
        return ", ".join(name for name in names if name)
    if message_type == "location":
        return " ".join(part for part in (content.get("name"), content.get("address")) if part)
    for key in ("body", "caption", "title", "text", "emoji", "filename"):
        value = content.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def contact_preferences_apply(*, event: AccountEvent) -> int:
    """`user_preferences`: a customer stopped or resumed marketing messages. Returns contacts changed.

    Order-safe: a preference older than the one already recorded changes nothing.
    """
    changed = 0
    for preference in event.value.get("user_preferences") or []:
        if preference.get("category") != "marketing_messages" or preference.get("value") not in ("stop", "resume"):
            continue
        at = _preference_time(preference.get("timestamp"), event.occurred_at)
        opted_out = preference["value"] == "stop"
        contact, _ = Contact.objects.get_or_create(wa_id=str(preference["wa_id"]))
        changed += Contact.objects.filter(pk=contact.pk).exclude(opted_out_at__gt=at).update(
            opted_out=opted_out, opted_out_at=at
        )
    return changed


def _preference_time(unix_seconds: Any, fallback: datetime | None) -> datetime:
    try:
        return datetime.fromtimestamp(int(unix_seconds), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback or datetime.now(tz=UTC)
