"""The alerts API and console pages: a workspace sees and changes only its own incidents and
settings; bad input is refused with the API's error shape; the dashboard shows open incidents."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.urls import reverse

from alerts.conditions import Condition
from alerts.models import AlertSettings, Incident
from alerts.services import alert_settings_update, incidents_reconcile
from team.models import Membership
from team.roles import Role
from tenants.services import api_key_create
from tests.alerts.conftest import member_make
from tests.conftest import ApiClient, host_of
from tests.console.conftest import console_client


def incident_open(summary: str, subject_key: str = "account:1") -> Incident:
    [opened], _ = incidents_reconcile(
        found=[
            Condition("account_unhealthy", subject_key, "Main account", summary, 1, {"status": "unhealthy"})
        ],
        scope=Q(subject_key=subject_key),
    )
    return opened


@pytest.fixture
def incidents(tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        alpha = incident_open("Alpha's account is unhealthy")
        resolved = incident_open("Alpha's old trouble", "account:2")
        incidents_reconcile(found=[], scope=Q(subject_key="account:2"))
    with in_tenant(tenant_b):
        beta = incident_open("Beta's secret trouble")
    return {"alpha": alpha, "resolved": resolved, "beta": beta}


def test_the_incident_list_is_paginated_filtered_and_only_the_workspaces_own(api_a, api_b, incidents):
    body = api_a.get("/api/v1/alerts/incidents").json()
    assert body["count"] == 2
    assert [item["summary"] for item in body["items"]] == [
        "Alpha's old trouble",
        "Alpha's account is unhealthy",
    ]
    item = body["items"][1]
    assert item["id"] == incidents["alpha"].pk and item["kind"] == "account_unhealthy"
    assert item["resolved_at"] is None and item["details"] == {"status": "unhealthy"}

    open_only = api_a.get("/api/v1/alerts/incidents?status=open&limit=1").json()
    assert open_only["count"] == 1 and open_only["items"][0]["summary"] == "Alpha's account is unhealthy"
    assert api_a.get("/api/v1/alerts/incidents?status=resolved").json()["count"] == 1

    beta = api_b.get("/api/v1/alerts/incidents").json()
    assert [item["summary"] for item in beta["items"]] == ["Beta's secret trouble"]

    bad = api_a.get("/api/v1/alerts/incidents?status=closed")
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"


def test_settings_read_and_replaced_through_the_api(api_a, api_b, tenant_a, in_tenant):
    assert api_a.get("/api/v1/alerts/settings").json() == {
        "email_enabled": True,
        "email_extra_addresses": [],
        "webhook_enabled": True,
        "console_enabled": True,
        "updated_at": None,
    }
    answer = api_a.put_json(
        "/api/v1/alerts/settings",
        {
            "email_enabled": False,
            "email_extra_addresses": ["Ops@Alpha.test", "ops@alpha.test"],
            "webhook_enabled": True,
            "console_enabled": False,
        },
    )
    assert answer.status_code == 200
    assert answer.json()["email_extra_addresses"] == ["ops@alpha.test"]
    with in_tenant(tenant_a):
        saved = AlertSettings.objects.get()
        assert (saved.email_enabled, saved.console_enabled) == (False, False)
    assert api_b.get("/api/v1/alerts/settings").json()["email_enabled"] is True  # beta's own


def test_bad_settings_are_refused_with_a_clear_error(api_a, tenant_a, in_tenant):
    answer = api_a.put_json(
        "/api/v1/alerts/settings",
        {
            "email_enabled": True,
            "email_extra_addresses": ["not-an-address"],
            "webhook_enabled": True,
            "console_enabled": True,
        },
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_alert_settings"
    assert "not-an-address" in answer.json()["error"]["message"]
    missing = api_a.put_json("/api/v1/alerts/settings", {"email_enabled": True})
    assert missing.status_code == 422
    with in_tenant(tenant_a):
        assert not AlertSettings.objects.exists()


def test_the_dashboard_shows_the_workspaces_open_incidents_only(console_a, console_b, incidents):
    page = console_a.get(reverse("console:dashboard")).content.decode()
    assert "1 open alert" in page and "Alpha&#x27;s account is unhealthy" in page
    assert "old trouble" not in page and "Beta" not in page
    assert "Alpha" not in console_b.get(reverse("console:dashboard")).content.decode()


def test_console_notices_turned_off_show_nothing(console_a, tenant_a, in_tenant, incidents):
    with in_tenant(tenant_a):
        alert_settings_update(console_enabled=False)
    page = console_a.get(reverse("console:dashboard")).content.decode()
    assert "open alert" not in page and "No open alerts" not in page


def test_the_history_lists_the_workspaces_incidents_for_the_roles_that_see_accounts(
    console_a, console_b, tenant_a, in_tenant, incidents
):
    page = console_a.get(reverse("console:alerts")).content.decode()
    assert "Alpha&#x27;s account is unhealthy" in page and "Alpha&#x27;s old trouble" in page
    assert "Beta" not in page
    assert "Alert settings" in page  # the owner may change them
    assert "Beta&#x27;s secret trouble" in console_b.get(reverse("console:alerts")).content.decode()
    assert "Alpha" not in console_b.get(reverse("console:alerts")).content.decode()

    with in_tenant(tenant_a):
        viewer = member_make("vic", Role.VIEWER, "vic@alpha.test")
        agent = member_make("ag", Role.AGENT, "ag@alpha.test")
        viewer_client = console_client(host_of(tenant_a), viewer)
        agent_client = console_client(host_of(tenant_a), agent)
    viewer_page = viewer_client.get(reverse("console:alerts"))
    assert viewer_page.status_code == 200 and "Alert settings" not in viewer_page.content.decode()
    assert viewer_client.get(reverse("console:alert-settings")).status_code == 403
    assert agent_client.get(reverse("console:alerts")).status_code == 403


def test_owners_change_the_channels_in_the_console(console_a, tenant_a, in_tenant):
    page = console_a.get(reverse("console:alert-settings"))
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    answer = console_a.post(
        reverse("console:alert-settings"),
        {
            "email_enabled": "on",
            "email_extra_addresses": "ops@alpha.test\n\noncall@alpha.test",
            "csrfmiddlewaretoken": token,
        },
    )
    assert answer.status_code == 302
    with in_tenant(tenant_a):
        saved = AlertSettings.objects.get()
    assert saved.email_enabled is True and saved.webhook_enabled is False and saved.console_enabled is False
    assert saved.email_extra_addresses == ["ops@alpha.test", "oncall@alpha.test"]

    refused = console_a.post(
        reverse("console:alert-settings"),
        {"email_enabled": "on", "email_extra_addresses": "nope", "csrfmiddlewaretoken": token},
    )
    assert refused.status_code == 200
    assert "Not an e-mail address: nope." in refused.content.decode()


def test_an_admin_may_change_the_settings_a_developer_may_not(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        admin = member_make("adm", Role.ADMIN, "adm@alpha.test")
        developer = member_make("dev", Role.DEVELOPER, "dev@alpha.test")
        assert Membership.objects.get(user=developer).role == Role.DEVELOPER
        admin_client = console_client(host_of(tenant_a), admin)
        developer_client = console_client(host_of(tenant_a), developer)
    assert admin_client.get(reverse("console:alert-settings")).status_code == 200
    assert developer_client.get(reverse("console:alert-settings")).status_code == 403
    assert developer_client.get(reverse("console:alerts")).status_code == 200


def test_a_read_only_key_reads_the_settings_but_may_not_change_them(tenant_a, api_a):
    reader = ApiClient(host_of(tenant_a), api_key_create(tenant=tenant_a, name="reader", scopes=["read"]).key)
    assert reader.get("/api/v1/alerts/settings").status_code == 200
    assert reader.get("/api/v1/alerts/incidents").status_code == 200
    refused = reader.put_json(
        "/api/v1/alerts/settings",
        {
            "email_enabled": False,
            "email_extra_addresses": [],
            "webhook_enabled": False,
            "console_enabled": False,
        },
    )
    assert refused.status_code == 403
    assert api_a.get("/api/v1/alerts/settings").json()["email_enabled"] is True
    assert ApiClient(host_of(tenant_a)).get("/api/v1/alerts/incidents").status_code == 401
