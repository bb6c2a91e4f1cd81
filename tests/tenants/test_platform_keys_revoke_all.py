"""Revoking every platform key at once: through the platform API (the calling key stays live unless
asked), and from the platform console; tenants' keys are never touched, and each revoke is audited
in the public schema."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEntry
from tenants.models import ApiKey
from tests.conftest import ApiClient
from tests.console.conftest import PASSWORD, console_client
from tests.console.test_auth import _csrf
from tests.factories import api_key_for


def _live(tenant=None) -> set[int]:
    return set(ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).values_list("pk", flat=True))


def test_the_platform_api_revokes_every_platform_key_but_the_callers(platform_api, tenant_a):
    others = {api_key_for(None).api_key.pk for _ in range(2)}
    tenant_keys = _live(tenant_a) | {api_key_for(tenant_a).api_key.pk}
    caller = ApiKey.objects.get(pk=max(_live() - others))  # the fixture's key: the newest but these

    response = platform_api.post_json("/api/platform/api-keys/revoke-all", {})

    assert response.status_code == 200
    assert response.json() == {"revoked": len(others)}
    assert _live() == {caller.pk}
    assert _live(tenant_a) == tenant_keys
    assert platform_api.get("/api/platform/tenants").status_code == 200  # still works
    audited = AuditEntry.objects.filter(object_type="tenants.apikey", action="update")
    assert {int(pk) for pk in audited.values_list("object_id", flat=True)} == others
    assert set(audited.values_list("actor_type", "actor_id")) == {("api_key", caller.pk)}


def test_include_self_revokes_the_calling_key_too(platform_api):
    response = platform_api.post_json("/api/platform/api-keys/revoke-all", {"include_self": True})

    assert response.json()["revoked"] >= 1
    assert _live() == set()
    assert platform_api.get("/api/platform/tenants").status_code == 401


def test_a_tenant_key_cannot_revoke_platform_keys(api_a, tenant_a):
    platform_key = api_key_for(None).api_key
    tenant_host = api_a.post_json("/api/v1/api-keys/revoke-all", {})  # revokes alpha's keys only
    assert tenant_host.status_code == 200
    assert ApiKey.objects.get(pk=platform_key.pk).revoked_at is None
    on_public_host = ApiClient("localhost", api_a.key).post_json("/api/platform/api-keys/revoke-all", {})
    assert on_public_host.status_code == 401
    assert ApiKey.objects.get(pk=platform_key.pk).revoked_at is None


@pytest.fixture
def platform_console(db):
    staff = User.objects.create_user("operator", password=PASSWORD, is_staff=True)
    return console_client("localhost", staff), staff


def test_the_platform_console_lists_platform_keys_and_revokes_them_all(platform_console, tenant_a):
    client, staff = platform_console
    keys = [api_key_for(None).api_key for _ in range(2)]
    tenant_key = api_key_for(tenant_a).api_key

    page = client.get("/app/api-keys/").content.decode()
    assert all(f"{key.prefix}…" in page for key in keys)
    assert tenant_key.prefix not in page

    response = client.post(
        "/app/api-keys/revoke-all/", {"csrfmiddlewaretoken": _csrf(client, "/app/api-keys/")}
    )

    assert response.status_code == 302
    assert _live() == set()
    assert ApiKey.objects.get(pk=tenant_key.pk).revoked_at is None
    audited = AuditEntry.objects.filter(object_type="tenants.apikey")
    assert set(audited.values_list("actor_type", "actor_id", "actor_label")) == {
        ("user", staff.pk, "operator")
    }
