"""The call auto-reply: a customer who calls one of the business's numbers gets a message saying how to
reach the business.

Off unless the account turns it on (`call_reply_enabled`). A call does not open the customer-service
window in Meta's rules, so a free-form text may only go out while the customer's last message keeps
the window open; outside it the account's template (an approved one without variables) goes instead,
and without a template nothing is sent. At most one reply per contact and number per
`call_reply_interval_minutes`, counted from the replies really queued (`AutomatedReply`), so it holds
across workers. Only the first event recorded of a customer's call answers it (the others find the
reply already sent within the interval).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.models import AutomatedReply
from messaging.models import CallEvent, Conversation
from platform_core.errors import DomainError
from sending.services import message_refused_record, message_send
from waba.models import WhatsAppAccount

logger = logging.getLogger(__name__)


def call_reply_content(
    *, account: WhatsAppAccount, conversation: Conversation | None, now: datetime
) -> dict[str, Any] | None:
    """What to send a caller now: the text inside the service window, else the template, else None."""
    if not account.call_reply_enabled:
        return None
    text = account.call_reply_message.strip()
    if text and conversation is not None and conversation.window_open(now):
        return {"type": "text", "text": {"body": text}}
    if account.call_reply_template_name and account.call_reply_template_language:
        return {
            "type": "template",
            "template": {"name": account.call_reply_template_name, "language": account.call_reply_template_language},
        }
    return None


def call_reply_send(*, call: CallEvent, now: datetime | None = None) -> AutomatedReply | None:
    """Answer a customer's call with the account's reply, if on and not sent within the interval.

    Runs in the tenant's schema inside the caller's transaction. A reply the send pipeline refuses is
    kept in the conversation as a failed message, its `AutomatedReply` carrying the code.
    """
    if call.direction != CallEvent.Direction.USER_INITIATED:
        return None
    now = now or timezone.now()
    phone = call.phone_number
    account = phone.account
    if not account.call_reply_enabled:
        return None
    since = now - timedelta(minutes=account.call_reply_interval_minutes)
    if AutomatedReply.objects.filter(
        contact_id=call.contact_id, phone_number_id=phone.pk, purpose=AutomatedReply.Purpose.CALL,
        created_at__gte=since,
    ).exists():
        return None
    conversation = Conversation.objects.filter(contact_id=call.contact_id, phone_number=phone).first()
    content = call_reply_content(account=account, conversation=conversation, now=now)
    if content is None:
        logger.info("Call %s: the customer-service window is closed and no call template is set; no reply.",
                    call.call_id)
        return None
    record = AutomatedReply(contact_id=call.contact_id, phone_number=phone, purpose=AutomatedReply.Purpose.CALL,
                            step=call.event, created_at=now)
    try:
        with transaction.atomic():
            queued = message_send(
                phone_number_id=phone.phone_number_id, to=call.contact.wa_id, content=content,
                idempotency_key=f"call:{call.call_id}"[:128],
            )
        if queued.replayed:  # this call was answered already
            return None
        record.outbound_message = queued.message
    except DomainError as error:
        conversation = conversation or Conversation.objects.get_or_create(contact_id=call.contact_id,
                                                                          phone_number=phone)[0]
        body = content["text"]["body"] if content["type"] == "text" else content["template"]["name"]
        record.error_code = error.code
        record.outbound_message = message_refused_record(
            conversation=conversation, content=content, body=body, error=error
        )
        logger.warning("The reply to call %s was refused by the send pipeline: %s (%s)",
                       call.call_id, error.code, error.message)
    record.save()
    return record
