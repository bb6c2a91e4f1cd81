"""Flow definitions in the database: built-ins, derived change tracking, links, the inbound hook."""

from __future__ import annotations

import copy
import json

from automations.models import Workflow
from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.links import flow_link_warnings
from flows_builder.models import FlowResponse, WhatsAppFlow
from flows_builder.responses import handle_inbound_nfm_reply
from flows_builder.selectors import flow_linked_to
from flows_builder.services import flow_delete, flow_update, install_builtin_flows
from flows_builder.sync import flow_sync
from messaging.models import Conversation, Message
from tests.flows_builder.factories import FlowTokenFactory, WhatsAppFlowFactory
from tests.flows_builder.test_responses import STARLINK_ANSWERS, nfm_reply_envelope
from waba.webhook_events import parse_envelope


def test_install_builtin_flows_is_idempotent_and_keeps_tenant_edits(
    tenant_a, tenant_b, in_tenant, alpha_account
):
    with in_tenant(tenant_a):
        created = install_builtin_flows(alpha_account)
        assert sorted(flow.name for flow in created) == sorted(BUILTIN_FLOWS)
        starlink = WhatsAppFlow.objects.get(name="starlink_installation")
        assert starlink.flow_json == BUILTIN_FLOWS["starlink_installation"].flow_json
        assert starlink.flow_definition_name == "starlink_installation"
        assert starlink.trigger_keywords == ["starlink", "starlink installation", "install starlink"]
        flow_update(flow=starlink, friendly_name="Our Starlink booking")
        assert install_builtin_flows(alpha_account) == []
        assert WhatsAppFlow.objects.get(name="starlink_installation").friendly_name == "Our Starlink booking"
        # The registry's JSON was copied, not shared.
        starlink.flow_json["screens"][0]["title"] = "edited"
        assert BUILTIN_FLOWS["starlink_installation"].flow_json["screens"][0]["title"] != "edited"
    with in_tenant(tenant_b):
        assert not WhatsAppFlow.objects.exists()  # another tenant's schema got nothing


def test_changed_since_last_sync_is_derived_from_the_json(sim, tenant_a, in_tenant, alpha_account):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account)
        assert flow.json_changed
        flow_sync(flow=flow)
        assert not flow.json_changed
        reordered = json.loads(
            json.dumps(flow.flow_json), object_pairs_hook=lambda pairs: dict(reversed(pairs))
        )
        flow_update(flow=flow, flow_json=reordered)
        assert not flow.json_changed  # key order is not a change
        edited = copy.deepcopy(flow.flow_json)
        edited["screens"][0]["title"] = "Hello"
        flow_update(flow=flow, flow_json=edited)
        assert flow.json_changed


def test_linked_flow_selector_and_missing_conversational_flows(tenant_a, in_tenant, alpha_account):
    with in_tenant(tenant_a):
        draft = WhatsAppFlowFactory(account=alpha_account)
        assert flow_linked_to(conversational_flow_name="starlink_installation") is None  # not published
        WhatsAppFlow.objects.filter(pk=draft.pk).update(meta_flow_id="77", meta_status="PUBLISHED")
        assert flow_linked_to(conversational_flow_name="starlink_installation").pk == draft.pk
        WhatsAppFlow.objects.filter(pk=draft.pk).update(is_active=False)
        assert flow_linked_to(conversational_flow_name="starlink_installation") is None  # falls back
        assert flow_link_warnings(flow=draft) == [
            "linked conversational flow 'starlink_installation' does not exist"
        ]
        # The automations app answers for its conversational flows (workflows).
        Workflow.objects.create(name="starlink_installation", definition={})
        assert flow_link_warnings(flow=draft) == []
        picker = WhatsAppFlowFactory(account=alpha_account, definition="date_picker")
        assert flow_link_warnings(flow=picker) == []  # a reusable component links to nothing


def test_deleting_a_flow_removes_its_meta_draft_and_keeps_responses(
    sim, tenant_a, in_tenant, alpha_account, alpha_contact
):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account, definition="date_picker")
        flow_sync(flow=flow)
        meta_id = flow.meta_flow_id
        token = FlowTokenFactory(flow=flow, contact=alpha_contact)
        from flows_builder.responses import flow_response_record

        response = flow_response_record(
            wamid="wamid.keep",
            contact=alpha_contact,
            response={"flow_token": token.token, "selected_date": "2026-12-01"},
        )
        flow_delete(flow=flow)
        response.refresh_from_db()
    assert meta_id not in sim.state.flows
    assert response.flow_id is None and response.flow_name == "date_picker"
    assert response.response_data["selected_date"] == "2026-12-01"


def test_inbound_hook_ignores_other_interactive_replies(tenant_a, in_tenant, alpha_number, alpha_contact):
    with in_tenant(tenant_a):
        conversation = Conversation.objects.create(contact=alpha_contact, phone_number=alpha_number)
        common = {
            "conversation": conversation,
            "contact": alpha_contact,
            "phone_number": alpha_number,
            "direction": "in",
            "type": "interactive",
            "status": "received",
        }
        button = Message.objects.create(
            wamid="wamid.b", content={"kind": "button_reply", "id": "x"}, **common
        )
        address = Message.objects.create(
            wamid="wamid.a",
            content={"kind": "nfm_reply", "name": "address_message", "response": {}},
            **common,
        )
        assert handle_inbound_nfm_reply(button) is None
        assert handle_inbound_nfm_reply(address) is None
        assert not FlowResponse.objects.exists()


def test_inbound_store_dispatches_flow_replies_to_the_hook(
    tenant_a, in_tenant, alpha_account, alpha_number, alpha_contact
):
    """Through messaging's real inbound store and dispatch point: the hook registered in FlowsBuilderConfig.ready()."""
    from messaging.inbound import inbound_message_store

    with in_tenant(tenant_a):
        token = FlowTokenFactory(flow=WhatsAppFlowFactory(account=alpha_account), contact=alpha_contact)
        envelope = nfm_reply_envelope(STARLINK_ANSWERS, token.token)
        envelope["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = (
            alpha_number.phone_number_id
        )
        [event] = parse_envelope(envelope)
        first = inbound_message_store(event=event)
        second = inbound_message_store(event=event)
        response = FlowResponse.objects.get()
    assert first.created and not second.created
    assert response.processed and response.record_type == "flows_builder.installationrequest"
