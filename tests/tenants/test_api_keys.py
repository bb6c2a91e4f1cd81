"""Tenant API keys: shown once, stored hashed, valid only on their own tenant's host."""

from __future__ import annotations

import hashlib

import pytest

from tenants.models import ApiKey
from tenants.services import api_key_revoke
from tests.conftest import ApiClient
from tests.factories import api_key_for

UNAUTHORIZED = {
    "code": "unauthorized",
    "message": "Missing or invalid API key. Send 'Authorization: Bearer <key>' with a live key of this workspace.",
    "details": None,
}


def test_me_returns_tenant_and_key_identity(tenant_a):
    created = api_key_for(tenant_a)
    response = ApiClient("alpha.localhost", created.key).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "tenant_slug": "alpha",
        "tenant_name": "Alpha Coffee",
        "tenant_status": "active",
        "api_key_id": created.api_key.id,
        "api_key_name": created.api_key.name,
        "api_key_prefix": created.api_key.prefix,
    }


def test_create_key_shows_it_once_and_stores_only_its_hash(api_a, tenant_a):
    response = api_a.post_json("/api/v1/api-keys", {"name": "CRM integration"})

    assert response.status_code == 201
    body = response.json()
    key = body["key"]
    assert key.startswith("wak_") and key.startswith(body["prefix"])
    stored = ApiKey.objects.get(id=body["id"])
    assert stored.tenant == tenant_a
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {getattr(stored, field.attname) for field in ApiKey._meta.fields}

    listed = api_a.get("/api/v1/api-keys").json()["items"]
    assert any(item["id"] == body["id"] for item in listed)
    assert all("key" not in item for item in listed)
    assert ApiClient("alpha.localhost", key).get("/api/v1/me").status_code == 200


def test_list_shows_only_this_tenants_keys(api_a, tenant_b):
    other = api_key_for(tenant_b)

    ids = {item["id"] for item in api_a.get("/api/v1/api-keys").json()["items"]}
    assert other.api_key.id not in ids


def test_revoked_key_other_tenants_key_and_bad_headers_get_the_same_401(tenant_a, tenant_b):
    revoked = api_key_for(tenant_a)
    api_key_revoke(tenant=tenant_a, key_id=revoked.api_key.id)
    beta_key = api_key_for(tenant_b).key
    platform_key = api_key_for(None).key
    good = api_key_for(tenant_a).key

    attempts = {
        "revoked": {"HTTP_AUTHORIZATION": f"Bearer {revoked.key}"},
        "other tenant": {"HTTP_AUTHORIZATION": f"Bearer {beta_key}"},
        "platform key": {"HTTP_AUTHORIZATION": f"Bearer {platform_key}"},
        "no header": {},
        "no scheme": {"HTTP_AUTHORIZATION": good},
        "basic": {"HTTP_AUTHORIZATION": f"Basic {good}"},
        "truncated": {"HTTP_AUTHORIZATION": f"Bearer {good[:-1]}"},
    }
    for label, headers in attempts.items():
        response = ApiClient("alpha.localhost").get("/api/v1/me", **headers)
        assert response.status_code == 401, label
        assert response.json() == {"error": UNAUTHORIZED}, label


def test_revoke_through_api_then_key_stops_working(api_a, tenant_a):
    victim = api_key_for(tenant_a)
    response = api_a.delete(f"/api/v1/api-keys/{victim.api_key.id}")

    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert ApiClient("alpha.localhost", victim.key).get("/api/v1/me").status_code == 401


def test_cannot_revoke_another_tenants_key(api_a, tenant_b):
    beta = api_key_for(tenant_b)

    response = api_a.delete(f"/api/v1/api-keys/{beta.api_key.id}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    beta.api_key.refresh_from_db()
    assert beta.api_key.revoked_at is None
    assert ApiClient("beta.localhost", beta.key).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/api-keys/not-a-number", "/api/v1/nowhere"])
def test_bad_paths_use_the_error_shape(api_a, path):
    response = api_a.delete(path) if "api-keys" in path else api_a.get(path)

    assert response.status_code in (404, 422)
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_openapi_docs_are_served(tenant_a):
    client = ApiClient("alpha.localhost")

    assert client.get("/api/v1/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/me" in schema["paths"]
