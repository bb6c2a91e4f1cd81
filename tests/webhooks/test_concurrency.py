"""20 concurrent deliveries of one message, processed by 20 processes at once: one message, one side effect.

Each process has its own connection, so the rows must be committed: the test body runs through
`run_committed` and `committed_number` deletes what it made afterwards.
"""

from __future__ import annotations

import multiprocessing

import pytest
from django.db import connections, transaction
from django_tenants.utils import schema_context

from messaging.models import Contact, Conversation, Message
from messaging.signals import inbound_message_stored
from tests.conftest import ApiClient
from tests.fixtures import load_webhook_fixture_bytes
from tests.webhooks.conftest import APP_ID, APP_SECRET, run_committed
from webhooks.models import WebhookJournalEntry
from webhooks.signature import compute_signature

DELIVERIES = 20
BODY = load_webhook_fixture_bytes("message_text")


def _process_one(entry_id: int, barrier) -> None:
    """Child process: wait for all the others, then process one journal entry."""
    from webhooks.processing import journal_entry_process

    barrier.wait(timeout=30)
    try:
        journal_entry_process(entry_id=entry_id)
    finally:
        connections.close_all()


@pytest.mark.slow
def test_twenty_concurrent_deliveries_make_one_message_and_one_side_effect(committed_number):
    tenant, number = committed_number
    context = multiprocessing.get_context("fork")
    dispatched = context.Value("i", 0)

    def side_effect(sender: object, message: Message, **kwargs: object) -> None:
        def count() -> None:
            with dispatched.get_lock():
                dispatched.value += 1

        transaction.on_commit(count)  # counts only dispatches whose transaction committed

    def deliver() -> list[int]:
        client = ApiClient("localhost")
        headers = {"X-Hub-Signature-256": compute_signature(BODY, APP_SECRET)}
        for _ in range(DELIVERIES):
            response = client.generic("POST", f"/webhooks/whatsapp/{APP_ID}", BODY,
                                      content_type="application/json", headers=headers)
            assert response.status_code == 200
        return list(WebhookJournalEntry.objects.filter(app_id=APP_ID).values_list("id", flat=True))

    def process_concurrently(entry_ids: list[int]) -> list[int | None]:
        connections.close_all()  # the children must not share this thread's connection
        barrier = context.Barrier(len(entry_ids))
        workers = [context.Process(target=_process_one, args=(entry_id, barrier)) for entry_id in entry_ids]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        return [worker.exitcode for worker in workers]

    def observe(entry_ids: list[int]) -> dict:
        with schema_context(tenant.schema_name):
            conversation = Conversation.objects.get(phone_number=number)
            figures = {
                "messages": Message.objects.filter(phone_number=number).count(),
                "contacts": Contact.objects.filter(wa_id="16315551181").count(),
                "counts": (conversation.message_count, conversation.unread_count),
            }
        outcomes = [entry.outcome for entry in WebhookJournalEntry.objects.filter(id__in=entry_ids)]
        figures["stored"] = sum(outcome == {"messages_stored": 1} for outcome in outcomes)
        figures["duplicates"] = sum(outcome == {"messages_duplicate": 1} for outcome in outcomes)
        return figures

    entry_ids = run_committed(deliver)
    assert len(entry_ids) == DELIVERIES
    inbound_message_stored.connect(side_effect)
    try:
        exit_codes = run_committed(process_concurrently, entry_ids)
    finally:
        inbound_message_stored.disconnect(side_effect)

    assert exit_codes == [0] * DELIVERIES
    assert dispatched.value == 1
    assert run_committed(observe, entry_ids) == {
        "messages": 1, "contacts": 1, "counts": (1, 1), "stored": 1, "duplicates": DELIVERIES - 1}
