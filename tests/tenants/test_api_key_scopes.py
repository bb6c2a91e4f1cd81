"""API key scopes, expiry, last use and bulk revocation, on the tenant and the platform API."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.auth import PLATFORM_API_SCOPES, TENANT_API_SCOPES
from tenants.models import PLATFORM_KEY_SCOPES, TENANT_KEY_SCOPES, ApiKey, Tenant
from tenants.services import CreatedApiKey, api_key_create
from tests.conftest import ApiClient, host_of
from tests.factories import api_key_for


def _key(tenant: Tenant | None, *scopes: str) -> CreatedApiKey:
    return api_key_create(tenant=tenant, name="scoped", created_by="tests", scopes=scopes)


def _alpha(tenant_a: Tenant, *scopes: str) -> ApiClient:
    return ApiClient(host_of(tenant_a), _key(tenant_a, *scopes).key)


def _call(client: ApiClient, method: str, path: str):
    if method == "GET":
        return client.get(path)
    if method == "DELETE":
        return client.delete(path, data={}, content_type="application/json")
    return client.post_json(path, {})


# One representative endpoint per group; the body is empty on purpose: a key with the scope gets
# past authentication to the endpoint's own answer (422 for a missing field, 404 for a missing row).
TENANT_MATRIX = [
    ("GET", "/api/v1/me", "read", 200),
    ("POST", "/api/v1/messages", "send", 422),
    ("POST", "/api/v1/broadcasts", "send", 422),
    ("POST", "/api/v1/accounts", "manage", 201),  # an empty draft account
    ("POST", "/api/v1/contacts", "manage", 422),
    ("POST", "/api/v1/api-keys", "keys", 422),
    ("GET", "/api/v1/billing/statements/999999", "billing", 404),
]


@pytest.mark.parametrize(("method", "path", "needed", "answer"), TENANT_MATRIX)
def test_each_group_needs_its_scope_and_only_that_one(tenant_a, method, path, needed, answer):
    response = _call(_alpha(tenant_a, needed), method, path)
    assert response.status_code == answer, response.content

    for other in TENANT_KEY_SCOPES:
        if other == needed:
            continue
        response = _call(_alpha(tenant_a, other), method, path)
        assert response.status_code == 403, (other, response.content)
        error = response.json()["error"]
        assert error["code"] == "insufficient_scope"
        assert error["message"] == (
            f"This API key lacks the '{needed}' scope that {method} {path} needs (the key's scopes: {other})."
        )
        assert error["details"] == {"required_scope": needed, "key_scopes": [other]}


def test_a_write_no_rule_names_needs_manage():
    assert TENANT_API_SCOPES.required_scope("POST", "some-future-thing/12") == "manage"
    assert TENANT_API_SCOPES.required_scope("DELETE", "some-future-thing/12") == "manage"
    assert TENANT_API_SCOPES.required_scope("GET", "some-future-thing") == "read"
    assert TENANT_API_SCOPES.required_scope("POST", "flows/3/send") == "send"
    assert TENANT_API_SCOPES.required_scope("POST", "flows/3/publish") == "manage"
    assert TENANT_API_SCOPES.required_scope("GET", "api-keys") == "read"
    assert PLATFORM_API_SCOPES.required_scope("POST", "tenants/alpha/suspend") == "tenants:write"
    assert PLATFORM_API_SCOPES.required_scope("DELETE", "tenants/alpha") == "tenants:delete"
    assert PLATFORM_API_SCOPES.required_scope("PUT", "billing/plan-versions/1") == "billing"


def test_keys_made_by_people_hold_every_scope(tenant_a):
    assert api_key_for(tenant_a).api_key.scope_list == list(TENANT_KEY_SCOPES)
    assert api_key_for(None).api_key.scope_list == list(PLATFORM_KEY_SCOPES)


def test_migration_gives_existing_keys_every_scope_of_their_kind(tenant_a):
    tenant_key = api_key_for(tenant_a).api_key
    platform_key = api_key_for(None).api_key
    ApiKey.objects.filter(id__in=[tenant_key.id, platform_key.id]).update(scopes="")
    migration = importlib.import_module("tenants.migrations.0005_api_key_scopes_and_expiry")

    migration.grant_existing_keys_every_scope(apps, None)

    tenant_key.refresh_from_db()
    platform_key.refresh_from_db()
    assert tenant_key.scope_list == list(TENANT_KEY_SCOPES)
    assert platform_key.scope_list == list(PLATFORM_KEY_SCOPES)


# --- expiry and last use -------------------------------------------------------------------------


def test_expired_key_answers_401_api_key_expired(tenant_a):
    created = _key(tenant_a, "read")
    ApiKey.objects.filter(id=created.api_key.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = ApiClient(host_of(tenant_a), created.key).get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_expired"


def test_key_works_until_it_expires(tenant_a, api_a):
    expires = timezone.now() + timedelta(hours=1)
    response = api_a.post_json("/api/v1/api-keys", {"name": "temp", "expires_at": expires.isoformat()})
    assert response.status_code == 201
    body = response.json()
    assert body["expires_at"] is not None
    assert ApiClient(host_of(tenant_a), body["key"]).get("/api/v1/me").status_code == 200

    ApiKey.objects.filter(id=body["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert ApiClient(host_of(tenant_a), body["key"]).get("/api/v1/me").status_code == 401


def test_expiry_in_the_past_is_refused(api_a):
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = api_a.post_json("/api/v1/api-keys", {"name": "late", "expires_at": past})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_expiry"


def test_other_tenants_keys_stay_a_plain_401_even_when_expired(tenant_a, tenant_b):
    live_beta = _key(tenant_b, *TENANT_KEY_SCOPES)
    expired_beta = _key(tenant_b, *TENANT_KEY_SCOPES)
    ApiKey.objects.filter(id=expired_beta.api_key.id).update(expires_at=timezone.now() - timedelta(days=1))

    for created in (live_beta, expired_beta):
        response = ApiClient(host_of(tenant_a), created.key).get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_last_use_records_time_and_address_at_most_once_a_minute(tenant_a):
    created = _key(tenant_a, "read")
    client = ApiClient(host_of(tenant_a), created.key)

    assert client.get("/api/v1/me", REMOTE_ADDR="203.0.113.9").status_code == 200
    created.api_key.refresh_from_db()
    first_use = created.api_key.last_used_at
    assert first_use is not None and timezone.now() - first_use < timedelta(seconds=10)
    assert created.api_key.last_used_from == "203.0.113.9"

    assert client.get("/api/v1/me", REMOTE_ADDR="198.51.100.7").status_code == 200
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at == first_use
    assert created.api_key.last_used_from == "203.0.113.9"

    ApiKey.objects.filter(id=created.api_key.id).update(last_used_at=first_use - timedelta(minutes=2))
    assert client.get("/api/v1/me", REMOTE_ADDR="198.51.100.7").status_code == 200
    created.api_key.refresh_from_db()
    assert created.api_key.last_used_at > first_use
    assert created.api_key.last_used_from == "198.51.100.7"

    listed = client.get("/api/v1/api-keys").json()["items"]
    assert {"id": created.api_key.id, "last_used_from": "198.51.100.7", "scopes": ["read"]}.items() <= next(
        item for item in listed if item["id"] == created.api_key.id
    ).items()


def test_last_use_costs_one_update_then_none_within_the_minute(tenant_a):
    client = ApiClient(host_of(tenant_a), _key(tenant_a, "read").key)

    def key_updates() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/me").status_code == 200
        return [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "tenants_apikey"')]

    assert len(key_updates()) == 1
    assert key_updates() == []


# --- creating keys: never more than the creator holds --------------------------------------------


def test_key_creates_keys_with_a_subset_of_its_scopes(tenant_a):
    client = _alpha(tenant_a, "read", "keys")

    subset = client.post_json("/api/v1/api-keys", {"name": "reader", "scopes": ["read"]})
    assert subset.status_code == 201
    assert subset.json()["scopes"] == ["read"]
    assert ApiKey.objects.get(id=subset.json()["id"]).scopes == "read"

    default = client.post_json("/api/v1/api-keys", {"name": "same as me"})
    assert default.status_code == 201
    assert default.json()["scopes"] == ["read", "keys"]


def test_key_cannot_grant_a_scope_it_lacks(tenant_a):
    client = _alpha(tenant_a, "read", "keys")
    before = ApiKey.objects.count()

    response = client.post_json(
        "/api/v1/api-keys", {"name": "escalation", "scopes": ["read", "send", "manage"]}
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "scope_exceeds_creator"
    assert error["details"] == {"exceeding": ["send", "manage"], "creator_scopes": ["read", "keys"]}
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize("scopes", [["read", "admin"], [], ["tenants:delete"]])
def test_unknown_or_no_scopes_are_refused(api_a, scopes):
    response = api_a.post_json("/api/v1/api-keys", {"name": "odd", "scopes": scopes})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_scope"


# --- revoke all ----------------------------------------------------------------------------------


def test_revoke_all_spares_the_calling_key_and_other_tenants(tenant_a, tenant_b):
    caller = _key(tenant_a, "read", "keys")
    others = [_key(tenant_a, "read"), _key(tenant_a, "send")]
    beta = _key(tenant_b, "read")
    live_before = ApiKey.objects.filter(tenant=tenant_a, revoked_at__isnull=True).count()
    client = ApiClient(host_of(tenant_a), caller.key)

    response = client.post_json("/api/v1/api-keys/revoke-all", {})

    assert response.status_code == 200
    assert response.json() == {"revoked": live_before - 1}
    assert client.get("/api/v1/me").status_code == 200
    for created in others:
        assert ApiClient(host_of(tenant_a), created.key).get("/api/v1/me").status_code == 401
    assert ApiClient(host_of(tenant_b), beta.key).get("/api/v1/me").status_code == 200


def test_revoke_all_including_self(tenant_a):
    caller = _key(tenant_a, "read", "keys")
    client = ApiClient(host_of(tenant_a), caller.key)

    response = client.post_json("/api/v1/api-keys/revoke-all", {"include_self": True})

    assert response.status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_revoke_all_needs_the_keys_scope(tenant_a):
    bystander = _key(tenant_a, "read")
    response = _alpha(tenant_a, "read", "send", "manage", "billing").post_json(
        "/api/v1/api-keys/revoke-all", {}
    )

    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "keys"
    assert ApiClient(host_of(tenant_a), bystander.key).get("/api/v1/me").status_code == 200


# --- platform keys -------------------------------------------------------------------------------


def _platform(*scopes: str) -> ApiClient:
    return ApiClient("localhost", _key(None, *scopes).key)


def test_platform_reads_and_writes_need_their_scopes(tenant_a):
    assert _platform("tenants:read").get("/api/platform/tenants/alpha").status_code == 200
    refused = _platform("tenants:write").get("/api/platform/tenants/alpha")
    assert refused.status_code == 403
    assert refused.json()["error"]["details"] == {
        "required_scope": "tenants:read",
        "key_scopes": ["tenants:write"],
    }

    suspend_path = "/api/platform/tenants/no-such-tenant/suspend"
    assert _platform("tenants:read").post_json(suspend_path, {}).status_code == 403
    assert _platform("tenants:write").post_json(suspend_path, {}).status_code == 404


def test_tenant_deletion_needs_its_own_scope(tenant_a):
    path = "/api/platform/tenants/no-such-tenant"
    writer = _platform("tenants:read", "tenants:write", "billing")

    response = writer.delete(path, data={"confirm": "no-such-tenant"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "tenants:delete"

    deleter = _platform("tenants:delete")
    response = deleter.delete(path, data={"confirm": "no-such-tenant"}, content_type="application/json")
    assert response.status_code == 404
    assert Tenant.objects.filter(slug="alpha").exists()


def test_platform_billing_needs_the_billing_scope(db):
    assert _platform("tenants:read", "tenants:write").get("/api/platform/billing/plans").status_code == 403
    assert _platform("billing").get("/api/platform/billing/plans").status_code == 200


def test_platform_scopes_are_not_tenant_scopes(db):
    with pytest.raises(Exception, match="Unknown scope"):
        _key(None, "send")
