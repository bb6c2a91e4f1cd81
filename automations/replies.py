"""The one way automated replies leave: `reply_send`, through the send pipeline.

Every reply becomes a queued outbound Message through `sending.services.message_send`, so
rate limits, the 24-hour window, quotas and retries apply as to any other message. Each reply is
recorded as an `AutomatedReply` keyed by the outbound message, naming the workflow, its version
and the step (or the bot rule) that sent it. A reply the pipeline refuses (a suspended account,
a quota, the 24-hour window) does not undo the conversation's progress: it is kept in the
conversation as a failed outbound message with the refusal's code and message
(`sending.services.message_refused_record`), so whoever reads the thread sees what the customer
did not get and why, and its `AutomatedReply` carries the code.

WhatsApp Flows named by a step go through flows_builder's `flow_send`, which records the flow
token and calls the same pipeline. flows_builder depends on messaging, so it is imported at
call time, here and only here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.models import AutomatedReply
from automations.services.batching import row_defer
from flows_builder.errors import FlowNotFound
from flows_builder.models import WhatsAppFlow
from flows_builder.sending import flow_send
from messaging.models import Message
from platform_core.errors import DomainError
from sending.services import message_refused_record, message_send

logger = logging.getLogger(__name__)

Purpose = AutomatedReply.Purpose


@dataclass(frozen=True)
class FlowReply:
    """A WhatsApp Flow to send: by `name`, or the flow linked to a workflow (`flow_id`)."""

    body: str
    cta: str
    name: str | None = None
    flow_id: int | None = None


@dataclass(frozen=True)
class OutboundReply:
    """One message the automation wants to send in answer to an inbound message.

    `content` is what `message_send` takes (`{"type": "text", "text": {...}}` or
    `{"type": "interactive", "interactive": {...}}`); a Flow reply carries `flow` instead.
    """

    purpose: str
    content: dict[str, Any] = field(default_factory=dict)
    flow: FlowReply | None = None
    workflow: str = ""
    workflow_version: int | None = None
    step: str = ""

    @property
    def kind(self) -> str:
        return "flow" if self.flow is not None else str(self.content.get("type", ""))

    @property
    def refused_content(self) -> dict[str, Any]:
        """What a refused reply is kept as in the conversation (a Flow as the interactive message it is)."""
        if self.flow is None:
            return self.content
        return {"type": "interactive", "interactive": {"type": "flow", "body": {"text": self.flow.body}}}

    @property
    def text(self) -> str:
        """The words of the reply (body of a text or of an interactive message), for logs and tests."""
        if self.kind == "text":
            return str(self.content["text"]["body"])
        if self.kind == "interactive":
            return str(self.content["interactive"].get("body", {}).get("text", ""))
        return self.flow.body if self.flow else ""

    @classmethod
    def text_message(cls, body: str, *, purpose: str, **where: Any) -> OutboundReply:
        return cls(purpose=purpose, content={"type": "text", "text": {"body": body}}, **where)

    @classmethod
    def interactive_message(cls, interactive: dict[str, Any], *, purpose: str, **where: Any) -> OutboundReply:
        return cls(purpose=purpose, content={"type": "interactive", "interactive": interactive}, **where)


def reply_send(
    *, reply: OutboundReply, message: Message, workflow: str, step: str, position: int = 0,
    now: datetime | None = None,
) -> AutomatedReply:
    """Queue `reply` to the sender of inbound `message` and record which workflow and step sent it.

    Idempotent per (inbound message, position): the pipeline's Idempotency-Key is derived from
    them, so a repeated call queues nothing new. Runs in the tenant's schema, inside the caller's
    transaction (the queued message commits with the conversation's new state).
    """
    record = AutomatedReply(
        inbound_message=message,
        contact_id=message.contact_id,
        phone_number_id=message.phone_number_id,
        purpose=reply.purpose,
        workflow_name=workflow,
        workflow_version=reply.workflow_version,
        step=step,
        created_at=now or timezone.now(),
    )
    replayed = False
    try:
        with transaction.atomic():  # a refused send leaves nothing behind (e.g. a flow token)
            record.outbound_message, replayed = _send(
                reply, message, idempotency_key=f"menus:{message.pk}:{position}")
    except DomainError as error:
        record.error_code = error.code
        record.outbound_message = message_refused_record(
            conversation=message.conversation, content=reply.refused_content, body=reply.text, error=error
        )
        logger.warning(
            "Automated %s reply to message %s was refused by the send pipeline: %s (%s); kept as failed message %s",
            reply.purpose, message.pk, error.code, error.message, record.outbound_message.pk,
        )
    if replayed:
        earlier = AutomatedReply.objects.filter(outbound_message=record.outbound_message).first()
        if earlier is not None:
            return earlier
    if not row_defer(record, message=message):
        record.save()
    return record


def _send(reply: OutboundReply, message: Message, *, idempotency_key: str) -> tuple[Message, bool]:
    """The queued outbound message, and whether an earlier call had queued it already."""
    phone = message.phone_number
    if reply.flow is not None:
        return _flow_send(reply.flow, message), False

    queued = message_send(
        phone_number_id=phone.phone_number_id,
        to=message.contact.wa_id,
        content=reply.content,
        idempotency_key=idempotency_key,
    )
    return queued.message, queued.replayed


def _flow_send(flow_reply: FlowReply, message: Message) -> Message:

    flows = WhatsAppFlow.objects.filter(account_id=message.phone_number.account_id)
    if flow_reply.flow_id is not None:
        flow = flows.filter(pk=flow_reply.flow_id).first()
    else:
        flow = flows.filter(name=flow_reply.name).first()
    if flow is None:
        raise FlowNotFound(f"No WhatsApp Flow {flow_reply.name or flow_reply.flow_id} on this account.")
    queued = flow_send(
        flow=flow, contact=message.contact, phone_number=message.phone_number,
        body=flow_reply.body, cta=flow_reply.cta,
    )
    return queued.message
