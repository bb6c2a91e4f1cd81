"""What messaging announces after it applies a webhook event. Receivers connect in AppConfig.ready():

    inbound_message_stored.connect(my_receiver, dispatch_uid="myapp.inbound")

    def my_receiver(sender, message: Message, **kwargs) -> None: ...

inbound_message_stored (sender: the Message class; message: the stored Message)
    Sent once per newly stored inbound message, never for a duplicate delivery, inside the
    tenant's schema and inside the transaction that stored the message: a receiver's writes
    commit with it, or roll back with it and run again on the retry. Each receiver runs in its
    own savepoint: one that raises is logged and rolled back alone, and neither the message nor
    the other receivers are lost. Anything slow or external (a reply, an HTTP call) is queued
    (a job, or `transaction.on_commit`), never done inline.
"""

from __future__ import annotations

from platform_core.signals import IsolatedSignal

inbound_message_stored = IsolatedSignal()
inbound_message_stored.name = "inbound_message_stored"
