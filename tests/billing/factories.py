"""Billing test data: plans, subscriptions, and outbound messages as Meta prices them."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.utils import timezone

from billing.plans.models import Plan, PlanVersion, Subscription
from billing.plans.services import plan_version_create, subscription_create
from messaging.models import Contact, Message
from messaging.statuses import message_status_apply
from tests.factories import ContactFactory, ConversationFactory, MessageFactory
from waba.webhook_events import StatusUpdate


def plan_version(code: str = "growth", **terms: Any) -> PlanVersion:
    plan, _ = Plan.objects.get_or_create(code=code, defaults={"name": code.title()})
    defaults: dict[str, Any] = {"monthly_fee": Decimal("49.00"), "currency": "USD"}
    return plan_version_create(plan=plan, terms={**defaults, **terms})


def subscribe(tenant, version: PlanVersion | None = None, **extra: Any) -> Subscription:
    return subscription_create(tenant=tenant, plan_version=version or plan_version(), **extra)


def pricing(category: str = "marketing", type_: str = "regular", billable: bool = True) -> dict:
    return {"billable": billable, "pricing_model": "PMP", "category": category, "type": type_}


def status(message: Message, name: str, *, price: dict | None, at: datetime | None = None) -> StatusUpdate:
    return StatusUpdate(
        phone_number_id=message.phone_number.phone_number_id,
        waba_id=message.phone_number.account.waba_id,
        wamid=message.wamid or "",
        status=name,
        timestamp=at or timezone.now(),
        recipient_id=message.contact.wa_id,
        biz_opaque_callback_data=None,
        conversation=None,
        pricing=price,
        errors=[],
    )


_recipients = itertools.count(100)


def outbound(*, wa_id: str | None = None, number=None, **extra: Any) -> Message:
    """An outbound message to `wa_id` (a new US number by default) in a new conversation."""
    wa_id = wa_id or f"1415555{next(_recipients) % 10000:04d}"
    contact = Contact.objects.filter(wa_id=wa_id).first() or ContactFactory(wa_id=wa_id)
    conversation = ConversationFactory(contact=contact, **({"phone_number": number} if number else {}))
    message = cast(
        Message, MessageFactory(conversation=conversation, direction=Message.Direction.OUTBOUND, **extra)
    )
    return message


def delivered(message: Message, price: dict | None = None) -> Message:
    """Apply Meta's sent and delivered statuses (with `price`) to the message, as the webhook would."""
    price = price or pricing()
    message_status_apply(event=status(message, "sent", price=price))
    message_status_apply(event=status(message, "delivered", price=price))
    message.refresh_from_db()
    return message


def send_text(api, number, window, body: str = "Your order has shipped."):
    """A text through the send API to the customer of an open window."""
    return api.post_json(
        "/api/v1/messages",
        {
            "phone_number_id": number.phone_number_id,
            "to": "+" + window.contact.wa_id,
            "type": "text",
            "text": {"body": body},
        },
    )
