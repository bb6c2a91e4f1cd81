"""The webhook endpoints API: CRUD, the secret shown only at creation and after a roll, test
events, the delivery log with filters, replays; another tenant's ids are 404."""

from __future__ import annotations

import pytest

from integrations.models import Delivery, Endpoint, Event
from integrations.services import endpoint_create, endpoint_test_send


@pytest.fixture
def beta_endpoint(tenant_b, in_tenant, allow_private):
    with in_tenant(tenant_b):
        endpoint, _ = endpoint_create(url="http://127.0.0.1:9/beta", event_types=["order.created"])
        delivery = endpoint_test_send(endpoint=endpoint)
        return endpoint, delivery


def test_an_endpoint_is_created_with_its_secret_shown_once(api_a, tenant_a, in_tenant, allow_private):
    response = api_a.post_json(
        "/api/v1/webhook-endpoints",
        {
            "url": "http://127.0.0.1:9/hooks",
            "event_types": ["order.created", "order.updated"],
            "description": "ERP",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["order.created", "order.updated"]
    with in_tenant(tenant_a):
        stored = Endpoint.objects.get(pk=body["id"])
        assert stored.secret is not None and stored.secret.reveal() == body["secret"]

    shown = api_a.get(f"/api/v1/webhook-endpoints/{body['id']}")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    assert body["secret"] not in api_a.get("/api/v1/webhook-endpoints").content.decode()

    rolled = api_a.post_json(f"/api/v1/webhook-endpoints/{body['id']}/roll-secret")
    assert rolled.status_code == 200
    assert rolled.json()["secret"].startswith("whsec_") and rolled.json()["secret"] != body["secret"]
    assert rolled.json()["previous_secret_expires_at"]


def test_bad_input_gets_the_error_shape(api_a, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = False
    refused = api_a.post_json(
        "/api/v1/webhook-endpoints", {"url": "https://127.0.0.1/x", "event_types": ["order.created"]}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "webhook_url_refused"
    unknown = api_a.post_json(
        "/api/v1/webhook-endpoints", {"url": "https://127.0.0.1/x", "event_types": ["order.eaten"]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "invalid_webhook_endpoint"


def test_update_test_event_deliveries_and_replay(api_a, tenant_a, in_tenant, allow_private):
    created = api_a.post_json(
        "/api/v1/webhook-endpoints", {"url": "http://127.0.0.1:9/a", "event_types": ["order.created"]}
    ).json()
    path = f"/api/v1/webhook-endpoints/{created['id']}"

    patched = api_a.patch_json(path, {"is_enabled": False, "description": "paused"})
    assert patched.status_code == 200
    assert (patched.json()["is_enabled"], patched.json()["disabled_reason"]) == (False, "Disabled by hand.")

    queued = api_a.post_json(f"{path}/test")
    assert queued.status_code == 202
    assert queued.json()["event_type"] == "ping" and queued.json()["state"] == "pending"

    listed = api_a.get(f"/api/v1/webhook-deliveries?endpoint_id={created['id']}&state=pending")
    assert [row["id"] for row in listed.json()["items"]] == [queued.json()["id"]]
    assert api_a.get("/api/v1/webhook-deliveries?state=succeeded").json()["items"] == []

    detail = api_a.get(f"/api/v1/webhook-deliveries/{queued.json()['id']}")
    assert detail.json()["payload"]["type"] == "ping"

    replayed = api_a.post_json(f"/api/v1/webhook-deliveries/{queued.json()['id']}/replay")
    assert replayed.status_code == 202
    assert replayed.json()["event_id"] == queued.json()["event_id"]
    assert replayed.json()["id"] != queued.json()["id"]

    assert api_a.delete_json(path).status_code == 204
    with in_tenant(tenant_a):
        assert not Endpoint.objects.exists() and not Delivery.objects.exists()
        assert Event.objects.count() == 1


def test_another_tenants_ids_are_not_found(api_a, beta_endpoint):
    endpoint, delivery = beta_endpoint
    for method, path in [
        ("get", f"/api/v1/webhook-endpoints/{endpoint.pk}"),
        ("patch_json", f"/api/v1/webhook-endpoints/{endpoint.pk}"),
        ("delete_json", f"/api/v1/webhook-endpoints/{endpoint.pk}"),
        ("post_json", f"/api/v1/webhook-endpoints/{endpoint.pk}/roll-secret"),
        ("post_json", f"/api/v1/webhook-endpoints/{endpoint.pk}/test"),
        ("get", f"/api/v1/webhook-deliveries/{delivery.pk}"),
        ("post_json", f"/api/v1/webhook-deliveries/{delivery.pk}/replay"),
    ]:
        call = getattr(api_a, method)
        response = call(path, {"description": "x"}) if method == "patch_json" else call(path)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] in {
            "webhook_endpoint_not_found",
            "webhook_delivery_not_found",
        }
    assert api_a.get(f"/api/v1/webhook-deliveries?endpoint_id={endpoint.pk}").json()["items"] == []


def test_the_api_needs_a_key(tenant_a):
    from django.test import Client

    from tests.conftest import host_of

    assert Client(HTTP_HOST=host_of(tenant_a)).get("/api/v1/webhook-endpoints").status_code == 401
