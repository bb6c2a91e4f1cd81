"""Events are written with the change they report, in its transaction, only when an endpoint
subscribes; the lower apps' signals and saves become the documented event types."""

from __future__ import annotations

import pytest
from django.db import transaction

from automations.services.handoffs import handoff_open
from automations.services.support import support_ticket_create
from integrations.models import Delivery, Event
from integrations.services import endpoint_create, endpoint_update
from messaging.models import Message
from messaging.signals import inbound_message_stored
from tests.factories import ContactFactory, ConversationFactory, MessageFactory, PhoneNumberFactory
from waba.webhook_events import AccountEvent
from webhooks.signals import account_event_applied


@pytest.fixture
def endpoint(tenant_a, in_tenant, allow_private):
    with in_tenant(tenant_a):
        endpoint, _ = endpoint_create(
            url="http://127.0.0.1:9/hooks",
            event_types=[
                "support_ticket.created",
                "conversation.handed_off",
                "message.received",
                "template.status_changed",
                "account.health_changed",
            ],
        )
        return endpoint


def test_a_ticket_opened_in_a_transaction_that_rolls_back_leaves_no_event(tenant_a, in_tenant, endpoint):
    with in_tenant(tenant_a):
        contact = ContactFactory.create()
        with pytest.raises(RuntimeError), transaction.atomic():
            support_ticket_create(
                contact=contact, phone_number=None, issue_type="billing", description="Help"
            )
            assert Event.objects.count() == 1  # written with the ticket...
            raise RuntimeError("the change fails")
        assert not Event.objects.exists()  # ...and gone with it
        assert not Delivery.objects.exists()

        ticket = support_ticket_create(
            contact=contact, phone_number=None, issue_type="billing", description="Help"
        )
        event = Event.objects.get()
        assert event.type == "support_ticket.created"
        assert event.data["ticket"]["id"] == ticket.pk
        assert event.data["contact"]["wa_id"] == contact.wa_id
        assert list(Delivery.objects.values_list("endpoint_id", "state")) == [(endpoint.pk, "pending")]


def test_no_event_is_written_when_no_enabled_endpoint_subscribes(tenant_a, in_tenant, endpoint):
    with in_tenant(tenant_a):
        endpoint_update(endpoint=endpoint, event_types=["order.created"])
        contact = ContactFactory.create()
        support_ticket_create(contact=contact, phone_number=None, issue_type="billing", description="Help")
        endpoint_update(endpoint=endpoint, event_types=["support_ticket.created"], is_enabled=False)
        support_ticket_create(contact=contact, phone_number=None, issue_type="billing", description="Again")
        assert not Event.objects.exists()


def test_a_handoff_and_an_inbound_message_become_events(tenant_a, in_tenant, endpoint):
    with in_tenant(tenant_a):
        phone = PhoneNumberFactory.create()
        contact = ContactFactory.create()
        handoff_open(contact=contact, phone_number=phone, opened_by="contact", reason="wants a person")
        conversation = ConversationFactory.create(contact=contact, phone_number=phone)
        message = MessageFactory.create(conversation=conversation, body="hello")
        inbound_message_stored.send_in_savepoints(sender=Message, message=message)

        events = {event.type: event.data for event in Event.objects.all()}
        assert events["conversation.handed_off"]["handoff"]["reason"] == "wants a person"
        assert events["message.received"]["message"]["text"] == "hello"
        assert events["message.received"]["contact"]["wa_id"] == contact.wa_id


def test_account_fields_become_template_and_health_events(tenant_a, in_tenant, endpoint):
    with in_tenant(tenant_a):
        for field in ("message_template_status_update", "phone_number_quality_update", "flows"):
            account_event_applied.send(
                sender=field,
                event=AccountEvent(waba_id="111", field=field, value={"event": "APPROVED"}),
            )
        assert sorted(Event.objects.values_list("type", flat=True)) == [
            "account.health_changed",
            "template.status_changed",
        ]
