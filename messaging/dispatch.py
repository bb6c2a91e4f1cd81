"""The dispatch points after a webhook is applied: later features attach here, messaging imports none of them.

Inbound messages (below) and account-level fields (`on_account_event`, further down).

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
from typing import TYPE_CHECKING

from django.db import transaction

from messaging.models import Message

if TYPE_CHECKING:
    from waba.webhook_events import AccountEvent

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


# --- account-level fields ------------------------------------------------------------------------
#
#     from messaging.dispatch import on_account_event
#     on_account_event("flows", flows_webhook_apply)   # in your AppConfig.ready()
#
# Webhook processing applies an account-level field (templates, quality, account, flows ...) with
# the WABA app's `account_event_apply` (its event log keeps every field), then hands the event to
# the handlers registered for that field. Contract: called once per application of the change,
# inside the tenant's schema that owns the WABA and inside the change's transaction, each in a
# savepoint of its own; they must be idempotent (a journal entry may be processed again). A
# handler that raises rolls the whole change back and the journal entry is retried: an account
# change is not half-applied.

AccountEventHandler = Callable[["AccountEvent"], object]

_account_handlers: dict[str, list[AccountEventHandler]] = {}


def on_account_event(field: str, handler: AccountEventHandler) -> AccountEventHandler:
    """Register `handler` for webhook field `field` (idempotent: the same function twice keeps one)."""
    handlers = _account_handlers.setdefault(field, [])
    if handler not in handlers:
        handlers.append(handler)
    return handler


def account_handler_remove(field: str, handler: AccountEventHandler) -> None:
    if handler in _account_handlers.get(field, []):
        _account_handlers[field].remove(handler)


def account_event_dispatch(event: AccountEvent) -> int:
    """Run the handlers registered for `event.field`; returns how many ran. Exceptions propagate."""
    handlers = list(_account_handlers.get(event.field, []))
    for handler in handlers:
        with transaction.atomic():
            handler(event)
    return len(handlers)
