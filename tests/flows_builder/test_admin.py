"""The tenant admin of flows: pages, validated saves, and the actions (through the same services)."""

from __future__ import annotations

import copy
import json

import pytest

from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.models import FlowResponse, WhatsAppFlow
from flows_builder.responses import flow_response_record
from tests.conftest import ApiClient
from tests.factories import TenantUserFactory
from tests.flows_builder.factories import FlowTokenFactory, WhatsAppFlowFactory
from tests.flows_builder.test_responses import STARLINK_ANSWERS


@pytest.fixture
def admin_client(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        user = TenantUserFactory(username="flows-admin")
    client = ApiClient("alpha.localhost")
    logged_in = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": "correct horse battery staple"}
    )
    assert logged_in.status_code == 302
    return client


def form_data(account_id: int, **overrides) -> dict:
    definition = BUILTIN_FLOWS["date_picker"]
    return {
        "account": account_id,
        "name": "date_picker",
        "friendly_name": "Date picker",
        "description": "",
        "categories": ["OTHER"],
        "flow_json": json.dumps(definition.flow_json),
        "flow_definition_name": "",
        "trigger_keywords": "[]",
        "is_active": "on",
        **overrides,
    }


def test_pages_render(admin_client, tenant_a, in_tenant, alpha_account, alpha_contact):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account)
        response = flow_response_record(
            wamid="wamid.admin",
            contact=alpha_contact,
            response={
                "flow_token": FlowTokenFactory(flow=flow, contact=alpha_contact).token,
                **STARLINK_ANSWERS,
            },
        )
    for path in (
        "/admin/flows_builder/whatsappflow/",
        f"/admin/flows_builder/whatsappflow/{flow.pk}/change/",
        "/admin/flows_builder/flowresponse/",
        f"/admin/flows_builder/flowresponse/{response.pk}/change/",
        "/admin/flows_builder/installationrequest/",
        f"/admin/flows_builder/installationrequest/{response.record_id}/change/",
        "/admin/flows_builder/cleaningrequest/",
        "/admin/flows_builder/flowendpointkey/",
    ):
        assert admin_client.get(path).status_code == 200, path
    page = admin_client.get(f"/admin/flows_builder/flowresponse/{response.pk}/change/").content.decode()
    assert "standard_actuated" in page and "Created flows_builder.installationrequest" in page


def test_admin_save_validates_the_flow_json(admin_client, tenant_a, in_tenant, alpha_account):
    broken = copy.deepcopy(BUILTIN_FLOWS["date_picker"].flow_json)
    broken["screens"][0]["id"] = "SUCCESS"
    refused = admin_client.post(
        "/admin/flows_builder/whatsappflow/add/", form_data(alpha_account.pk, flow_json=json.dumps(broken))
    )
    assert refused.status_code == 200  # the form again, with the error
    assert "/screens/0/id" in refused.content.decode()
    with in_tenant(tenant_a):
        assert not WhatsAppFlow.objects.exists()

    saved = admin_client.post("/admin/flows_builder/whatsappflow/add/", form_data(alpha_account.pk))
    assert saved.status_code == 302
    with in_tenant(tenant_a):
        flow = WhatsAppFlow.objects.get()
    assert flow.name == "date_picker" and flow.categories == ["OTHER"]


def test_admin_actions_sync_publish_deprecate_activate(admin_client, sim, tenant_a, in_tenant, alpha_account):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account)
    changelist = "/admin/flows_builder/whatsappflow/"

    def act(action: str):
        return admin_client.post(changelist, {"action": action, "_selected_action": [flow.pk]}, follow=True)

    assert "Synced 1 item(s)." in act("sync_flows").content.decode()
    assert "Published 1 item(s)." in act("publish_flows").content.decode()
    assert "Deprecated 1 item(s)." in act("deprecate_flows").content.decode()
    act("deactivate_flows")
    with in_tenant(tenant_a):
        flow.refresh_from_db()
    assert flow.meta_status == "DEPRECATED" and not flow.is_active
    assert sim.state.flows[flow.meta_flow_id].status == "DEPRECATED"
    failed = act("deprecate_flows").content.decode()  # a second time: refused, reported, nothing breaks
    assert "Only a published flow can be deprecated" in failed
    act("activate_flows")
    with in_tenant(tenant_a):
        flow.refresh_from_db()
    assert flow.is_active


def test_admin_reprocess_and_mark_processed(admin_client, tenant_a, in_tenant, alpha_account, alpha_contact):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account)
        bad = flow_response_record(
            wamid="wamid.bad-admin",
            contact=alpha_contact,
            response={
                "flow_token": FlowTokenFactory(flow=flow, contact=alpha_contact).token,
                **STARLINK_ANSWERS,
                "city": "",
            },
        )
        other = flow_response_record(
            wamid="wamid.other-admin",
            contact=alpha_contact,
            response={"flow_token": FlowTokenFactory(flow=flow, contact=alpha_contact).token, "junk": True},
        )
        FlowResponse.objects.filter(pk=bad.pk).update(response_data={**bad.response_data, "city": "Montauk"})
    changelist = "/admin/flows_builder/flowresponse/"
    admin_client.post(changelist, {"action": "reprocess", "_selected_action": [bad.pk]})
    admin_client.post(changelist, {"action": "mark_processed", "_selected_action": [other.pk]})
    with in_tenant(tenant_a):
        bad.refresh_from_db()
        other.refresh_from_db()
    assert bad.processed and bad.record_id
    assert (
        other.processed
        and other.record_id is None
        and "Marked processed by flows-admin." in other.processing_notes
    )
