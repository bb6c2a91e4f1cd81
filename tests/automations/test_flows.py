"""WhatsApp Flows in workflows: a step that sends a Flow, and a published Flow linked to a workflow
(flows_builder) that replaces the conversational version."""

from __future__ import annotations

from automations.models import AutomatedReply, ConversationState
from automations.services import workflow_create, workflow_template_create
from flows_builder.models import FlowToken
from messaging.models import Message
from tests.automations.test_templates import BUTTONS
from tests.flows_builder.factories import WhatsAppFlowFactory


def _published_flow(number, **fields):
    return WhatsAppFlowFactory(account=number.account, meta_flow_id="1234567890", meta_status="PUBLISHED", **fields)


def test_a_step_sends_a_flow_through_the_pipeline(tenant_a, in_tenant, customer_a, number_a):
    with in_tenant(tenant_a):
        flow = _published_flow(number_a, flow_definition_name="")
        workflow = workflow_create(name="installation", definition={"start": "form", "steps": {
            "form": {"send": {"flow": {"name": flow.name, "body": "Hi {name}, book your installation",
                                       "cta": "Book"}}}}})
        workflow_template_create(template_name="install", type="button", structure=BUTTONS,
                                 trigger_keywords=["install"], workflow=workflow)

    [reply] = customer_a.says("I want to install")

    assert reply.kind == "flow"
    with in_tenant(tenant_a):
        sent = Message.objects.get(direction="out")
        interactive = sent.request_payload["interactive"]
        assert interactive["type"] == "flow"
        assert interactive["action"]["parameters"]["flow_id"] == "1234567890"
        assert interactive["action"]["parameters"]["flow_cta"] == "Book"
        token = FlowToken.objects.get()
        assert interactive["action"]["parameters"]["flow_token"] == token.token
        assert (token.flow_id, token.contact_id) == (flow.pk, customer_a.contact.pk)
        assert AutomatedReply.objects.get(outbound_message=sent).step == "form"


def test_a_published_flow_linked_to_a_workflow_replaces_it(tenant_a, in_tenant, customer_a, builtins_a, number_a):
    with in_tenant(tenant_a):
        _published_flow(number_a, flow_definition_name="support")

    customer_a.says("Hi")
    [reply] = customer_a.taps("get_support", "Get Support")

    assert reply.kind == "flow" and reply.workflow == "support"
    with in_tenant(tenant_a):
        assert Message.objects.filter(direction="out", request_payload__interactive__type="flow").count() == 1
        assert not ConversationState.objects.filter(status="active").exists()
