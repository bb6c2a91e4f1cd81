"""The health checks, roll-ups and log prune visit only tenants whose public summary counts accounts;
a new account puts its tenant there at once. The platform API's account-health list reads the same summary, never a
tenant schema."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import tasks
from analytics.health import health_summary_refresh
from analytics.models import AccountHealthLog, UsageDaily
from tenants.models import AccountHealthEntry, AccountHealthSummary, Tenant
from tests.analytics.conftest import ALPHA, BETA, account_with_number, simulator_seed
from tests.analytics.factories import AccountFactory, MessageFactory, PhoneNumberFactory
from waba.services.accounts import account_delete


def accounts_in_summary(tenant: Tenant) -> int | None:
    return AccountHealthSummary.objects.filter(schema_name=tenant.schema_name).values_list("accounts", flat=True).first()


def checks(tenant: Tenant, in_tenant) -> int:
    with in_tenant(tenant):
        return AccountHealthLog.objects.count()


def test_the_checks_visit_tenants_with_accounts_and_a_new_account_joins_them(
    sync_jobs, simulator, tenant_a, tenant_b, in_tenant
):
    simulator_seed(simulator)
    with in_tenant(tenant_a):
        alpha = account_with_number(ALPHA)
    assert accounts_in_summary(tenant_a) == 1  # stored by the account's creation, before any check
    assert accounts_in_summary(tenant_b) is None

    assert tasks.health_checks_fan_out() == 2  # beta has no summary yet: visited once, which stores it
    assert (checks(tenant_a, in_tenant), checks(tenant_b, in_tenant)) == (1, 0)
    assert accounts_in_summary(tenant_b) == 0

    assert tasks.health_checks_fan_out() == 1  # beta has no account: not visited
    assert (checks(tenant_a, in_tenant), checks(tenant_b, in_tenant)) == (2, 0)

    with in_tenant(tenant_b):
        account_with_number(BETA)  # the wizard, Embedded Signup and the API all create the row
    assert accounts_in_summary(tenant_b) == 1
    assert tasks.health_checks_fan_out() == 2
    assert (checks(tenant_a, in_tenant), checks(tenant_b, in_tenant)) == (3, 1)

    with in_tenant(tenant_a):
        account_delete(account=alpha)
    assert accounts_in_summary(tenant_a) == 0
    assert not AccountHealthEntry.objects.filter(tenant=tenant_a).exists()  # gone from the platform's list
    assert tasks.health_checks_fan_out() == 1


def test_a_tenant_with_only_a_draft_keeps_its_summary_current_without_a_check(
    sync_jobs, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        AccountFactory(status="draft", display_name="Still in the wizard")
        AccountHealthSummary.objects.filter(schema_name=tenant_a.schema_name).update(accounts=5)

    tasks.health_checks_fan_out()

    with in_tenant(tenant_a):
        assert not AccountHealthLog.objects.exists()
    assert accounts_in_summary(tenant_a) == 1  # the visit stored the summary again


def test_the_platform_api_lists_accounts_from_the_public_summary_only(platform_api, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        broken = AccountFactory(display_name="Alpha broken", status="unhealthy", status_reason="Token expired")
        PhoneNumberFactory(account=broken, quality_rating="RED", display_phone_number="+1 555 0101")
        AccountFactory(display_name="Alpha fine")
        health_summary_refresh()
    with in_tenant(tenant_b):
        AccountFactory(display_name="Beta fine")
        health_summary_refresh()

    with CaptureQueriesContext(connection) as queries:
        response = platform_api.get("/api/platform/accounts/health?limit=2&offset=0")

    assert response.status_code == 200, response.content
    page = response.json()
    assert page["count"] == 3
    assert [(row["tenant_slug"], row["display_name"]) for row in page["items"]] == [
        ("alpha", "Alpha broken"),
        ("alpha", "Alpha fine"),
    ]
    first = page["items"][0]
    assert (first["status"], first["status_reason"], first["worst_quality"], first["tenant_name"]) == (
        "unhealthy",
        "Token expired",
        "RED",
        tenant_a.name,
    )
    assert [number["display_phone_number"] for number in first["phone_numbers"]] == ["+1 555 0101"]
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert tenant_a.schema_name not in statements and tenant_b.schema_name not in statements
    assert "waba_whatsappaccount" not in statements and "analytics_accounthealthlog" not in statements

    rest = platform_api.get("/api/platform/accounts/health?limit=2&offset=2").json()
    assert [row["display_name"] for row in rest["items"]] == ["Beta fine"]
    unhealthy = platform_api.get("/api/platform/accounts/health?status=unhealthy").json()
    assert (unhealthy["count"], [row["display_name"] for row in unhealthy["items"]]) == (1, ["Alpha broken"])



def test_the_roll_ups_and_the_log_prune_skip_tenants_without_accounts(sync_jobs, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        MessageFactory(timestamp=timezone.now())
    AccountHealthSummary.objects.create(schema_name=tenant_b.schema_name, accounts=0, updated_at=timezone.now())

    assert tasks.usage_rollup_hourly_fan_out() == 1
    with in_tenant(tenant_a):
        assert UsageDaily.objects.get().sent == 1
    assert tasks.usage_rollup_daily_fan_out() == 1
    assert tasks.health_logs_prune_fan_out() == 1
