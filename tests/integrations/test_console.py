"""The integrations pages: list, add (secret shown once), edit, an endpoint's delivery log with
replay, test event and secret roll; another tenant's ids are 404, another tenant's session is sent
to the login page."""

from __future__ import annotations

import re

import pytest

from integrations.models import Delivery, Endpoint
from integrations.services import endpoint_create, endpoint_test_send
from tests.conftest import host_of
from tests.console.test_auth import _csrf


@pytest.fixture
def alpha_endpoint(tenant_a, in_tenant, allow_private):
    with in_tenant(tenant_a):
        endpoint, secret = endpoint_create(
            url="http://127.0.0.1:9/alpha", event_types=["order.created"], description="Alpha ERP"
        )
        delivery = endpoint_test_send(endpoint=endpoint)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.FAILED,
            attempts=1,
            response_status=502,
            last_error="The endpoint answered 502.",
            request_body='{"id":"evt_x"}',
            response_snippet="bad gateway",
            duration_ms=42,
        )
        return endpoint, delivery, secret


def test_the_list_shows_endpoints_with_status_and_recent_stats(console_a, alpha_endpoint):
    page = console_a.get("/app/integrations/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "http://127.0.0.1:9/alpha" in html and "Alpha ERP" in html
    assert "Enabled" in html and "1 failed" in html and "0 delivered" in html
    assert alpha_endpoint[2] not in html


def test_adding_an_endpoint_shows_its_secret_once(console_a, tenant_a, in_tenant, allow_private):
    token = _csrf(console_a, "/app/integrations/new/")
    page = console_a.post(
        "/app/integrations/new/",
        {
            "csrfmiddlewaretoken": token,
            "url": "http://127.0.0.1:9/new",
            "description": "CRM",
            "event_types": ["order.created", "support_ticket.created"],
        },
    )
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    secret = re.search(r'value="(whsec_[^"]+)"', page.content.decode()).group(1)
    with in_tenant(tenant_a):
        endpoint = Endpoint.objects.get(description="CRM")
        assert endpoint.secret.reveal() == secret
        assert endpoint.event_types == ["order.created", "support_ticket.created"]
    detail = console_a.get(f"/app/integrations/{endpoint.pk}/").content.decode()
    assert secret not in detail and "whsec_••••••••" in detail


def test_the_form_explains_what_is_wrong(console_a, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = False
    token = _csrf(console_a, "/app/integrations/new/")
    page = console_a.post(
        "/app/integrations/new/", {"csrfmiddlewaretoken": token, "url": "https://127.0.0.1/x"}
    )
    html = page.content.decode()
    assert "Choose at least one event." in html
    page = console_a.post(
        "/app/integrations/new/",
        {"csrfmiddlewaretoken": token, "url": "https://127.0.0.1/x", "event_types": ["order.created"]},
    )
    assert "resolves to an address that is not public" in page.content.decode()
    assert '<label for="id_url">URL</label>' in page.content.decode()


def test_editing_an_endpoint(console_a, alpha_endpoint, tenant_a, in_tenant):
    endpoint = alpha_endpoint[0]
    path = f"/app/integrations/{endpoint.pk}/edit/"
    assert 'value="http://127.0.0.1:9/alpha"' in console_a.get(path).content.decode()
    response = console_a.post(
        path,
        {
            "csrfmiddlewaretoken": _csrf(console_a, path),
            "url": "http://127.0.0.1:9/v2",
            "description": "v2",
            "event_types": ["order.updated"],
        },
    )
    assert response.status_code == 302
    with in_tenant(tenant_a):
        endpoint.refresh_from_db()
        assert (endpoint.url, endpoint.event_types) == ("http://127.0.0.1:9/v2", ["order.updated"])


def test_the_endpoint_page_logs_deliveries_and_replays_one(console_a, alpha_endpoint, tenant_a, in_tenant):
    endpoint, delivery, _ = alpha_endpoint
    path = f"/app/integrations/{endpoint.pk}/"
    html = console_a.get(path).content.decode()
    assert "ping" in html and "502" in html and "Failed, will retry" in html and "42 ms" in html

    detail = console_a.get(f"{path}deliveries/{delivery.pk}/").content.decode()
    assert "bad gateway" in detail and "evt_x" in detail

    response = console_a.post(
        f"{path}deliveries/{delivery.pk}/replay/", {"csrfmiddlewaretoken": _csrf(console_a, path)}
    )
    assert response.status_code == 302
    with in_tenant(tenant_a):
        assert Delivery.objects.filter(event_id=delivery.event_id, state="pending").count() == 1
    assert "queued to be sent again" in console_a.get(path).content.decode()
    assert "No delivery in this state" in console_a.get(f"{path}?state=succeeded").content.decode()


def test_test_event_roll_disable_and_delete(console_a, alpha_endpoint, tenant_a, in_tenant):
    endpoint, _, old_secret = alpha_endpoint
    path = f"/app/integrations/{endpoint.pk}/"
    token = _csrf(console_a, path)
    assert console_a.post(f"{path}test/", {"csrfmiddlewaretoken": token}).status_code == 302
    rolled = console_a.post(f"{path}roll-secret/", {"csrfmiddlewaretoken": token}).content.decode()
    new_secret = re.search(r'value="(whsec_[^"]+)"', rolled).group(1)
    assert new_secret != old_secret and "previous secret keeps signing" in rolled
    assert (
        console_a.post(f"{path}enabled/", {"csrfmiddlewaretoken": token, "enabled": "0"}).status_code == 302
    )
    with in_tenant(tenant_a):
        endpoint.refresh_from_db()
        assert not endpoint.is_enabled
        assert endpoint.deliveries.filter(event__type="ping").count() == 2
    assert "Disabled by hand." in console_a.get(path).content.decode()
    assert console_a.post(f"{path}delete/", {"csrfmiddlewaretoken": token}).status_code == 302
    with in_tenant(tenant_a):
        assert not Endpoint.objects.exists()


def test_another_tenants_ids_are_not_found(console_b, alpha_endpoint):
    endpoint, delivery, _ = alpha_endpoint
    base = f"/app/integrations/{endpoint.pk}/"
    for path in (base, f"{base}edit/", f"{base}deliveries/{delivery.pk}/"):
        assert console_b.get(path).status_code == 404, path
    token = _csrf(console_b, "/app/integrations/")
    for action in ("test/", "roll-secret/", "enabled/", "delete/", f"deliveries/{delivery.pk}/replay/"):
        assert console_b.post(base + action, {"csrfmiddlewaretoken": token}).status_code == 404, action


def test_another_tenants_session_is_sent_to_the_login_page(console_b, tenant_a, alpha_endpoint):
    endpoint = alpha_endpoint[0]
    for path in ("/app/integrations/", f"/app/integrations/{endpoint.pk}/"):
        response = console_b.get(path, HTTP_HOST=host_of(tenant_a))
        assert response.status_code == 302 and "/app/login/" in response["Location"]
