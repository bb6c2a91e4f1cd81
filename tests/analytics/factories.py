"""Factories for the analytics tests: accounts, numbers, templates, contacts and messages.

Create them inside `in_tenant(...)`: they write to whatever schema is active.
"""

from __future__ import annotations

from datetime import UTC, datetime

import factory

from messaging.models import Contact, Conversation, Message
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount


def at(day: str, clock: str = "12:00:00") -> datetime:
    """`at("2026-03-02", "09:15")` -> an aware UTC datetime."""
    if clock.count(":") == 1:
        clock += ":00"
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhatsAppAccount

    display_name = factory.Sequence(lambda n: f"Account {n}")
    waba_id = factory.Sequence(lambda n: f"2000000000{n:05d}")
    app_id = "100000000000001"
    access_token = factory.Sequence(lambda n: f"EAAtoken-{n}")
    status = WhatsAppAccount.Status.ACTIVE


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    account = factory.SubFactory(AccountFactory)
    phone_number_id = factory.Sequence(lambda n: f"3000000000{n:05d}")
    display_phone_number = factory.Sequence(lambda n: f"+1 555-010-{n:04d}")
    quality_rating = "GREEN"
    messaging_limit_tier = "TIER_1K"
    throughput_level = "STANDARD"
    status = "CONNECTED"
    name_status = "APPROVED"


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"template_{n}")
    language = "en_US"
    category = "UTILITY"
    status = "APPROVED"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    wa_id = factory.Sequence(lambda n: f"1555000{n:04d}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    """An outbound text by default; pass `direction="in"` and `status="received"` for a customer's."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    contact = factory.SelfAttribute("conversation.contact")
    phone_number = factory.SelfAttribute("conversation.phone_number")
    direction = Message.Direction.OUTBOUND
    wamid = factory.Sequence(lambda n: f"wamid.TEST{n:08d}")
    type = "text"
    body = "hello"
    status = Message.Status.SENT
