"""Factories for the analytics tests: the messaging suite's, plus what analytics needs on top.

Create them inside `in_tenant(...)`: they write to whatever schema is active.
"""

from __future__ import annotations

from datetime import UTC, datetime

import factory

from messaging.models import Message
from tests.messaging.factories import (  # noqa: F401  (re-exported for the analytics tests)
    AccountFactory,
    ContactFactory,
    ConversationFactory,
    PhoneNumberFactory,
)
from tests.messaging.factories import MessageFactory as InboundMessageFactory
from waba.models import MessageTemplate


def at(day: str, clock: str = "12:00:00") -> datetime:
    """`at("2026-03-02", "09:15")` -> an aware UTC datetime."""
    if clock.count(":") == 1:
        clock += ":00"
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


class MessageFactory(InboundMessageFactory):
    """An outbound message by default (status `sent`); pass `direction="in"` for a customer's."""

    direction = Message.Direction.OUTBOUND


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"template_{n}")
    language = "en_US"
    category = "UTILITY"
    status = "APPROVED"
