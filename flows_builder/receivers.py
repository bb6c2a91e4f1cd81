"""How WhatsApp Flows hear of events announced below them (connected in FlowsBuilderConfig.ready)."""

from __future__ import annotations

from typing import Any

from flows_builder.responses import handle_inbound_nfm_reply
from flows_builder.sync import flows_webhook_apply
from messaging.models import Message
from waba.webhook_events import AccountEvent


def flow_reply_on_inbound(sender: Any, message: Message, **kwargs: Any) -> None:
    """A stored inbound message may be a Flow's reply (`nfm_reply`): record it."""
    handle_inbound_nfm_reply(message)


def flows_field_on_account_event(sender: Any, event: AccountEvent, **kwargs: Any) -> None:
    """The `flows` webhook field (Flow status changes and endpoint health)."""
    if event.field == "flows":
        flows_webhook_apply(event)
