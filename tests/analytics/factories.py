"""Factories for the analytics tests: the messaging suite's, plus what analytics needs on top.

Create them inside `in_tenant(...)`: they write to whatever schema is active.
"""

from __future__ import annotations

from datetime import UTC, datetime

from messaging.models import Message
from tests.factories import (  # noqa: F401  (re-exported for the analytics tests)
    AccountFactory,
    ContactFactory,
    ConversationFactory,
    PhoneNumberFactory,
    TemplateFactory,
)
from tests.factories import MessageFactory as InboundMessageFactory


def at(day: str, clock: str = "12:00:00") -> datetime:
    """`at("2026-03-02", "09:15")` -> an aware UTC datetime."""
    if clock.count(":") == 1:
        clock += ":00"
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


class MessageFactory(InboundMessageFactory):
    """An outbound message by default (status `sent`); pass `direction="in"` for a customer's."""

    direction = Message.Direction.OUTBOUND
