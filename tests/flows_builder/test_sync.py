"""Sync and publish against the Graph API simulator, a real HTTP server."""

from __future__ import annotations

import copy
import json

import pytest
from django.utils import timezone

from flows_builder.errors import FlowGraphError, FlowRejectedByMeta, FlowStateConflict, FlowSyncInProgress
from flows_builder.models import WhatsAppFlow
from flows_builder.sync import (
    flow_deprecate,
    flow_meta_draft_delete,
    flow_status_apply,
    flow_status_refresh,
    flow_sync,
)
from graph_simulator.faults import fault_rule_parse
from tests.flows_builder.factories import WABA_ID, WhatsAppFlowFactory

# Passes our validator only because it is written to the row directly, as a JSON from before a
# validator rule, or from a Meta rule we do not know, would be: Meta (the simulator) refuses it.
META_REJECTED_JSON = {
    "version": "7.1",
    "screens": [
        {
            "id": "welcome",
            "title": "Hi",
            "terminal": True,
            "layout": {"type": "SingleColumnLayout", "children": []},
        },
        {"id": "SUCCESS", "title": "Done", "layout": {"type": "SingleColumnLayout", "children": []}},
    ],
}


def graph_calls(sim, **filters):
    return [(r["method"], r["object_id"], r["edge"]) for r in sim.requests(**filters)]


@pytest.fixture
def flow(tenant_a, in_tenant, alpha_account):
    with in_tenant(tenant_a):
        return WhatsAppFlowFactory(account=alpha_account)


def test_first_sync_creates_the_meta_flow_and_uploads_the_json(sim, tenant_a, in_tenant, flow):
    with in_tenant(tenant_a):
        outcome = flow_sync(flow=flow)
        flow.refresh_from_db()

    assert outcome.created and outcome.uploaded and not outcome.published
    assert graph_calls(sim) == [("POST", WABA_ID, "flows"), ("POST", flow.meta_flow_id, "assets")]
    create, upload = sim.requests()
    assert create["body"] == {"name": "starlink_installation", "categories": ["APPOINTMENT_BOOKING"]}
    assert create["authorization"] == "Bearer …0777"
    assert upload["body"]["name"] == "flow.json" and upload["body"]["asset_type"] == "FLOW_JSON"
    remote = sim.state.flows[flow.meta_flow_id]
    assert remote.status == "DRAFT" and json.loads(remote.flow_json) == flow.flow_json
    assert flow.sync_status == WhatsAppFlow.SyncStatus.DRAFT and flow.meta_status == "DRAFT"
    assert not flow.json_changed and flow.last_synced_at and flow.last_sync_error == ""


def test_unchanged_flow_is_not_uploaded_again_and_force_reuploads(sim, tenant_a, in_tenant, flow):
    with in_tenant(tenant_a):
        flow_sync(flow=flow)
        meta_id = flow.meta_flow_id
        sim.simulator.requests.clear()
        assert flow_sync(flow=flow).describe() == "unchanged"
        assert sim.requests() == []
        outcome = flow_sync(flow=flow, force=True)
    assert outcome.uploaded and not outcome.created
    assert graph_calls(sim) == [("POST", meta_id, "assets")]


def test_publish_then_a_changed_json_becomes_a_new_meta_flow(sim, tenant_a, in_tenant, flow):
    with in_tenant(tenant_a):
        published = flow_sync(flow=flow, publish=True)
        first_id = flow.meta_flow_id
        assert published.published and flow.sync_status == "published" and flow.meta_status == "PUBLISHED"
        assert sim.state.flows[first_id].status == "PUBLISHED"

        changed = copy.deepcopy(flow.flow_json)
        changed["screens"][0]["title"] = "Your details, please"
        WhatsAppFlow.objects.filter(pk=flow.pk).update(flow_json=changed)
        flow.refresh_from_db()
        assert flow.json_changed

        outcome = flow_sync(flow=flow, publish=True)
        flow.refresh_from_db()

    assert outcome.new_version and outcome.uploaded and outcome.published
    assert flow.version == 2 and flow.meta_flow_id != first_id
    assert flow.superseded_meta_flow_ids == [first_id]
    new_remote = sim.state.flows[flow.meta_flow_id]
    assert new_remote.name == "starlink_installation_v2" and new_remote.status == "PUBLISHED"
    # The published original was never edited: Meta forbids it.
    assert json.loads(sim.state.flows[first_id].flow_json)["screens"][0]["title"] != "Your details, please"
    assert len(sim.requests(path_contains=f"{first_id}/assets")) == 1


def test_a_flow_json_meta_rejects_stores_its_errors_and_sync_status_error(sim, tenant_a, in_tenant, flow):
    with in_tenant(tenant_a):
        WhatsAppFlow.objects.filter(pk=flow.pk).update(flow_json=META_REJECTED_JSON)
        flow.refresh_from_db()
        with pytest.raises(FlowRejectedByMeta) as raised:
            flow_sync(flow=flow, publish=True)
        flow.refresh_from_db()

    errors = raised.value.details
    assert {e["error"] for e in errors} == {"INVALID_PROPERTY_VALUE"}
    assert flow.sync_status == WhatsAppFlow.SyncStatus.ERROR
    assert flow.validation_errors == errors and len(errors) == 2
    assert flow.last_sync_error.startswith("Meta rejected the Flow JSON with 2 validation errors")
    assert flow.json_changed  # nothing valid was synced
    assert flow.meta_status == "DRAFT" and sim.state.flows[flow.meta_flow_id].status == "DRAFT"
    assert not sim.requests(path_contains="publish")  # never published a rejected JSON


def test_graph_failure_is_recorded_and_the_next_sync_reuses_the_meta_flow(sim, tenant_a, in_tenant, flow):
    sim.simulator.faults.add(
        fault_rule_parse({"path_contains": "/assets", "status": 500, "error_code": 2, "times": 1})
    )
    with in_tenant(tenant_a):
        with pytest.raises(FlowGraphError) as raised:
            flow_sync(flow=flow)
        flow.refresh_from_db()
        assert raised.value.status == 502 and raised.value.details["retryable"] is True
        assert flow.sync_status == "error" and "code 2" in flow.last_sync_error
        assert "EAAflows" not in flow.last_sync_error and "EAAflows" not in str(raised.value.details)
        meta_id = flow.meta_flow_id
        assert meta_id  # created before the upload failed

        flow_sync(flow=flow)
        flow.refresh_from_db()
    assert flow.meta_flow_id == meta_id and flow.sync_status == "draft"
    assert len(sim.requests(path_contains=f"{WABA_ID}/flows")) == 1  # one Meta flow, never two


def test_a_flow_being_synced_is_not_synced_twice(sim, tenant_a, in_tenant, flow):
    with in_tenant(tenant_a):
        WhatsAppFlow.objects.filter(pk=flow.pk).update(sync_status="syncing", sync_started_at=timezone.now())
        with pytest.raises(FlowSyncInProgress):
            flow_sync(flow=flow)
    assert sim.requests() == []


def test_deprecate_refresh_and_draft_delete(sim, tenant_a, in_tenant, flow, alpha_account):
    with in_tenant(tenant_a):
        with pytest.raises(FlowStateConflict):
            flow_deprecate(flow=flow)  # never published
        flow_sync(flow=flow, publish=True)
        flow_deprecate(flow=flow)
        flow.refresh_from_db()
        assert flow.meta_status == "DEPRECATED" and sim.state.flows[flow.meta_flow_id].status == "DEPRECATED"

        sim.state.flows[flow.meta_flow_id].status = "BLOCKED"
        flow_status_refresh(flow=flow)
        assert flow.meta_status == "BLOCKED"

        draft = WhatsAppFlowFactory(account=alpha_account, definition="date_picker")
        flow_sync(flow=draft)
        draft_id = draft.meta_flow_id
        flow_meta_draft_delete(flow=draft)
        draft.refresh_from_db()
    assert draft.meta_flow_id == "" and draft_id not in sim.state.flows
    assert ("DELETE", draft_id, None) in graph_calls(sim)


def test_an_account_without_token_gets_a_clear_error(sim, tenant_a, in_tenant, flow):
    with in_tenant(tenant_a):
        flow.account.access_token = None
        flow.account.save()
        flow.refresh_from_db()
        with pytest.raises(Exception) as raised:
            flow_sync(flow=flow)
    assert raised.value.code == "account_not_ready" and sim.requests() == []


def test_flow_status_webhook_changes_apply_to_the_current_meta_flow_only(sim, tenant_a, in_tenant, flow):
    with in_tenant(tenant_a):
        flow_sync(flow=flow, publish=True)
        assert (
            flow_status_apply(meta_flow_id=flow.meta_flow_id, new_status="THROTTLED").meta_status
            == "THROTTLED"
        )
        assert flow_status_apply(meta_flow_id="not-ours", new_status="BLOCKED") is None
        flow.refresh_from_db()
    assert flow.meta_status == "THROTTLED" and flow.sync_status == "published" and flow.can_send_published
