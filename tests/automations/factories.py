"""Helpers of the automation tests: inbound messages written the way the inbound pipeline writes them.

Create inside the tenant's schema (`in_tenant`). Accounts, numbers and contacts come from
tests.messaging.factories.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django_tenants.utils import schema_context

from automations.replies import OutboundReply
from automations.workflows import automation_handle_inbound
from messaging.models import Contact, Conversation, Message
from waba.models import PhoneNumber

_wamids = itertools.count(1)
SERVICE_WINDOW = timedelta(hours=24)


def inbound_message_create(
    *,
    number: PhoneNumber,
    contact: Contact,
    at: datetime,
    text: str | None = None,
    button: tuple[str, str] | None = None,
    row: tuple[str, str] | None = None,
    reply_to: str = "",
    message_type: str | None = None,
    content: dict[str, Any] | None = None,
    wamid: str | None = None,
) -> Message:
    """An inbound message row with its conversation's window opened, as messaging.inbound stores it.

    `text`, a tapped `button` or list `row` as (id, title), or any `message_type` with `content`.
    """
    if text is not None:
        message_type, content, body = "text", {"body": text}, text
    elif button is not None or row is not None:
        option_id, title = button or row  # type: ignore[misc]
        kind = "button_reply" if button else "list_reply"
        message_type, body = "interactive", title
        content = {"kind": kind, "id": option_id, "title": title, "description": None}
    else:
        body = ""
    conversation, _ = Conversation.objects.get_or_create(contact=contact, phone_number=number)
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1, last_inbound_at=at, last_message_at=at,
        service_window_expires_at=at + SERVICE_WINDOW,
    )
    return Message.objects.create(
        conversation=conversation, contact=contact, phone_number=number, direction=Message.Direction.INBOUND,
        wamid=wamid or f"wamid.menus{next(_wamids):08d}", type=message_type or "text", content=content or {},
        body=body, context_wamid=reply_to, status=Message.Status.RECEIVED, timestamp=at,
    )


@dataclass
class Customer:
    """One contact writing to one number; each call stores an inbound message and runs the engine."""

    tenant: Any
    number: PhoneNumber
    contact: Contact
    clock: Any

    def message(self, **kwargs: Any) -> Message:
        with schema_context(self.tenant.schema_name):
            return inbound_message_create(number=self.number, contact=self.contact, at=self.clock.now, **kwargs)

    def handle(self, message: Message) -> list[OutboundReply]:
        with schema_context(self.tenant.schema_name):
            return automation_handle_inbound(message=message, now=self.clock.now)

    def says(self, text: str) -> list[OutboundReply]:
        return self.handle(self.message(text=text))

    def taps(self, option_id: str, title: str, *, row: bool = False, reply_to: str = "") -> list[OutboundReply]:
        option = {"row" if row else "button": (option_id, title)}
        return self.handle(self.message(reply_to=reply_to, **option))
