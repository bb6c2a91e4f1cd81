"""The platform's view of every tenant's accounts: API and admin page, unhealthy first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.health import health_summary_refresh
from analytics.models import AccountHealthLog
from tests.analytics.factories import AccountFactory, PhoneNumberFactory
from tests.conftest import ApiClient, host_of


@pytest.fixture
def fleet(tenant_a, tenant_b, in_tenant):
    now = timezone.now()
    with in_tenant(tenant_a):
        fine = AccountFactory(display_name="Alpha fine", waba_id="900000000000001")
        PhoneNumberFactory(account=fine, quality_rating="GREEN")
        AccountHealthLog.objects.create(account=fine, checked_at=now - timedelta(minutes=3), healthy=True)
        broken = AccountFactory(
            display_name="Alpha broken",
            waba_id="900000000000002",
            status="unhealthy",
            status_reason="Access token invalid",
        )
        PhoneNumberFactory(account=broken, quality_rating="YELLOW")
        PhoneNumberFactory(account=broken, quality_rating="RED")
        AccountHealthLog.objects.create(account=broken, checked_at=now, healthy=False)
    with in_tenant(tenant_b):
        wobbly = AccountFactory(display_name="Beta wobbly", waba_id="900000000000003")
        AccountHealthLog.objects.create(account=wobbly, checked_at=now, healthy=None, reachable=False)
        AccountFactory(display_name="Beta draft", waba_id="900000000000004", status="draft")
    for tenant in (tenant_a, tenant_b):  # as the health checks leave the public summary
        with in_tenant(tenant):
            health_summary_refresh()


def test_platform_api_lists_every_tenants_accounts_unhealthy_first(platform_api, fleet):
    response = platform_api.get("/api/platform/accounts/health")

    assert response.status_code == 200, response.content
    rows = response.json()["items"]
    assert [(row["tenant_slug"], row["display_name"]) for row in rows] == [
        ("alpha", "Alpha broken"),
        ("beta", "Beta wobbly"),
        ("alpha", "Alpha fine"),
        ("beta", "Beta draft"),
    ]
    broken = rows[0]
    assert (broken["status"], broken["status_reason"], broken["worst_quality"]) == (
        "unhealthy",
        "Access token invalid",
        "RED",
    )
    assert broken["last_check_healthy"] is False and broken["last_checked_at"]
    assert [number["quality_rating"] for number in broken["phone_numbers"]] == ["YELLOW", "RED"]
    assert rows[1]["last_check_healthy"] is None
    assert rows[3]["last_checked_at"] is None
    assert "EAA" not in response.content.decode()


def test_platform_api_filters_by_status(platform_api, fleet):
    rows = platform_api.get("/api/platform/accounts/health?status=unhealthy").json()["items"]
    assert [row["display_name"] for row in rows] == ["Alpha broken"]

    response = platform_api.get("/api/platform/accounts/health?status=sideways")
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_platform_api_needs_a_platform_key(api_a, fleet):
    tenant_key_on_public_host = ApiClient("localhost", api_a.key)
    assert tenant_key_on_public_host.get("/api/platform/accounts/health").status_code == 401
    assert ApiClient("localhost").get("/api/platform/accounts/health").status_code == 401


def test_a_tenant_host_has_no_platform_view(api_a, tenant_a):
    assert api_a.get("/api/platform/accounts/health").status_code == 404


def test_platform_admin_page_lists_accounts_unhealthy_first(db, fleet):
    admin = get_user_model().objects.create_superuser("platform-root", "", "pw")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)

    response = client.get("/admin/analytics/tenantaccounthealth/")

    assert response.status_code == 200
    page = response.content.decode()
    order = [page.index(name) for name in ("Alpha broken", "Beta wobbly", "Alpha fine", "Beta draft")]
    assert order == sorted(order)
    assert "Access token invalid" in page and "unreachable" in page
    assert "4 accounts" in page


def test_platform_admin_page_reads_the_summary_and_pages_it(db, fleet, settings, monkeypatch):
    """Its queries do not grow with the number of tenants: no tenant schema is entered."""
    monkeypatch.setattr("analytics.admin.PAGE_SIZE", 1)
    admin = get_user_model().objects.create_superuser("platform-root", "", "pw")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/analytics/tenantaccounthealth/?status=active&page=2")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Alpha fine" in page and "Beta wobbly" not in page and "Alpha broken" not in page
    assert "page 2 of 2" in page and "?status=active&amp;page=1" in page
    assert not [q["sql"] for q in queries.captured_queries if "search_path" in q["sql"] and "public" not in q["sql"]]


def test_tenant_admin_does_not_offer_the_platform_page(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        user = get_user_model().objects.create_superuser("alpha-root", "", "pw")
        client = Client(HTTP_HOST=host_of(tenant_a))
        client.force_login(user)  # the session lives in the tenant's schema

    assert client.get("/admin/analytics/tenantaccounthealth/").status_code == 404
    assert client.get("/admin/analytics/accounthealthlog/").status_code == 200
