"""The platform API on the public host: tenant lifecycle, slug rules, platform-key auth."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants.models import ApiKey, Domain, Tenant
from tests.conftest import ApiClient
from tests.factories import api_key_for


def test_create_tenant_makes_schema_domain_and_invited_admin(platform_api):
    response = platform_api.post_json("/api/platform/tenants", {"slug": "gamma-shop", "name": "Gamma Shop"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tenant"]["slug"] == "gamma-shop"
    assert body["tenant"]["domain"] == "gamma-shop.localhost"
    assert body["tenant"]["schema_name"] == "t_gamma_shop"
    assert body["admin"]["login_url"].startswith("http://gamma-shop.localhost")
    assert schema_exists("t_gamma_shop")
    assert Domain.objects.get(domain="gamma-shop.localhost").tenant.slug == "gamma-shop"
    assert "password" not in body["admin"]
    assert body["admin"]["invitation_url"].startswith("http://gamma-shop.localhost")
    with schema_context("t_gamma_shop"):
        user = get_user_model().objects.get(username="admin")
        assert user.is_superuser and not user.has_usable_password()  # set through the invitation
    # The tenant's admin user does not exist in the public schema.
    assert not get_user_model().objects.filter(username="admin").exists()
    # The new schema is a copy of the migrated template: its tables are there.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 't_gamma_shop'")
        assert cursor.fetchone()[0] > 5


@pytest.mark.parametrize(
    "slug",
    ["Acme", "acme_shop", "-acme", "acme-", "", "a" * 41, "public", "www", "admin", "api", "acme shop"],
)
def test_invalid_or_reserved_slug_is_422(platform_api, slug):
    response = platform_api.post_json("/api/platform/tenants", {"slug": slug, "name": "Whatever"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_slug"
    assert error["details"][0]["field"] == "slug"
    assert not Tenant.objects.filter(name="Whatever").exists()


def test_duplicate_slug_is_409(platform_api):
    response = platform_api.post_json("/api/platform/tenants", {"slug": "alpha", "name": "Alpha again"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slug_taken"


def test_missing_field_is_422_with_the_error_shape(platform_api):
    response = platform_api.post_json("/api/platform/tenants", {"slug": "delta"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(detail["field"].endswith("name") for detail in error["details"])


def test_list_shows_customer_tenants_only(platform_api):
    response = platform_api.get("/api/platform/tenants")

    assert response.status_code == 200
    slugs = [tenant["slug"] for tenant in response.json()["items"]]
    assert slugs == ["alpha", "beta"]


def test_suspend_blocks_the_tenant_api_and_admin_then_resume_restores(platform_api, api_a, tenant_a):
    assert api_a.get("/api/v1/me").status_code == 200

    response = platform_api.post_json("/api/platform/tenants/alpha/suspend", {"reason": "unpaid invoice"})
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"

    blocked = api_a.get("/api/v1/me")
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "tenant_suspended"
    admin_page = ApiClient("alpha.localhost").get("/admin/login/")
    assert admin_page.status_code == 403
    assert b"suspended" in admin_page.content

    assert platform_api.post_json("/api/platform/tenants/alpha/resume").status_code == 200
    assert api_a.get("/api/v1/me").status_code == 200


def test_delete_needs_confirmation_then_drops_the_schema(platform_api):
    created = platform_api.post_json("/api/platform/tenants", {"slug": "omega", "name": "Omega"})
    assert created.status_code == 201

    refused = platform_api.delete_json("/api/platform/tenants/omega", {})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "confirmation_required"
    assert schema_exists("t_omega")

    wrong = platform_api.delete_json("/api/platform/tenants/omega", {"confirm": "alpha"})
    assert wrong.status_code == 422

    done = platform_api.delete_json("/api/platform/tenants/omega", {"confirm": "omega"})
    assert done.status_code == 204
    assert not schema_exists("t_omega")
    assert not Tenant.objects.filter(slug="omega").exists()
    assert platform_api.get("/api/platform/tenants/omega").status_code == 404


def test_unknown_tenant_is_404_with_the_error_shape(platform_api):
    response = platform_api.post_json("/api/platform/tenants/nobody/suspend", {})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic YWRtaW46YWRtaW4=", "Bearer "])
def test_platform_api_refuses_without_a_platform_key(db, header):
    client = ApiClient("localhost")
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/api/platform/tenants", **extra)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_tenant_key_is_not_a_platform_key(tenant_a):
    client = ApiClient("localhost", api_key_for(tenant_a).key)

    assert client.get("/api/platform/tenants").status_code == 401


def test_platform_api_does_not_exist_on_tenant_hosts(tenant_a):
    client = ApiClient("alpha.localhost", api_key_for(None).key)

    response = client.get("/api/platform/tenants")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unknown_host_gets_a_json_404(db):
    response = ApiClient("nobody.localhost").get("/api/v1/me")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_host"


def test_a_new_tenant_gets_a_first_api_key_that_works_at_once_on_its_own_host_only(platform_api, tenant_a):
    response = platform_api.post_json("/api/platform/tenants", {"slug": "kappa", "name": "Kappa Bakery"})

    assert response.status_code == 201, response.content
    first = response.json()["api_key"]
    assert first["key"].startswith("wak_") and first["key"].startswith(first["prefix"])
    assert first["api_url"] == "http://kappa.localhost:8000/api/v1/"
    assert first["docs_url"] == "http://kappa.localhost:8000/api/v1/docs"
    stored = ApiKey.objects.get(id=first["id"])
    assert stored.tenant.slug == "kappa" and stored.revoked_at is None
    assert stored.key_hash == hashlib.sha256(first["key"].encode()).hexdigest()  # only the hash is kept
    assert stored.created_by.startswith("platform-key:wpk_")
    assert platform_api.key.startswith(stored.created_by.removeprefix("platform-key:"))

    me = ApiClient("kappa.localhost", first["key"]).get("/api/v1/me")
    assert me.status_code == 200, me.content
    assert me.json()["tenant_slug"] == "kappa" and me.json()["api_key_id"] == first["id"]
    elsewhere = ApiClient("alpha.localhost", first["key"]).get("/api/v1/me")
    assert elsewhere.status_code == 401
    assert elsewhere.json()["error"]["code"] == "unauthorized"
    assert ApiClient("localhost", first["key"]).get("/api/platform/tenants").status_code == 401
