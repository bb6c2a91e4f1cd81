"""Two replies of one contact handled at the same moment, on two database connections, against
committed data: the second waits for the first and sees the state it left, nothing is lost or mixed.

The per-test transaction cannot be used (the other connection would not see its rows) and a
flush would truncate the session's tenants, so `committed_customer` commits its own rows in
alpha's schema from a thread of its own and deletes exactly those rows afterwards.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context

from automations import replies, seeds
from automations.models import (
    AutomatedReply,
    CatalogueItem,
    ConversationState,
    Order,
    Workflow,
    WorkflowTemplate,
)
from automations.workflows import automation_handle_inbound
from messaging.models import Contact, Message
from tenants.models import Tenant
from tests.automations.factories import inbound_message_create
from tests.messaging.factories import ContactFactory, PhoneNumberFactory
from tests.webhooks.conftest import run_committed

TIMEOUT_S = 10


@pytest.fixture
def sent(monkeypatch) -> list:
    """The replies handed to `reply_send`, from any thread (no outbound rows to clean up)."""
    calls: list = []
    lock = threading.Lock()

    def record(*, reply, message, workflow, step, position=0, now=None):
        with lock:
            calls.append((message.wamid, reply))

    monkeypatch.setattr(replies, "reply_send", record)
    return calls


@pytest.fixture
def committed_customer(db, sent):
    """Alpha's built-ins, a number and a customer at the quantity step, all COMMITTED; removed afterwards."""

    def create():
        tenant = Tenant.objects.get(slug="alpha")
        with schema_context(tenant.schema_name):
            assert not Workflow.objects.exists(), "alpha's committed data is not clean"
            number = PhoneNumberFactory()
            contact = ContactFactory(wa_id="4915100123456")
            seeds.builtins_install()
            now = timezone.now()
            steps = [{"text": "Hi"}, {"button": ("place_order", "Place Order")}]
            for step in steps:
                automation_handle_inbound(message=inbound_message_create(number=number, contact=contact, at=now,
                                                                         **step), now=now)
            coffee = CatalogueItem.objects.get(name="Coffee").pk
            automation_handle_inbound(message=inbound_message_create(
                number=number, contact=contact, at=now, row=(f"item:{coffee}", "Coffee")), now=now)
        return tenant, number, contact

    def delete(tenant, number, contact):
        with schema_context(tenant.schema_name):
            AutomatedReply.objects.filter(contact=contact).delete()
            ConversationState.objects.filter(contact=contact).delete()
            Order.objects.filter(contact=contact).delete()
            Message.objects.filter(phone_number=number).delete()
            number.conversations.all().delete()
            Contact.objects.filter(pk=contact.pk).delete()
            WorkflowTemplate.objects.filter(template_name__in=[t["template_name"] for t in seeds.BUILTIN_TEMPLATES]
                                            ).delete()
            Workflow.objects.filter(name__in=[w["name"] for w in seeds.BUILTIN_WORKFLOWS]).delete()
            CatalogueItem.objects.filter(name__in=[name for name, *_ in seeds.CATALOGUE]).delete()
            account = number.account
            number.delete()
            account.delete()

    tenant, number, contact = run_committed(create)
    try:
        yield tenant, number, contact
    finally:
        run_committed(delete, tenant, number, contact)


def test_two_replies_at_once_are_applied_one_after_the_other(committed_customer, sent, monkeypatch):
    tenant, number, contact = committed_customer
    now = timezone.now() + timedelta(seconds=5)
    two, three = run_committed(lambda: _messages(tenant, number, contact, now, ["2", "3"]))

    # The first handler pauses while it holds the conversation's lock; the second must wait for it.
    from automations import workflows

    holding, release = threading.Event(), threading.Event()
    real_active = workflows.conversation_state_active

    def pausing_active(**kwargs):
        state = real_active(**kwargs)
        if threading.current_thread().name == "first":
            holding.set()
            release.wait(TIMEOUT_S)
        return state

    monkeypatch.setattr(workflows, "conversation_state_active", pausing_active)
    finished: dict[str, threading.Event] = {"first": threading.Event(), "second": threading.Event()}
    errors: list[BaseException] = []

    def handle(message):
        try:
            with schema_context(tenant.schema_name):
                automation_handle_inbound(message=message, now=now)
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)
        finally:
            finished[threading.current_thread().name].set()
            connections.close_all()

    first = threading.Thread(target=handle, args=(two,), name="first")
    second = threading.Thread(target=handle, args=(three,), name="second")
    first.start()
    assert holding.wait(TIMEOUT_S)
    second.start()
    blocked = not finished["second"].wait(0.5)  # it cannot get past the lock the first one holds
    release.set()
    first.join(TIMEOUT_S)
    second.join(TIMEOUT_S)

    assert not errors
    assert blocked
    answers = [(wamid, reply.purpose, reply.text) for wamid, reply in sent if wamid in (two.wamid, three.wamid)]
    summary = [text for wamid, purpose, text in answers if wamid == two.wamid]
    assert len(summary) == 1 and "Coffee × 2 = 240" in summary[0]
    # "3" arrived while the cart waited for Add another / Checkout / Cancel: a re-prompt, not a second cart.
    assert [purpose for wamid, purpose, _ in answers if wamid == three.wamid] == ["reprompt", "reprompt"]

    def final_state():
        with schema_context(tenant.schema_name):
            return ConversationState.objects.filter(contact=contact, status="active").values(
                "current_step", "failed_attempts", "context", "last_processed_wamid").get()

    state = run_committed(final_state)
    assert (state["current_step"], state["failed_attempts"], state["context"]["quantity"]) == ("add_to_cart", 1, 2)
    assert state["last_processed_wamid"] == three.wamid


def _messages(tenant, number, contact, now, texts):
    with schema_context(tenant.schema_name):
        return [inbound_message_create(number=number, contact=contact, at=now, text=text) for text in texts]
