"""The audit log is read on the console page (filters, pages, CSV) and through `GET /api/v1/audit-log`
(scope `manage`), each showing only its own workspace's rows; old rows are pruned."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.context import Actor, actor_bound
from audit.models import AuditEntry
from audit.tasks import audit_prune_fan_out
from integrations.services import endpoint_create, endpoint_update
from tenants.services import api_key_create
from tests.conftest import ApiClient, host_of
from tests.factories import TenantUserFactory

ANA = Actor(type="user", id=7, label="ana", client_address="203.0.113.9", request_id="req-1")
BOT = Actor(type="api_key", id=3, label="CI (wa_1234…)", client_address="198.51.100.4", request_id="req-2")


@pytest.fixture
def alpha_log(tenant_a, in_tenant, allow_private):
    """Three changes in alpha: ana created and described an endpoint, the CI key renamed it."""
    with in_tenant(tenant_a):
        with actor_bound(ANA):
            endpoint, _ = endpoint_create(url="http://127.0.0.1:9/a", event_types=["order.created"])
            endpoint_update(endpoint=endpoint, description="Alpha ERP")
        with actor_bound(BOT):
            endpoint_update(endpoint=endpoint, description="Alpha CRM")
        return list(AuditEntry.objects.order_by("id"))


@pytest.fixture
def beta_log(tenant_b, in_tenant, allow_private):
    with in_tenant(tenant_b), actor_bound(Actor(type="user", id=9, label="bruno")):
        endpoint_create(url="http://127.0.0.1:9/beta-secret-place", event_types=["order.created"])
        return list(AuditEntry.objects.all())


def test_the_api_lists_newest_first_and_filters(api_a, alpha_log, beta_log):
    everything = api_a.get("/api/v1/audit-log").json()
    assert everything["count"] == 3
    assert [item["id"] for item in everything["items"]] == [entry.pk for entry in reversed(alpha_log)]
    newest = everything["items"][0]
    assert newest["actor_type"] == "api_key" and newest["actor_label"] == "CI (wa_1234…)"
    assert newest["changes"] == {"description": {"from": "Alpha ERP", "to": "Alpha CRM"}}
    assert newest["client_address"] == "198.51.100.4" and newest["request_id"] == "req-2"

    by_ana = api_a.get("/api/v1/audit-log", {"actor_type": "user", "actor_id": 7}).json()
    assert [item["action"] for item in by_ana["items"]] == ["update", "create"]
    creates = api_a.get(
        "/api/v1/audit-log", {"action": "create", "object_type": "integrations.endpoint"}
    ).json()
    assert creates["count"] == 1
    later = api_a.get(
        "/api/v1/audit-log", {"since": (timezone.now() + timedelta(minutes=1)).isoformat()}
    ).json()
    assert later["count"] == 0
    page = api_a.get("/api/v1/audit-log", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and len(page["items"]) == 1


def test_the_api_refuses_bad_filters_and_keys_without_manage(tenant_a, api_a, alpha_log):
    bad = api_a.get("/api/v1/audit-log", {"action": "explode"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"
    now = timezone.now()
    backwards = api_a.get(
        "/api/v1/audit-log", {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()}
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["code"] == "invalid_filter"

    reader = ApiClient(host_of(tenant_a), api_key_create(tenant=tenant_a, name="reader", scopes=["read"]).key)
    refused = reader.get("/api/v1/audit-log")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"


def test_another_workspace_sees_none_of_these_rows(api_b, console_b, alpha_log, beta_log):
    listed = api_b.get("/api/v1/audit-log").json()
    assert [item["id"] for item in listed["items"]] == [entry.pk for entry in beta_log]
    assert {item["actor_label"] for item in listed["items"]} == {"bruno"}
    for entry in alpha_log:  # the same ids exist in both schemas; filters never reach across
        assert (
            api_b.get("/api/v1/audit-log", {"object_id": entry.object_id, "actor_id": 7}).json()["count"] == 0
        )

    page = console_b.get("/app/audit/").content.decode()
    assert "bruno" in page and "ana" not in page and "CI (wa_1234" not in page
    exported = b"".join(console_b.get("/app/audit/export.csv").streaming_content).decode()
    assert "bruno" in exported and "ana" not in exported


def test_the_console_page_filters_pages_and_exports(console_a, alpha_log, monkeypatch):
    page = console_a.get("/app/audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Audit log" in html and "Alpha CRM" in html and "CI (wa_1234…)" in html and "203.0.113.9" in html
    assert '<option value="user:7">ana (User)</option>' in html

    by_key = console_a.get("/app/audit/", {"actor": "api_key:3"}).content.decode()
    assert "Alpha CRM" in by_key and "203.0.113.9" not in by_key
    today = timezone.localdate().isoformat()
    assert (
        "No recorded change matches" in console_a.get("/app/audit/", {"until": "2000-01-01"}).content.decode()
    )
    assert "Alpha CRM" in console_a.get("/app/audit/", {"since": today, "until": today}).content.decode()

    monkeypatch.setattr("console.views.audit.PAGE_SIZE", 2)
    first = console_a.get("/app/audit/").content.decode()
    assert "Older entries" in first and "before=" in first
    older = console_a.get("/app/audit/", {"before": alpha_log[1].pk}).content.decode()
    assert "http://127.0.0.1:9/a" in older and "Alpha CRM" not in older

    response = console_a.get("/app/audit/export.csv", {"action": "update"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["actor"] for row in rows] == ["CI (wa_1234…)", "ana"]
    assert rows[0]["object_type"] == "integrations.endpoint" and rows[0]["client_address"] == "198.51.100.4"


def test_the_prune_deletes_rows_past_the_retention_in_public_and_in_each_tenant(
    tenant_a, in_tenant, alpha_log, settings, sync_jobs
):
    settings.AUDIT_LOG_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    with in_tenant(tenant_a):
        AuditEntry.objects.filter(pk=alpha_log[0].pk).update(created_at=old)
    platform_old = AuditEntry.objects.create(
        actor_type="user",
        actor_id=1,
        actor_label="root",
        object_type="auth.group",
        object_id="1",
        action="create",
        created_at=old,
    )
    platform_new = AuditEntry.objects.create(
        actor_type="user",
        actor_id=1,
        actor_label="root",
        object_type="auth.group",
        object_id="2",
        action="create",
    )

    audit_prune_fan_out()

    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [platform_new.pk]
    assert platform_old.pk != platform_new.pk
    with in_tenant(tenant_a):
        assert sorted(AuditEntry.objects.values_list("pk", flat=True)) == [e.pk for e in alpha_log[1:]]


def test_each_admin_lists_its_own_schemas_entries_read_only(tenant_a, in_tenant, alpha_log, beta_log):
    with in_tenant(tenant_a):
        owner = TenantUserFactory.create(username="owner", is_staff=True, is_superuser=True)
        admin = Client(HTTP_HOST=host_of(tenant_a))
        admin.force_login(owner)
    page = admin.get("/admin/audit/auditentry/").content.decode()
    assert "CI (wa_1234…)" in page and "bruno" not in page
    assert admin.get("/admin/audit/auditentry/add/").status_code == 403
