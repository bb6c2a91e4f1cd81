"""Changes made through the API, the console and the admin each become one audit row naming the
actor, the object, and the changed fields with secret values masked; changes made outside a request
(workers, webhook processing) write nothing."""

from __future__ import annotations

import json

from django.contrib.auth.models import Group, User
from django.test import Client

from audit.context import Actor, actor_bound
from audit.models import AuditEntry
from integrations.models import Endpoint
from integrations.services import endpoint_update
from tenants.models import ApiKey
from tests.conftest import ApiClient, host_of
from tests.console.test_auth import _csrf
from tests.factories import TenantUserFactory, api_key_for


def _entries(tenant, in_tenant) -> list[AuditEntry]:
    with in_tenant(tenant):
        return list(AuditEntry.objects.order_by("id"))


def test_an_api_change_is_one_row_with_the_key_the_diff_the_address_and_the_request_id(
    tenant_a, in_tenant, alpha_endpoint
):
    created = api_key_for(tenant_a)
    api = ApiClient(host_of(tenant_a), created.key)

    response = api.patch_json(
        f"/api/v1/webhook-endpoints/{alpha_endpoint.pk}",
        {"description": "Alpha CRM", "event_types": ["order.created"]},
    )

    assert response.status_code == 200
    [entry] = _entries(tenant_a, in_tenant)
    assert (entry.actor_type, entry.actor_id) == ("api_key", created.api_key.pk)
    assert entry.actor_label == f"{created.api_key.name} ({created.api_key.prefix}…)"
    assert (entry.object_type, entry.object_id, entry.action) == (
        "integrations.endpoint",
        str(alpha_endpoint.pk),
        "update",
    )
    assert entry.changes == {"description": {"from": "Alpha ERP", "to": "Alpha CRM"}}  # event_types unchanged
    assert entry.client_address == "127.0.0.1"
    assert entry.request_id == response["X-Request-ID"]
    assert created.key not in json.dumps(entry.changes) + entry.actor_label


def test_a_created_endpoint_and_a_rolled_secret_show_that_the_secret_changed_never_its_value(
    tenant_a, in_tenant, api_a, allow_private
):
    response = api_a.post_json(
        "/api/v1/webhook-endpoints", {"url": "http://127.0.0.1:9/new", "event_types": ["order.created"]}
    )
    secret = response.json()["secret"]
    endpoint_id = response.json()["id"]
    rolled = api_a.post_json(f"/api/v1/webhook-endpoints/{endpoint_id}/roll-secret").json()["secret"]

    create, roll = _entries(tenant_a, in_tenant)
    assert create.action == "create"
    assert create.changes["url"] == {"from": None, "to": "http://127.0.0.1:9/new"}
    assert create.changes["secret"] == {"from": None, "to": "[masked]"}
    assert roll.action == "update"
    assert roll.changes["secret"] == {"from": "[masked]", "to": "[masked]"}
    assert roll.changes["previous_secret"] == {"from": None, "to": "[masked]"}
    written = json.dumps([create.changes, roll.changes])
    assert secret not in written and rolled not in written


def test_a_console_form_change_is_one_row_with_the_user(
    tenant_a, in_tenant, console_a, user_a, alpha_endpoint
):
    path = f"/app/integrations/{alpha_endpoint.pk}/edit/"
    response = console_a.post(
        path,
        {
            "csrfmiddlewaretoken": _csrf(console_a, path),
            "url": "http://127.0.0.1:9/alpha",
            "description": "Alpha ERP",
            "event_types": ["order.created", "order.updated"],
        },
    )

    assert response.status_code == 302
    [entry] = _entries(tenant_a, in_tenant)
    assert (entry.actor_type, entry.actor_id, entry.actor_label) == ("user", user_a.pk, "ana")
    assert entry.object_type == "integrations.endpoint" and entry.action == "update"
    assert entry.changes == {
        "event_types": {"from": ["order.created"], "to": ["order.created", "order.updated"]}
    }


def test_a_tenant_admin_change_is_one_row_and_a_role_change_names_the_groups(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        owner = TenantUserFactory.create(username="owner", is_staff=True, is_superuser=True)
        clerk = TenantUserFactory.create(username="clerk")
    admin = Client(HTTP_HOST=host_of(tenant_a))
    with in_tenant(tenant_a):
        admin.force_login(owner)

    response = admin.post("/admin/auth/group/add/", {"name": "Support"})
    assert response.status_code == 302
    with in_tenant(tenant_a):
        group = Group.objects.get(name="Support")
        clerk.groups.add(group)  # no request: not recorded
        assert AuditEntry.objects.count() == 1
        entry = AuditEntry.objects.get()
    assert (entry.actor_type, entry.actor_id, entry.actor_label) == ("user", owner.pk, "owner")
    assert (entry.object_type, entry.object_id, entry.action) == ("auth.group", str(group.pk), "create")
    assert entry.changes == {"name": {"from": None, "to": "Support"}}


def test_the_platform_admin_writes_to_the_public_log_and_never_to_a_tenants(tenant_a, in_tenant):
    root = TenantUserFactory.create(username="platform-root", is_staff=True, is_superuser=True)
    admin = Client(HTTP_HOST="localhost")
    admin.force_login(root)

    assert admin.post("/admin/auth/group/add/", {"name": "Operators"}).status_code == 302

    entry = AuditEntry.objects.get()  # the public schema
    assert (entry.actor_label, entry.object_type, entry.action) == ("platform-root", "auth.group", "create")
    assert _entries(tenant_a, in_tenant) == []


def test_a_users_password_change_is_recorded_masked(tenant_a, in_tenant, console_a, user_a):
    path = "/app/password/"
    console_a.post(
        path,
        {
            "csrfmiddlewaretoken": _csrf(console_a, path),
            "old_password": "correct horse battery staple",
            "new_password1": "a much longer new passphrase",
            "new_password2": "a much longer new passphrase",
        },
    )
    entries = [entry for entry in _entries(tenant_a, in_tenant) if entry.object_type == "auth.user"]
    assert [entry.changes for entry in entries] == [{"password": {"from": "[masked]", "to": "[masked]"}}]


def test_changes_outside_a_request_write_nothing(tenant_a, in_tenant, alpha_endpoint):
    with in_tenant(tenant_a):
        endpoint_update(endpoint=alpha_endpoint, description="by a worker")
        User.objects.create_user("robot")
        Endpoint.objects.get(pk=alpha_endpoint.pk).delete()
        assert not AuditEntry.objects.exists()


def test_api_key_create_revoke_and_revoke_all_are_recorded_without_the_key(tenant_a, in_tenant, api_a):
    created = api_a.post_json("/api/v1/api-keys", {"name": "CI", "scopes": ["read"]}).json()
    other = api_key_for(tenant_a).api_key
    assert api_a.delete(f"/api/v1/api-keys/{created['id']}").status_code == 200
    caller = ApiKey.objects.get(pk=api_a.get("/api/v1/me").json()["api_key_id"])
    live = set(
        ApiKey.objects.filter(tenant=tenant_a, revoked_at__isnull=True)
        .exclude(pk=caller.pk)
        .values_list("pk", flat=True)
    )
    assert other.pk in live
    assert api_a.post_json("/api/v1/api-keys/revoke-all", {}).json() == {"revoked": len(live)}

    create, revoke, *revoke_all = _entries(tenant_a, in_tenant)
    assert {int(entry.object_id) for entry in revoke_all} == live
    [revoke_all] = [entry for entry in revoke_all if entry.object_id == str(other.pk)]
    assert {entry.actor_id for entry in (create, revoke, revoke_all)} == {caller.pk}
    assert (create.object_type, create.object_id, create.action) == (
        "tenants.apikey",
        str(created["id"]),
        "create",
    )
    assert create.changes["name"] == {"from": None, "to": "CI"}
    assert create.changes["scopes"] == {"from": None, "to": "read"}
    assert create.changes["key_hash"] == {"from": None, "to": "[masked]"}
    assert created["key"] not in json.dumps(create.changes)
    assert (revoke.object_id, revoke.action, list(revoke.changes)) == (
        str(created["id"]),
        "update",
        ["revoked_at"],
    )
    assert revoke.changes["revoked_at"]["from"] is None
    assert (revoke_all.object_id, revoke_all.action) == (str(other.pk), "update")
    assert revoke_all.object_repr == f"{other.name} ({other.prefix}…)"
    assert revoke_all.changes["revoked_at"]["to"] is not None


def test_a_console_revoke_all_names_the_user(tenant_a, in_tenant, console_a, user_a):
    for _ in range(2):
        api_key_for(tenant_a)
    live = ApiKey.objects.filter(tenant=tenant_a, revoked_at__isnull=True).values_list("pk", flat=True)
    keys = sorted(str(pk) for pk in live)
    path = "/app/api-keys/"
    console_a.post("/app/api-keys/revoke-all/", {"csrfmiddlewaretoken": _csrf(console_a, path)})

    entries = _entries(tenant_a, in_tenant)
    assert sorted(entry.object_id for entry in entries) == keys
    assert {(entry.actor_type, entry.actor_id) for entry in entries} == {("user", user_a.pk)}


def test_a_role_change_names_the_groups_added_and_removed(tenant_a, in_tenant):
    actor = Actor(type="user", id=1, label="owner")
    with in_tenant(tenant_a):
        clerk = TenantUserFactory.create(username="clerk")
        support, sales = Group.objects.create(name="Support"), Group.objects.create(name="Sales")
        with actor_bound(actor):
            clerk.groups.add(support, sales)
            clerk.groups.remove(sales)
            clerk.groups.clear()
        changes = [
            (entry.object_type, entry.object_id, entry.changes) for entry in AuditEntry.objects.order_by("id")
        ]
    assert changes == [
        ("auth.user", str(clerk.pk), {"groups": {"added": sorted([support.pk, sales.pk])}}),
        ("auth.user", str(clerk.pk), {"groups": {"removed": [sales.pk]}}),
        ("auth.user", str(clerk.pk), {"groups": {"removed": [support.pk]}}),
    ]


def test_a_tenant_created_through_the_platform_api_is_in_the_public_log(platform_api):
    response = platform_api.post_json("/api/platform/tenants", {"slug": "gamma-shop", "name": "Gamma Shop"})
    assert response.status_code == 201

    created = AuditEntry.objects.get(object_type="tenants.tenant")
    assert created.action == "create" and created.actor_type == "api_key"
    assert created.changes["slug"] == {"from": None, "to": "gamma-shop"}
    assert created.changes["schema_name"]["to"] == response.json()["tenant"]["schema_name"]


def test_a_role_change_on_the_team_page_is_one_row_with_the_user(tenant_a, in_tenant, console_a, user_a):
    with in_tenant(tenant_a):
        member = User.objects.create_user("vera")  # a new user is a viewer
    path = f"/app/team/{member.pk}/"
    response = console_a.post(path, {"csrfmiddlewaretoken": _csrf(console_a, path), "role": "admin"})

    assert response.status_code == 302
    entries = [entry for entry in _entries(tenant_a, in_tenant) if entry.object_type == "team.membership"]
    assert [(entry.actor_label, entry.action) for entry in entries] == [("ana", "update")]
    assert entries[0].changes["role"] == {"from": "viewer", "to": "admin"}
