"""The API keys page: create a scoped key (shown once), revoke one or all; another workspace's keys
are neither listed nor revocable."""

from __future__ import annotations

import re

from tenants.models import ApiKey
from tests.console.test_auth import _csrf
from tests.factories import api_key_for


def test_a_key_is_created_with_its_scopes_and_shown_once(tenant_a, console_a):
    token = _csrf(console_a, "/app/api-keys/")
    response = console_a.post(
        "/app/api-keys/new/",
        {"name": "analytics export", "scopes": ["read"], "expires_on": "2099-01-01", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    key = re.search(r'id="new-key" value="([^"]+)"', response.content.decode()).group(1)
    stored = ApiKey.objects.get(tenant=tenant_a, name="analytics export")
    assert stored.scope_list == ["read"] and stored.expires_at.year == 2099
    assert key.startswith(stored.prefix) and key not in console_a.get("/app/api-keys/").content.decode()
    assert console_a.get("/app/api-keys/").content.decode().count(stored.prefix) == 1
    assert key not in str(stored.__dict__)  # only the hash is kept


def test_a_key_without_scopes_or_expiring_in_the_past_is_refused_next_to_the_field(console_a):
    token = _csrf(console_a, "/app/api-keys/")
    no_scope = console_a.post("/app/api-keys/new/", {"name": "x", "csrfmiddlewaretoken": token})
    assert no_scope.status_code == 422 and "This field is required" in no_scope.content.decode()
    past = console_a.post(
        "/app/api-keys/new/",
        {"name": "x", "scopes": ["read"], "expires_on": "2001-01-01", "csrfmiddlewaretoken": token},
    )
    assert past.status_code == 422 and "must be in the future" in past.content.decode()


def test_revoking_one_key_and_then_all(tenant_a, tenant_b, console_a):
    first, second = api_key_for(tenant_a), api_key_for(tenant_a)
    outsider = api_key_for(tenant_b)
    token = _csrf(console_a, "/app/api-keys/")

    assert console_a.post(f"/app/api-keys/{first.api_key.pk}/revoke/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert ApiKey.objects.get(pk=first.api_key.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=second.api_key.pk).revoked_at is None

    console_a.post("/app/api-keys/revoke-all/", {"csrfmiddlewaretoken": token})
    assert ApiKey.objects.get(pk=second.api_key.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=outsider.api_key.pk).revoked_at is None


def test_another_workspaces_key_is_not_listed_nor_revocable(tenant_b, console_a, console_b):
    outsider = api_key_for(tenant_b)
    assert outsider.api_key.prefix not in console_a.get("/app/api-keys/").content.decode()
    token = _csrf(console_a, "/app/api-keys/")
    response = console_a.post(f"/app/api-keys/{outsider.api_key.pk}/revoke/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 404
    assert ApiKey.objects.get(pk=outsider.api_key.pk).revoked_at is None


def test_another_workspaces_session_is_sent_to_the_login(tenant_a, console_b):
    console_b.defaults["HTTP_HOST"] = "alpha.localhost"
    assert console_b.get("/app/api-keys/").status_code == 302
    assert console_b.post("/app/api-keys/revoke-all/").status_code in (302, 403)
