"""Marking a processed flow response unprocessed again through the API: state, conflict, isolation."""

from __future__ import annotations

import pytest

from flows_builder.models import FlowResponse, InstallationRequest
from flows_builder.responses import flow_response_record
from tests.flows_builder.factories import FlowTokenFactory, WhatsAppFlowFactory
from tests.flows_builder.test_responses import STARLINK_ANSWERS


@pytest.fixture
def processed_response(tenant_a, in_tenant, alpha_account, alpha_contact) -> FlowResponse:
    """A Starlink response that created its installation request."""
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account)
        response = flow_response_record(
            wamid="wamid.unprocess",
            contact=alpha_contact,
            response={"flow_token": FlowTokenFactory(flow=flow, contact=alpha_contact).token, **STARLINK_ANSWERS},
        )
        assert response.processed and response.record_id is not None
        return response


def test_unprocess_reopens_a_processed_response_once(api_a, tenant_a, in_tenant, processed_response):
    path = f"/api/v1/flows/responses/{processed_response.pk}/unprocess"
    reopened = api_a.post_json(path)
    assert reopened.status_code == 200, reopened.content
    body = reopened.json()
    assert body["processed"] is False and body["processed_at"] is None
    assert body["processing_notes"].endswith("Marked unprocessed by hand.")
    assert body["record_type"] == "flows_builder.installationrequest" and body["record_id"] == processed_response.record_id
    listed = api_a.get("/api/v1/flows/responses?processed=false").json()
    assert [item["id"] for item in listed["items"]] == [processed_response.pk]
    with in_tenant(tenant_a):
        stored = FlowResponse.objects.get(pk=processed_response.pk)
        assert stored.processed is False and stored.processed_at is None
        assert stored.response_data == processed_response.response_data
        assert InstallationRequest.objects.count() == 1

    again = api_a.post_json(path)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "flow_response_not_processed"
    assert str(processed_response.pk) in again.json()["error"]["message"]

    # Reopened, it still refuses to create a second record for the same answers.
    reprocess = api_a.post_json(f"/api/v1/flows/responses/{processed_response.pk}/reprocess")
    assert reprocess.status_code == 409
    assert reprocess.json()["error"]["code"] == "flow_response_already_processed"
    with in_tenant(tenant_a):
        assert InstallationRequest.objects.count() == 1


def test_unprocess_refuses_another_tenants_response(api_a, api_b, tenant_a, in_tenant, processed_response):
    refused = api_b.post_json(f"/api/v1/flows/responses/{processed_response.pk}/unprocess")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "flow_response_not_found"
    with in_tenant(tenant_a):
        assert FlowResponse.objects.get(pk=processed_response.pk).processed is True
    missing = api_a.post_json(f"/api/v1/flows/responses/{processed_response.pk + 1000}/unprocess")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "flow_response_not_found"
