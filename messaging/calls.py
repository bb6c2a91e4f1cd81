"""Record WhatsApp call events (`calls` webhook field) with their contact.

Runs inside the tenant's schema (the webhook worker enters it). Idempotent by database constraint:
(call id, event) is unique, so a redelivered event inserts nothing and announces nothing. A status
update of a business-initiated call is stored as event `status:<STATUS>` (`status:RINGING`,
`status:ACCEPTED` ...), so each status of a call is kept once.
A call does not touch the conversation: it is not a message and does not open the customer-service
window.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from messaging.errors import PhoneNumberNotInTenant
from messaging.inbound import contact_touch
from messaging.models import CallEvent
from messaging.signals import call_event_recorded
from waba import meta
from waba.models import PhoneNumber
from waba.webhook_events import CallEvent as CallWebhookEvent


def call_event_record(*, event: CallWebhookEvent) -> CallEvent | None:
    """Store one call event and announce it once; None when this event of this call was stored before.

    Raises PhoneNumberNotInTenant when this schema has no such number (the caller dead-letters).
    """
    phone = PhoneNumber.objects.filter(phone_number_id=event.phone_number_id).first()
    if phone is None:
        raise PhoneNumberNotInTenant(f"No phone number {event.phone_number_id} in this workspace.")
    with transaction.atomic():
        contact = contact_touch(wa_id=event.wa_id, profile_name=event.profile_name, seen_at=event.timestamp)
        try:
            with transaction.atomic():  # a savepoint: a redelivery rolls back only this INSERT
                call = CallEvent.objects.create(
                    contact=contact,
                    phone_number=phone,
                    call_id=event.call_id[:256],
                    event=_stored_event(event)[:32],
                    direction=event.direction[:32],
                    status=(event.status or "")[:32],
                    duration_s=max(event.duration_s, 0) if event.duration_s is not None else None,
                    occurred_at=event.timestamp,
                    raw=event.raw,
                )
        except IntegrityError:
            return None
        call_event_recorded.send_in_savepoints(sender=CallEvent, call=call)
    return call


def _stored_event(event: CallWebhookEvent) -> str:
    if event.event == meta.CALL_STATUS_EVENT:
        return f"{meta.CALL_STATUS_EVENT}:{event.status or ''}"
    return event.event
