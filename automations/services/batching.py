"""The engine's reads and writes for a whole batch of inbound messages at once.

Handling a message reads the contact's open handoff and its live conversation state (locking the
state). When the webhook worker dispatches a batch (`messaging.inbound.inbound_batch`), the first
message of the batch that needs them reads them for every contact of the batch in two statements.
Each contact's are handed out once, to that contact's first message of the batch: a later message
of the same contact reads again, because handling the first may have changed them. Handling one
contact's message never changes another contact's handoff or state, so the reads stay true until
each is handed out.

The rows a message of the batch leaves that nothing reads back in the same batch (its run record,
the workflow steps it entered, the record of each automated reply) are inserted when the batch has
been dispatched (`row_defer`, `deferred_rows_write`): one INSERT per table instead of one per message.
Its replies wait there too (`reply_defer`), to be queued together in order (`replies.replies_queue`)
before those rows are written. What one message's handling deferred is dropped again when that
handling fails and is rolled back (`deferred_checkpoint`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Model, Q

from automations.models import ConversationState, HumanHandoff
from messaging.inbound import InboundBatch, inbound_batch
from messaging.models import Message
from platform_core.batch_memo import batch_memo

if TYPE_CHECKING:
    from automations.replies import PendingReply

Pair = tuple[int, int]  # (contact id, phone number id)


@dataclass(frozen=True)
class ContactReads:
    handoff: HumanHandoff | None
    state: ConversationState | None  # locked FOR UPDATE, like `conversation_state_active(for_update=True)`
    # The pair's one active row, locked, live or past its expiry (None: there is none): what
    # `conversation_state_start(replacing=..., replacing_known=True)` closes without reading again.
    active: ConversationState | None = None


class _BatchReads:
    def __init__(self, messages: tuple[Message, ...]) -> None:
        pairs = {(message.contact_id, message.phone_number_id) for message in messages}
        by_phone: dict[int, set[int]] = {}
        for contact_id, phone_id in pairs:
            by_phone.setdefault(phone_id, set()).add(contact_id)
        of_pairs = Q()
        for phone_id, contact_ids in by_phone.items():
            of_pairs |= Q(phone_number_id=phone_id, contact_id__in=sorted(contact_ids))
        self.handoffs: dict[Pair, HumanHandoff] = {}
        for handoff in HumanHandoff.objects.filter(of_pairs, closed_at__isnull=True).order_by("pk"):
            self.handoffs.setdefault((handoff.contact_id, handoff.phone_number_id), handoff)
        self.states: dict[Pair, ConversationState] = {}
        states = (  # live or not: an active row past its expiry is closed when a new state starts
            ConversationState.objects.filter(of_pairs, status=ConversationState.Status.ACTIVE)
            .select_for_update(of=("self",))
            .select_related("workflow")
            .order_by("pk")
        )
        for state in states:
            self.states.setdefault((state.contact_id, state.phone_number_id), state)
        self.handed_out: set[Pair] = set()

    def take(self, pair: Pair, now: datetime) -> ContactReads | None:
        if pair in self.handed_out:
            return None
        self.handed_out.add(pair)
        active = self.states.get(pair)
        state = active if active is not None and active.expires_at > now else None
        return ContactReads(handoff=self.handoffs.get(pair), state=state, active=active)


def batch_contact_reads(message: Message, *, now: datetime) -> ContactReads | None:
    """The contact's handoff and live state as read for the whole batch; None when the message is
    not in a batch being dispatched, or its contact's were handed out already (read them again)."""
    batch = inbound_batch()
    if batch is None or message.pk not in batch.message_ids:
        return None
    reads = batch_memo(("automations.contact_reads", id(batch)), lambda: _BatchReads(batch.messages))
    return reads.take((message.contact_id, message.phone_number_id), now)


def stored_in_this_batch(message: Message) -> bool:
    """The message was stored by the batch being dispatched: no other transaction has seen it, so
    no run can have claimed it."""
    return _batch_of(message) is not None


def row_defer(row: Model, *, message: Message) -> bool:
    """Keep a new row written for `message`, when the batch being dispatched stored it, to be
    inserted with the batch's other rows of its model; False (write it now) outside such a batch."""
    batch = _batch_of(message)
    if batch is None:
        return False
    _deferred(batch).rows.setdefault(type(row), []).append(row)
    return True


def reply_defer(pending: PendingReply) -> bool:
    """Keep a reply to a message the batch being dispatched stored, to be queued with the batch's
    others once it has been dispatched, in the order they were asked for; False (queue it now)
    outside such a batch."""
    batch = _batch_of(pending.message)
    if batch is None:
        return False
    _deferred(batch).replies.append(pending)
    return True


def deferred_replies_take(batch: InboundBatch) -> list[PendingReply]:
    """The replies the batch's messages asked for, in order; each is handed out once."""
    deferred = _deferred(batch)
    replies, deferred.replies = deferred.replies, []
    return replies


def deferred_rows_write(batch: InboundBatch) -> None:
    """Insert the rows the batch's messages left, one INSERT per model."""
    deferred = _deferred(batch)
    for model, rows in deferred.rows.items():
        if rows:
            model._default_manager.bulk_create(rows)
    deferred.rows.clear()


@contextmanager
def deferred_checkpoint(message: Message) -> Iterator[None]:
    """Drop what the block deferred if it raises: the handling of `message` that asked for those
    rows and replies is rolled back (a receiver's savepoint), so they must not be written either."""
    batch = _batch_of(message)
    if batch is None:
        yield
        return
    deferred = _deferred(batch)
    rows_before = {model: len(rows) for model, rows in deferred.rows.items()}
    replies_before = len(deferred.replies)
    try:
        yield
    except BaseException:
        for model, rows in deferred.rows.items():
            del rows[rows_before.get(model, 0):]
        del deferred.replies[replies_before:]
        raise


@dataclass
class _Deferred:
    rows: dict[type[Model], list[Model]] = field(default_factory=dict)
    replies: list[PendingReply] = field(default_factory=list)


def _batch_of(message: Message) -> InboundBatch | None:
    batch = inbound_batch()
    if batch is None or message.pk not in batch.message_ids:
        return None
    return batch


def _deferred(batch: InboundBatch) -> _Deferred:
    return batch_memo(("automations.deferred", id(batch)), _Deferred)
