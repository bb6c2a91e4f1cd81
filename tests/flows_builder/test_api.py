"""The tenant API of flows: CRUD with validation errors, Graph actions, responses, records, isolation."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings

from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.models import CleaningRequest, FlowResponse, InstallationRequest, WhatsAppFlow
from flows_builder.responses import flow_response_record
from tests.flows_builder.factories import FlowTokenFactory, WhatsAppFlowFactory
from tests.flows_builder.test_responses import CLEANING_ANSWERS, STARLINK_ANSWERS

STARLINK_JSON = BUILTIN_FLOWS["starlink_installation"].flow_json


def create_body(account: int, **overrides) -> dict:
    return {
        "account_id": account,
        "name": "starlink_installation",
        "friendly_name": "Starlink installation",
        "categories": ["APPOINTMENT_BOOKING"],
        "flow_json": copy.deepcopy(STARLINK_JSON),
        "flow_definition_name": "starlink_installation",
        "trigger_keywords": ["  Starlink ", "STARLINK", "install   starlink"],
        **overrides,
    }


def test_create_list_get_update_delete(api_a, tenant_a, in_tenant, alpha_account):
    created = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk))
    assert created.status_code == 201, created.content
    flow = created.json()
    assert flow["name"] == "starlink_installation" and flow["sync_status"] == "draft"
    assert flow["trigger_keywords"] == ["starlink", "install starlink"]
    assert flow["first_screen"] == "CUSTOMER_INFO" and flow["json_changed"] is True
    with in_tenant(tenant_a):
        assert WhatsAppFlow.objects.get(pk=flow["id"]).flow_json == STARLINK_JSON

    listed = api_a.get("/api/v1/flows?is_active=true").json()
    assert (
        listed["count"] == 1
        and listed["items"][0]["id"] == flow["id"]
        and "flow_json" not in listed["items"][0]
    )
    assert api_a.get(f"/api/v1/flows/{flow['id']}").json()["flow_json"] == STARLINK_JSON

    patched = api_a.patch_json(
        f"/api/v1/flows/{flow['id']}", {"friendly_name": "Starlink booking", "is_active": False}
    )
    assert patched.status_code == 200 and patched.json()["friendly_name"] == "Starlink booking"
    assert patched.json()["is_active"] is False and patched.json()["categories"] == ["APPOINTMENT_BOOKING"]

    assert api_a.delete(f"/api/v1/flows/{flow['id']}").status_code == 204
    with in_tenant(tenant_a):
        assert not WhatsAppFlow.objects.exists()


def test_invalid_flow_json_gets_422_with_a_pointer_per_error_and_nothing_saved(
    api_a, tenant_a, in_tenant, alpha_account
):
    broken = copy.deepcopy(STARLINK_JSON)
    broken["screens"][1]["id"] = "CUSTOMER_INFO"  # duplicate id
    broken["screens"][0]["layout"]["children"][0]["text"] = "x" * 81  # TextHeading over 80
    response = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk, flow_json=broken))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_flow_json"
    pointers = {(d["pointer"], d["error"]) for d in error["details"]}
    assert ("/screens/1/id", "DUPLICATE_SCREEN_ID") in pointers
    assert ("/screens/0/layout/children/0/text", "TEXT_TOO_LONG") in pointers
    assert all(d["message"] for d in error["details"])
    with in_tenant(tenant_a):
        assert not WhatsAppFlow.objects.exists()

    flow = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk)).json()
    patched = api_a.patch_json(
        f"/api/v1/flows/{flow['id']}", {"flow_json": broken, "friendly_name": "changed"}
    )
    assert patched.status_code == 422
    with in_tenant(tenant_a):
        kept = WhatsAppFlow.objects.get(pk=flow["id"])
    assert kept.flow_json == STARLINK_JSON and kept.friendly_name == "Starlink installation"  # nothing lost


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"name": "Starlink Flow"}, 422, "invalid_flow"),
        ({"categories": ["BOOKINGS"]}, 422, "invalid_flow"),
        ({"categories": []}, 422, "invalid_flow"),
        ({"account_id": 987654}, 404, "account_not_found"),
        ({"endpoint_phone_number_id": "999"}, 404, "phone_number_not_found"),
        ({"flow_json": "not an object"}, 422, "validation_error"),
    ],
)
def test_bad_fields_get_clear_errors(api_a, alpha_account, overrides, status, code):
    response = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk, **overrides))
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_patch_refuses_null_for_required_fields_and_unlinks_with_null(api_a, alpha_account):
    flow = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk)).json()
    refused = api_a.patch_json(f"/api/v1/flows/{flow['id']}", {"friendly_name": None, "categories": None})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_flow"
    assert [d["field"] for d in refused.json()["error"]["details"]] == ["categories", "friendly_name"]
    unlinked = api_a.patch_json(f"/api/v1/flows/{flow['id']}", {"flow_definition_name": None})
    assert unlinked.status_code == 200 and unlinked.json()["flow_definition_name"] is None


def test_a_name_is_unique_per_tenant_not_platform(api_a, api_b, tenant_b, in_tenant, alpha_account):
    assert api_a.post_json("/api/v1/flows", create_body(alpha_account.pk)).status_code == 201
    taken = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "flow_name_taken"
    with in_tenant(tenant_b):
        from tests.flows_builder.factories import WhatsAppAccountFactory

        beta_account = WhatsAppAccountFactory(waba_id="200000000000999")
    assert api_b.post_json("/api/v1/flows", create_body(beta_account.pk)).status_code == 201


def test_validate_without_saving_and_stored(api_a, alpha_account):
    ok = api_a.post_json("/api/v1/flows/validate", {"flow_json": STARLINK_JSON})
    assert ok.json() == {"valid": True, "errors": []}
    bad = api_a.post_json("/api/v1/flows/validate", {"flow_json": '{"version": "7.1", "screens": ['})
    assert bad.json()["valid"] is False and bad.json()["errors"][0]["error"] == "INVALID_JSON"
    flow = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk)).json()
    assert api_a.post_json(f"/api/v1/flows/{flow['id']}/validate").json()["valid"] is True


def test_validating_deeply_nested_text_answers_errors_not_a_500(api_a, caplog):
    response = api_a.post_json("/api/v1/flows/validate", {"flow_json": "[" * 100_000 + "]" * 100_000})

    assert response.status_code == 200
    assert response.json() == {"valid": False, "errors": [{
        "pointer": "", "error": "NESTED_TOO_DEEPLY", "message": "Flow JSON may nest at most 100 levels deep."}]}
    assert "Traceback" not in caplog.text


def test_sync_publish_deprecate_through_the_api(api_a, sim, alpha_account):
    flow = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk)).json()
    synced = api_a.post_json(f"/api/v1/flows/{flow['id']}/sync")
    assert synced.status_code == 200 and synced.json()["result"] == "created, uploaded"
    meta_id = synced.json()["flow"]["meta_flow_id"]
    assert sim.state.flows[meta_id].status == "DRAFT"

    published = api_a.post_json(f"/api/v1/flows/{flow['id']}/publish")
    assert (
        published.json()["result"] == "published" and published.json()["flow"]["sync_status"] == "published"
    )
    assert sim.state.flows[meta_id].status == "PUBLISHED"

    refused = api_a.delete(f"/api/v1/flows/{flow['id']}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "flow_state_conflict"

    deprecated = api_a.post_json(f"/api/v1/flows/{flow['id']}/deprecate")
    assert (
        deprecated.json()["meta_status"] == "DEPRECATED" and sim.state.flows[meta_id].status == "DEPRECATED"
    )
    refreshed = api_a.post_json(f"/api/v1/flows/{flow['id']}/refresh-status")
    assert refreshed.status_code == 200 and refreshed.json()["meta_status"] == "DEPRECATED"

    again = api_a.post_json(f"/api/v1/flows/{flow['id']}/deprecate")
    assert again.status_code == 409


def test_sync_errors_come_back_in_the_error_shape(api_a, sim, tenant_a, in_tenant, alpha_account):
    flow = api_a.post_json("/api/v1/flows", create_body(alpha_account.pk)).json()
    with in_tenant(tenant_a):
        WhatsAppFlow.objects.filter(pk=flow["id"]).update(
            flow_json={"version": "7.1", "screens": [{"id": "lower", "title": "x", "terminal": True}]}
        )
    rejected = api_a.post_json(f"/api/v1/flows/{flow['id']}/sync", {"publish": True})
    assert rejected.status_code == 422
    error = rejected.json()["error"]
    assert (
        error["code"] == "flow_rejected_by_meta" and error["details"][0]["error"] == "INVALID_PROPERTY_VALUE"
    )
    assert api_a.get(f"/api/v1/flows/{flow['id']}").json()["sync_status"] == "error"

    with in_tenant(tenant_a):
        WhatsAppFlow.objects.filter(pk=flow["id"]).update(flow_json=STARLINK_JSON)
    from graph_simulator.faults import fault_rule_parse

    sim.simulator.faults.add(
        fault_rule_parse({"path_contains": "/assets", "status": 429, "error_code": 80007})
    )
    throttled = api_a.post_json(f"/api/v1/flows/{flow['id']}/sync")
    assert throttled.status_code == 502 and throttled.json()["error"]["code"] == "graph_error"
    assert throttled.json()["error"]["details"]["retryable"] is True and throttled["Retry-After"]


def test_activate_deactivate_and_install_builtins(api_a, alpha_account):
    installed = api_a.post_json("/api/v1/flows/install-builtins", {"account_id": alpha_account.pk})
    assert installed.status_code == 201
    assert sorted(f["name"] for f in installed.json()) == sorted(BUILTIN_FLOWS)
    assert api_a.post_json("/api/v1/flows/install-builtins", {"account_id": alpha_account.pk}).json() == []

    flow_id = installed.json()[0]["id"]
    assert api_a.post_json(f"/api/v1/flows/{flow_id}/deactivate").json()["is_active"] is False
    assert api_a.get("/api/v1/flows?is_active=false").json()["count"] == 1
    assert api_a.post_json(f"/api/v1/flows/{flow_id}/activate").json()["is_active"] is True


def test_endpoint_keys_upload_and_never_show_the_private_key(api_a, sim, alpha_number):
    created = api_a.post_json(
        "/api/v1/flows/endpoint-keys", {"phone_number_id": alpha_number.phone_number_id}
    )
    assert created.status_code == 200
    body = created.json()
    assert body["key_version"] == 1 and body["uploaded_at"] and "PUBLIC KEY" in body["public_key_pem"]
    assert body["endpoint_uri"] == f"{settings.PUBLIC_BASE_URL}/flows/endpoint/alpha/{alpha_number.phone_number_id}"
    assert sim.state.phones[alpha_number.phone_number_id].business_public_key == body["public_key_pem"]
    listed = api_a.get("/api/v1/flows/endpoint-keys")
    assert "PRIVATE" not in listed.content.decode() and "PRIVATE" not in created.content.decode()
    rotated = api_a.post_json(
        "/api/v1/flows/endpoint-keys", {"phone_number_id": alpha_number.phone_number_id, "rotate": True}
    )
    assert rotated.json()["key_version"] == 2 and rotated.json()["public_key_pem"] != body["public_key_pem"]


@pytest.fixture
def alpha_records(tenant_a, in_tenant, alpha_account, alpha_contact):
    """A processed Starlink response, a processed cleaning response and a failed one."""
    with in_tenant(tenant_a):
        starlink = WhatsAppFlowFactory(account=alpha_account)
        cleaning = WhatsAppFlowFactory(account=alpha_account, definition="solar_panel_cleaning")
        ok = flow_response_record(
            wamid="wamid.ok",
            contact=alpha_contact,
            response={
                "flow_token": FlowTokenFactory(flow=starlink, contact=alpha_contact).token,
                **STARLINK_ANSWERS,
            },
        )
        flow_response_record(
            wamid="wamid.cleaning",
            contact=alpha_contact,
            response={
                "flow_token": FlowTokenFactory(flow=cleaning, contact=alpha_contact).token,
                **CLEANING_ANSWERS,
            },
        )
        failed = flow_response_record(
            wamid="wamid.failed",
            contact=alpha_contact,
            response={
                "flow_token": FlowTokenFactory(flow=starlink, contact=alpha_contact).token,
                **STARLINK_ANSWERS,
                "time_slot": "midnight",
            },
        )
        return {
            "ok": ok,
            "failed": failed,
            "installation": InstallationRequest.objects.get(),
            "cleaning": CleaningRequest.objects.get(),
            "starlink_flow": starlink,
        }


def test_responses_and_records_through_the_api(api_a, tenant_a, in_tenant, alpha_records):
    unprocessed = api_a.get("/api/v1/flows/responses?processed=false").json()
    assert [r["id"] for r in unprocessed["items"]] == [alpha_records["failed"].pk]
    failed = api_a.get(f"/api/v1/flows/responses/{alpha_records['failed'].pk}").json()
    assert (
        failed["processing_errors"][0]["field"] == "time_slot"
        and failed["response_data"]["time_slot"] == "midnight"
    )

    with in_tenant(tenant_a):
        FlowResponse.objects.filter(pk=alpha_records["failed"].pk).update(
            response_data={**alpha_records["failed"].response_data, "time_slot": "evening"}
        )
    reprocessed = api_a.post_json(f"/api/v1/flows/responses/{alpha_records['failed'].pk}/reprocess")
    assert reprocessed.status_code == 200 and reprocessed.json()["processed"] is True
    twice = api_a.post_json(f"/api/v1/flows/responses/{alpha_records['failed'].pk}/reprocess")
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "flow_response_already_processed"

    installations = api_a.get("/api/v1/flows/installation-requests?kind=starlink").json()
    assert installations["count"] == 2
    one = api_a.get(f"/api/v1/flows/installation-requests/{alpha_records['installation'].pk}").json()
    assert one["kit_type"] == "standard_actuated" and one["preferred_date"] == "2026-12-03"
    cleaning = api_a.get(f"/api/v1/flows/cleaning-requests/{alpha_records['cleaning'].pk}").json()
    assert cleaning["panel_count"] == 24 and cleaning["roof_type"] == "pitched_tile"
    assert api_a.get("/api/v1/flows/cleaning-requests").json()["count"] == 1


def test_send_endpoint_queues_the_flow(
    api_a, tenant_a, in_tenant, alpha_account, alpha_number, alpha_contact
):
    from datetime import timedelta

    from django.utils import timezone

    from messaging.models import Conversation

    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=alpha_account, meta_flow_id="55501", meta_status="PUBLISHED")
        Conversation.objects.create(
            contact=alpha_contact,
            phone_number=alpha_number,
            service_window_expires_at=timezone.now() + timedelta(hours=1),
        )
    body = {
        "phone_number_id": alpha_number.phone_number_id,
        "to": "+16315551181",
        "body": "Book?",
        "cta": "Book",
    }
    sent = api_a.post_json(f"/api/v1/flows/{flow.pk}/send", body)
    assert sent.status_code == 202 and sent.json()["status"] == "queued"
    unknown = api_a.post_json(f"/api/v1/flows/{flow.pk}/send", {**body, "to": "4915112345678"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "contact_not_found"


def test_every_endpoint_taking_an_id_refuses_the_other_tenants_ids(
    api_a, api_b, tenant_a, in_tenant, alpha_records, alpha_number
):
    flow_id = alpha_records["starlink_flow"].pk
    response_id = alpha_records["failed"].pk
    calls = [
        ("get", f"/api/v1/flows/{flow_id}", None),
        ("patch_json", f"/api/v1/flows/{flow_id}", {"friendly_name": "hijacked"}),
        ("delete", f"/api/v1/flows/{flow_id}", None),
        ("post_json", f"/api/v1/flows/{flow_id}/validate", None),
        ("post_json", f"/api/v1/flows/{flow_id}/sync", None),
        ("post_json", f"/api/v1/flows/{flow_id}/publish", None),
        ("post_json", f"/api/v1/flows/{flow_id}/deprecate", None),
        ("post_json", f"/api/v1/flows/{flow_id}/refresh-status", None),
        ("post_json", f"/api/v1/flows/{flow_id}/activate", None),
        ("post_json", f"/api/v1/flows/{flow_id}/deactivate", None),
        (
            "post_json",
            f"/api/v1/flows/{flow_id}/send",
            {"phone_number_id": alpha_number.phone_number_id, "to": "16315551181", "body": "x", "cta": "y"},
        ),
        ("get", f"/api/v1/flows/responses/{response_id}", None),
        ("post_json", f"/api/v1/flows/responses/{response_id}/reprocess", None),
        ("get", f"/api/v1/flows/installation-requests/{alpha_records['installation'].pk}", None),
        ("get", f"/api/v1/flows/cleaning-requests/{alpha_records['cleaning'].pk}", None),
        ("post_json", "/api/v1/flows", create_body(alpha_records["starlink_flow"].account_id, name="stolen")),
        (
            "post_json",
            "/api/v1/flows/install-builtins",
            {"account_id": alpha_records["starlink_flow"].account_id},
        ),
        ("post_json", "/api/v1/flows/endpoint-keys", {"phone_number_id": alpha_number.phone_number_id}),
    ]
    for method, path, body in calls:
        response = getattr(api_b, method)(path, body) if body is not None else getattr(api_b, method)(path)
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["error"]["code"].endswith("not_found"), path
    for listing in ("/api/v1/flows", "/api/v1/flows/responses", "/api/v1/flows/installation-requests"):
        assert api_b.get(listing).json()["count"] == 0

    with in_tenant(tenant_a):  # alpha's data is untouched
        flow = WhatsAppFlow.objects.get(pk=flow_id)
        assert flow.friendly_name == "Starlink installation" and flow.is_active and flow.meta_flow_id == ""
        assert not FlowResponse.objects.get(pk=response_id).processed
    # and alpha's own key works on alpha's host
    assert api_a.get(f"/api/v1/flows/{flow_id}").status_code == 200


def test_the_api_needs_a_key_of_this_workspace(api_a, api_b, tenant_a):
    from tests.conftest import ApiClient

    assert ApiClient("alpha.localhost").get("/api/v1/flows").status_code == 401
    assert ApiClient("alpha.localhost", api_b.key).get("/api/v1/flows").status_code == 401
