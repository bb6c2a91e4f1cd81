"""Store what customers send: contacts, conversations and inbound messages of every type.

Runs inside the tenant's schema (the webhook worker enters it). Idempotent by database
constraint: `Message.wamid` is unique, so a redelivered message inserts nothing, counts
nothing and dispatches nothing, however many workers race on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from messaging.errors import PhoneNumberNotInTenant
from messaging.media import inbound_media_track
from messaging.models import Contact, Conversation, Message
from messaging.signals import inbound_message_stored
from waba.meta import CUSTOMER_SERVICE_WINDOW_S
from waba.models import PhoneNumber
from waba.webhook_events import AccountEvent, InboundMessage

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(seconds=CUSTOMER_SERVICE_WINDOW_S)
# Messages Meta writes on the customer's behalf: stored and counted, but they are not the customer
# talking, so they neither open the service window nor wait to be read.
NOT_FROM_CUSTOMER_TYPES = frozenset({"system"})


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


def _message_insert(
    event: InboundMessage, *, conversation: Conversation, contact: Contact, phone: PhoneNumber
) -> Message | None:
    content = dict(event.content)
    if event.context:
        content["context"] = event.context
    try:
        with transaction.atomic():  # a savepoint: a duplicate wamid rolls back only this INSERT
            return Message.objects.create(
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
