"""The one way automated replies leave: `reply_send`, through the send pipeline.

Every reply becomes a queued outbound Message through the send pipeline's checks, so rate limits,
the 24-hour window, quotas and retries apply as to any other message (`replies_queue`). Each reply is
recorded as an `AutomatedReply` keyed by the outbound message, naming the workflow, its version
and the step (or the bot rule) that sent it. A reply the pipeline refuses (a suspended account,
a quota, the 24-hour window) does not undo the conversation's progress: it is kept in the
conversation as a failed outbound message with the refusal's code and message
(`sending.services.message_refused_record`), so whoever reads the thread sees what the customer
did not get and why, and its `AutomatedReply` carries the code.

The replies to the messages of a webhook batch are queued once the batch has been dispatched
(`services.batching.reply_defer`), all of them at once: one read of their conversations, one of
their idempotency keys, one quota take and plan check, one `outbox_enqueue`. Outside a batch a
reply is queued by the same code, alone.

WhatsApp Flows named by a step go one at a time, in their turn among the other replies, through
flows_builder's `flow_send`, which records the flow token and calls `message_send`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from automations.models import AutomatedReply
from automations.services.batching import deferred_replies_take, reply_defer, row_defer
from flows_builder.errors import FlowNotFound
from flows_builder.models import WhatsAppFlow
from flows_builder.sending import flow_send
from messaging.inbound import InboundBatch
from messaging.models import Conversation, Message
from platform_core.errors import DomainError
from sending.outbox import OutboundItem
from sending.services import (
    ConversationReply,
    conversation_replies_enqueue,
    conversation_replies_ready,
    message_refused_record,
    message_send,
)
from waba.models import PhoneNumber

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


@dataclass
class PendingReply:
    """A reply `reply_send` took, waiting to be queued, and the record that will say what became of it."""

    reply: OutboundReply
    message: Message  # the inbound message it answers
    record: AutomatedReply
    idempotency_key: str


def reply_send(
    *, reply: OutboundReply, message: Message, workflow: str, step: str, position: int = 0,
    now: datetime | None = None,
) -> AutomatedReply:
    """Queue `reply` to the sender of inbound `message` and record which workflow and step sent it.

    Idempotent per (inbound message, position): the pipeline's Idempotency-Key is derived from
    them, so a repeated call queues nothing new. Runs in the tenant's schema, inside the caller's
    transaction (the queued message commits with the conversation's new state). In a webhook batch
    the reply is queued with the batch's others once it has been dispatched: the record returned
    then names its outbound message only from that moment.
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
    pending = PendingReply(reply=reply, message=message, record=record,
                           idempotency_key=f"menus:{message.pk}:{position}")
    if not reply_defer(pending):
        replies_queue([pending])  # outside a batch: a batch of one
    return pending.record


def replies_queue(pending: Sequence[PendingReply]) -> None:
    """Queue replies in the order given; each one's record then names its outbound message (or the
    earlier record stands in for it, when its message was queued before).

    A run of replies from one number that the send pipeline would queue as they are
    (`sending.services.conversation_replies_ready`) is queued together: one quota take, one plan
    check, one `outbox_enqueue`. Any other reply goes alone through `message_send` (a Flow through
    `flow_send`), which refuses it (kept as a failed message) or replays it; so does each reply of a
    run the quota or the plan refuses as a whole, so that each is decided as one at a time.
    """
    if not pending:
        return
    run: list[tuple[PendingReply, OutboundItem]] = []
    run_phone: PhoneNumber | None = None
    for one, ready in zip(pending, _replies_ready(pending), strict=True):
        if run_phone is not None and (ready is None or ready[0].pk != run_phone.pk):
            _run_queue(run, run_phone)
            run, run_phone = [], None
        if ready is None:
            _reply_send_alone(one)
        else:
            run_phone = ready[0]
            run.append((one, ready[1]))
    if run_phone is not None:
        _run_queue(run, run_phone)


def deferred_replies_queue(batch: InboundBatch) -> None:
    """Queue the replies the batch's messages asked for (before their records are written)."""
    replies_queue(deferred_replies_take(batch))


def _replies_ready(pending: Sequence[PendingReply]) -> list[tuple[PhoneNumber, OutboundItem] | None]:
    """For each reply, the number and the outbox item when the send pipeline would queue it as it is
    (a Flow never: `flow_send` records its token); one read of the conversations for them all."""
    conversations = Conversation.objects.select_related("contact").in_bulk(
        {one.message.conversation_id for one in pending}
    )
    candidates = [
        (index, ConversationReply(conversation=conversations[one.message.conversation_id],
                                  phone_number_id=one.message.phone_number.phone_number_id,
                                  content=one.reply.content, idempotency_key=one.idempotency_key))
        for index, one in enumerate(pending)
        if one.reply.flow is None and one.message.conversation_id in conversations
    ]
    ready: list[tuple[PhoneNumber, OutboundItem] | None] = [None] * len(pending)
    for (index, _), found in zip(candidates, conversation_replies_ready([c for _, c in candidates]), strict=True):
        ready[index] = found
    return ready


def _run_queue(run: Sequence[tuple[PendingReply, OutboundItem]], phone: PhoneNumber) -> None:
    """Queue a run of replies that passed every check: the quota and the plan asked once for all;
    refused together, each goes alone, so that each is accepted or refused as one at a time."""
    queued = conversation_replies_enqueue(phone=phone, items=[item for _, item in run])
    if queued is None:
        for one, _ in run:
            _reply_send_alone(one)
        return
    for (one, _), message in zip(run, queued, strict=True):
        one.record.outbound_message = message
        _record_keep(one, replayed=False)


def _reply_send_alone(one: PendingReply) -> None:
    """One reply through `message_send` (a Flow through `flow_send`); a refusal is kept as a failed message."""
    reply, message, record = one.reply, one.message, one.record
    replayed = False
    try:
        with transaction.atomic():  # a refused send leaves nothing behind (e.g. a flow token)
            record.outbound_message, replayed = _send(reply, message, idempotency_key=one.idempotency_key)
    except DomainError as error:
        record.error_code = error.code
        record.outbound_message = message_refused_record(
            conversation=message.conversation, content=reply.refused_content, body=reply.text, error=error
        )
        logger.warning(
            "Automated %s reply to message %s was refused by the send pipeline: %s (%s); kept as failed message %s",
            reply.purpose, message.pk, error.code, error.message, record.outbound_message.pk,
        )
    _record_keep(one, replayed=replayed)


def _record_keep(one: PendingReply, *, replayed: bool) -> None:
    """Write the reply's record (in a batch: with the batch's rows); a replayed reply keeps the
    record its first sending wrote instead."""
    if replayed:
        earlier = AutomatedReply.objects.filter(outbound_message=one.record.outbound_message).first()
        if earlier is not None:
            one.record = earlier
            return
    if not row_defer(one.record, message=one.message):
        one.record.save()


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
