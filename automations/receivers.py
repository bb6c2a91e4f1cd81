"""How automations hear of events announced below them (connected in MenusConfig.ready)."""

from __future__ import annotations

from typing import Any

from automations.calls import call_reply_send
from automations.models import Workflow
from automations.replies import deferred_replies_queue
from automations.services.batching import deferred_rows_write
from automations.workflows import automation_handle_inbound
from flows_builder.models import WhatsAppFlow
from messaging.inbound import InboundBatch
from messaging.models import CallEvent, Message


def automation_on_inbound(sender: Any, message: Message, **kwargs: Any) -> None:
    """Every newly stored inbound message goes through the automation engine once.

    `send_in_savepoints` runs each receiver in a savepoint of its own, so the engine adds none.
    """
    automation_handle_inbound(message=message, savepoint=False)


def deferred_rows_on_batch_dispatched(sender: Any, batch: InboundBatch, **kwargs: Any) -> None:
    """The batch's replies are queued first: their records, written with the other rows, name them."""
    deferred_replies_queue(batch)
    deferred_rows_write(batch)


def call_reply_on_call(sender: Any, call: CallEvent, **kwargs: Any) -> None:
    """A customer's call may be answered with a message (the account's call reply)."""
    call_reply_send(call=call)


def flow_link_check(sender: Any, flow: WhatsAppFlow, **kwargs: Any) -> list[str]:
    """A Flow's fallback is a conversational flow (a Workflow) of the same name in this tenant."""
    if Workflow.objects.filter(name=flow.flow_definition_name).exists():
        return []
    return [f"linked conversational flow '{flow.flow_definition_name}' does not exist"]
