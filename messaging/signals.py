"""What messaging announces after it applies a webhook event. Receivers connect in AppConfig.ready():

    inbound_message_stored.connect(my_receiver, dispatch_uid="myapp.inbound")

    def my_receiver(sender, message: Message, **kwargs) -> None: ...

inbound_message_stored (sender: the Message class; message: the stored Message)
    Sent once per newly stored inbound message, never for a duplicate delivery, inside the
    tenant's schema and inside the transaction that stored the message: a receiver's writes
    commit with it, or roll back with it and run again on the retry. Each receiver runs in its
    own savepoint: one that raises is logged and rolled back alone, and neither the message nor
    the other receivers are lost. Anything slow or external (a reply, an HTTP call) is queued
    (a job, or `transaction.on_commit`), never done inline. A receiver that cares about few
    messages connects with `connect_when` and a cheap condition, and costs nothing for the rest.
    While a batch is dispatched, `messaging.inbound.inbound_batch()` names all its new messages,
    so a receiver may read what it needs for all of them at once.

inbound_batch_dispatched (sender: the Message class; batch: messaging.inbound.InboundBatch)
    Sent once a batch's new messages have all been dispatched, in the same transaction, so a
    receiver can write in one statement what it gathered message by message. Sent with plain
    `send`: a receiver that raises fails the batch, which the webhook worker then applies again
    one message at a time.

message_statuses_changed (sender: the Message class; changes: list[messaging.statuses.StatusChange])
    Sent once per applied batch of status webhooks (and once per status applied one by one) with
    every status change it made, in order: one StatusChange per time an outbound message's status
    moved forward. A duplicate, a status behind the message's, a status still waiting for its
    message, or a late timestamp filled in changes no status and is not in the list; nothing is
    sent when the list would be empty. Same schema, transaction and savepoints as above; a receiver
    should do a fixed number of statements for the whole list.

call_event_recorded (sender: the CallEvent class; call: the stored messaging.CallEvent)
    Sent once per newly recorded call event, never for a redelivery; same schema, transaction and
    savepoints as inbound_message_stored.
"""

from __future__ import annotations

from platform_core.signals import IsolatedSignal

inbound_message_stored = IsolatedSignal()
inbound_message_stored.name = "inbound_message_stored"

inbound_batch_dispatched = IsolatedSignal()
inbound_batch_dispatched.name = "inbound_batch_dispatched"

message_statuses_changed = IsolatedSignal()
message_statuses_changed.name = "message_statuses_changed"

call_event_recorded = IsolatedSignal()
call_event_recorded.name = "call_event_recorded"
