"""The one dispatch point after an inbound message is stored: later features attach here.

    from messaging.dispatch import on_inbound_message

    @on_inbound_message
    def menu_reply(message: Message) -> None: ...

Register in your AppConfig.ready() (or at import of a module it imports). Contract for handlers:

- called once per newly stored inbound message, never for a duplicate delivery, inside the
  tenant's schema and inside the transaction that stored the message: their database writes
  commit together with it, or roll back together and run again on the retry;
- each runs in its own savepoint: a handler that raises is logged and rolled back alone, and
  neither the message nor the other handlers are lost;
- anything slow or external (sending a reply, HTTP) is queued, not done inline: enqueue a job
  (the ORM broker's INSERT commits with the message) or use `transaction.on_commit`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from messaging.models import Message

logger = logging.getLogger(__name__)

InboundHandler = Callable[[Message], None]

_handlers: list[InboundHandler] = []


def on_inbound_message(handler: InboundHandler) -> InboundHandler:
    """Register `handler` (idempotent: registering the same function twice keeps one). Usable as a decorator."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def inbound_handler_remove(handler: InboundHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def inbound_message_dispatch(message: Message) -> int:
    """Run every registered handler for `message`; returns how many failed (logged, rolled back)."""
    failures = 0
    for handler in list(_handlers):
        try:
            with transaction.atomic():
                handler(message)
        except Exception:
            failures += 1
            logger.exception(
                "Inbound handler %s failed for message %s; the message is kept.",
                getattr(handler, "__qualname__", handler), message.pk,
            )
    return failures
