"""Starter templates a business can adopt as a DRAFT, edit and submit.

Each starter follows Meta's rules (`waba.template_rules`), samples included, so adopting one and
submitting it unchanged is accepted for review.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from waba.errors import FieldsInvalid
from waba.models import MessageTemplate, WhatsAppAccount
from waba.services.templates import template_create


@dataclass(frozen=True)
class StarterTemplate:
    key: str
    title: str
    summary: str
    name: str
    category: str
    components: tuple[dict[str, Any], ...]


STARTERS: tuple[StarterTemplate, ...] = (
    StarterTemplate(
        key="order_update",
        title="Order update",
        summary="Tell a customer their order moved on, with a tracking link.",
        name="order_update",
        category="UTILITY",
        components=(
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{1}}",
                "example": {"header_text": ["#1042"]},
            },
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} is now {{3}}. Thank you for shopping with us.",
                "example": {"body_text": [["Ana", "#1042", "on its way"]]},
            },
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Track order",
                        "url": "https://example.com/orders/{{1}}",
                        "example": ["https://example.com/orders/1042"],
                    }
                ],
            },
        ),
    ),
    StarterTemplate(
        key="appointment_reminder",
        title="Appointment reminder",
        summary="Remind a customer of an appointment and let them confirm or reschedule.",
        name="appointment_reminder",
        category="UTILITY",
        components=(
            {
                "type": "BODY",
                "text": "Hi {{1}}, this is a reminder of your appointment on {{2}} at {{3}}. See you soon.",
                "example": {"body_text": [["Ana", "12 March", "10:30"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Confirm"},
                    {"type": "QUICK_REPLY", "text": "Reschedule"},
                ],
            },
        ),
    ),
    StarterTemplate(
        key="delivery_notice",
        title="Delivery notice",
        summary="Announce a delivery window and give a number to call.",
        name="delivery_notice",
        category="UTILITY",
        components=(
            {
                "type": "BODY",
                "text": "Good news {{1}}! Your parcel arrives {{2}} between {{3}}. Someone needs to be home to sign.",
                "example": {"body_text": [["Ana", "tomorrow", "9:00 and 12:00"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [{"type": "PHONE_NUMBER", "text": "Call courier", "phone_number": "+15550100001"}],
            },
        ),
    ),
    StarterTemplate(
        key="one_time_code",
        title="One-time code",
        summary="Send a verification code the customer copies with one tap.",
        name="one_time_code",
        category="UTILITY",
        components=(
            {
                "type": "BODY",
                "text": "Your verification code is {{1}}. It expires in 10 minutes; do not share it.",
                "example": {"body_text": [["482913"]]},
            },
            {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "482913"}]},
        ),
    ),
    StarterTemplate(
        key="welcome",
        title="Welcome with quick replies",
        summary="Greet a new customer and offer the main topics as buttons.",
        name="welcome_message",
        category="MARKETING",
        components=(
            {
                "type": "BODY",
                "text": "Welcome {{1}}! Thanks for joining us. What can we help you with today?",
                "example": {"body_text": [["Ana"]]},
            },
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Our products"},
                    {"type": "QUICK_REPLY", "text": "Opening hours"},
                    {"type": "QUICK_REPLY", "text": "Talk to someone"},
                ],
            },
        ),
    ),
    StarterTemplate(
        key="payment_reminder",
        title="Payment reminder",
        summary="Remind a customer of an invoice due date with a link to pay.",
        name="payment_reminder",
        category="UTILITY",
        components=(
            {
                "type": "BODY",
                "text": "Hi {{1}}, invoice {{2}} of {{3}} is due on {{4}}. You can pay online.",
                "example": {"body_text": [["Ana", "INV-77", "$45.00", "1 April"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Pay now",
                        "url": "https://example.com/pay/{{1}}",
                        "example": ["https://example.com/pay/INV-77"],
                    }
                ],
            },
        ),
    ),
)

STARTERS_BY_KEY = {starter.key: starter for starter in STARTERS}


def template_starter_adopt(
    *, account: WhatsAppAccount, key: str, language: str, name: str | None = None
) -> MessageTemplate:
    """A DRAFT copy of the starter `key` for `account` (its name may be changed)."""
    starter = STARTERS_BY_KEY.get(key)
    if starter is None:
        raise FieldsInvalid(
            "Unknown starter template.",
            details=[
                {
                    "field": "key",
                    "message": f"Must be one of {', '.join(STARTERS_BY_KEY)}.",
                    "type": "value_error",
                }
            ],
        )
    data = {
        "name": name or starter.name,
        "language": language,
        "category": starter.category,
        "components": copy.deepcopy(list(starter.components)),
    }
    return template_create(account=account, data=data, submit=False)
