"""The flow message payload: exactly META.md's shape, a unique recorded token, clear refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from flows_builder.errors import FlowMessageInvalid, FlowNotSendable
from flows_builder.models import FlowToken, WhatsAppFlow
from flows_builder.sending import flow_message_build, flow_send, flow_send_linked
from messaging.interactive import MenuValidationError
from messaging.models import Conversation, Message
from platform_core.errors import DomainError
from tests.flows_builder.factories import WhatsAppFlowFactory


@pytest.fixture
def published_flow(tenant_a, in_tenant, alpha_account):
    with in_tenant(tenant_a):
        return WhatsAppFlowFactory(account=alpha_account, meta_flow_id="1234567890", meta_status="PUBLISHED")


def test_payload_follows_meta_and_records_a_unique_token(tenant_a, in_tenant, published_flow, alpha_contact):
    with in_tenant(tenant_a):
        payload = flow_message_build(
            flow=published_flow,
            contact=alpha_contact,
            header="Starlink installation",
            body="Book your installation in a few taps.",
            footer="Alpha Solar",
            cta="Book now",
            data={"full_name": "Kerry"},
        )
        second = flow_message_build(flow=published_flow, contact=alpha_contact, body="Again", cta="Book")
        tokens = list(FlowToken.objects.order_by("id"))

    parameters = payload["interactive"]["action"]["parameters"]
    token = parameters["flow_token"]
    assert payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16315551181",
        "type": "interactive",
        "interactive": {
            "type": "flow",
            "header": {"type": "text", "text": "Starlink installation"},
            "body": {"text": "Book your installation in a few taps."},
            "footer": {"text": "Alpha Solar"},
            "action": {
                "name": "flow",
                "parameters": {
                    "flow_message_version": "3",
                    "flow_token": token,
                    "flow_id": "1234567890",
                    "flow_cta": "Book now",
                    "mode": "published",
                    "flow_action": "navigate",
                    "flow_action_payload": {"screen": "CUSTOMER_INFO", "data": {"full_name": "Kerry"}},
                },
            },
        },
    }
    assert "header" not in second["interactive"] and "footer" not in second["interactive"]
    second_parameters = second["interactive"]["action"]["parameters"]
    assert second_parameters["flow_action_payload"] == {"screen": "CUSTOMER_INFO"}
    assert [t.token for t in tokens] == [token, second_parameters["flow_token"]] and token.startswith("ft_")
    assert all(t.flow_id == published_flow.pk and t.contact_id == alpha_contact.pk for t in tokens)


def test_refusals_name_the_problem_and_record_no_token(tenant_a, in_tenant, published_flow, alpha_contact):
    with in_tenant(tenant_a):
        with pytest.raises(MenuValidationError) as too_long:
            flow_message_build(flow=published_flow, contact=alpha_contact, body="Hi", cta="x" * 21)
        with pytest.raises(FlowMessageInvalid, match="no screen 'NOPE'"):
            flow_message_build(flow=published_flow, contact=alpha_contact, body="Hi", cta="Go", screen="NOPE")
        with pytest.raises(FlowMessageInvalid, match="no data endpoint"):
            flow_message_build(
                flow=published_flow, contact=alpha_contact, body="Hi", cta="Go", action="data_exchange"
            )
        with pytest.raises(FlowNotSendable, match="no draft"):
            flow_message_build(flow=published_flow, contact=alpha_contact, body="Hi", cta="Go", mode="draft")
        WhatsAppFlow.objects.filter(pk=published_flow.pk).update(meta_status="DEPRECATED")
        published_flow.refresh_from_db()
        with pytest.raises(FlowNotSendable, match="DEPRECATED"):
            flow_message_build(flow=published_flow, contact=alpha_contact, body="Hi", cta="Go")
        assert not FlowToken.objects.exists()
    assert too_long.value.details[0]["field"] == "action.parameters.flow_cta"
    assert too_long.value.details[0]["limit"] == 20


def test_flow_send_queues_through_the_send_pipeline(
    tenant_a, in_tenant, published_flow, alpha_contact, alpha_number
):
    with in_tenant(tenant_a):
        # Outside the 24-hour window the pipeline refuses a flow (not a template): no token is left behind.
        with pytest.raises(DomainError) as refused:
            flow_send(
                flow=published_flow, contact=alpha_contact, phone_number=alpha_number, body="Hi", cta="Go"
            )
        assert refused.value.code == "outside_service_window"
        assert not FlowToken.objects.exists()

        Conversation.objects.create(
            contact=alpha_contact,
            phone_number=alpha_number,
            last_inbound_at=timezone.now(),
            service_window_expires_at=timezone.now() + timedelta(hours=23),
        )
        queued = flow_send(
            flow=published_flow,
            contact=alpha_contact,
            phone_number=alpha_number,
            body="Book now?",
            cta="Book",
        )
        message = Message.objects.get(pk=queued.message.pk)
        token = FlowToken.objects.get()

    assert message.status == "queued" and message.type == "interactive" and message.direction == "out"
    parameters = message.request_payload["interactive"]["action"]["parameters"]
    assert parameters["flow_token"] == token.token and parameters["flow_id"] == "1234567890"
    assert message.request_payload["to"] == alpha_contact.wa_id


def test_a_linked_published_flow_replaces_its_conversational_flow_and_otherwise_falls_back(
    tenant_a, in_tenant, alpha_account, alpha_contact, alpha_number
):
    with in_tenant(tenant_a):
        Conversation.objects.create(
            contact=alpha_contact,
            phone_number=alpha_number,
            service_window_expires_at=timezone.now() + timedelta(hours=1),
        )
        flow = WhatsAppFlowFactory(account=alpha_account, description="Book a Starlink installation.")

        # Not published yet: nothing is sent, the conversational flow runs as before.
        assert (
            flow_send_linked(
                conversational_flow_name="starlink_installation",
                contact=alpha_contact,
                phone_number=alpha_number,
            )
            is None
        )
        assert (
            flow_send_linked(
                conversational_flow_name="main_menu", contact=alpha_contact, phone_number=alpha_number
            )
            is None
        )
        assert not Message.objects.exists() and not FlowToken.objects.exists()

        WhatsAppFlow.objects.filter(pk=flow.pk).update(meta_flow_id="4242", meta_status="PUBLISHED")
        queued = flow_send_linked(
            conversational_flow_name="starlink_installation", contact=alpha_contact, phone_number=alpha_number
        )
        message = Message.objects.get(pk=queued.message.pk)

    interactive = message.request_payload["interactive"]
    assert interactive["body"] == {"text": "Book a Starlink installation."}
    assert interactive["action"]["parameters"]["flow_id"] == "4242"
    assert interactive["action"]["parameters"]["flow_cta"] == "Start"
