"""Billing pages of the console: the tenant's usage and statements, the platform's overview."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from billing.plans.models import PlanVersion
from billing.plans.periods import period_bounds
from billing.statements import statement_close
from tests.billing.factories import delivered, outbound, plan_version, pricing, subscribe
from tests.conftest import host_of


def closed_statement(tenant, subscription):
    start, end = period_bounds(anchor_day=subscription.anchor_day, at=timezone.now())
    return statement_close(tenant=tenant, period_start=start, period_end=end)


def test_the_billing_page_shows_usage_against_the_plan_the_spend_chart_and_statements(
    console_a, tenant_a, in_tenant
):
    subscription = subscribe(tenant_a, plan_version(included_messages={"marketing": 5}))
    with in_tenant(tenant_a):
        delivered(outbound(), pricing("marketing"))
    statement = closed_statement(tenant_a, subscription)

    response = console_a.get("/app/billing/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Plan <strong>Growth v1</strong>" in page
    assert "Marketing</th>" in page and '<td class="num">5</td>' in page
    assert 'id="chart-spend"' in page and "<svg" in page
    assert f"/app/billing/statements/{statement.pk}/" in page
    assert f"{statement.total} USD" in page


def test_the_spend_chart_downloads_as_csv(console_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        delivered(outbound(), pricing("utility"))

    response = console_a.get("/app/billing/?format=csv&chart=spend")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "utility" in response.content.decode().splitlines()[0]


def test_without_a_plan_the_page_says_nothing_is_limited(console_a):
    page = console_a.get("/app/billing/").content.decode()

    assert "no plan yet" in page
    assert "No statements yet" in page


def test_a_statement_page_lists_its_lines_and_totals_and_downloads_as_csv(console_a, tenant_a):
    subscription = subscribe(tenant_a, plan_version(), tax_percent=Decimal("10"))
    statement = closed_statement(tenant_a, subscription)

    page = console_a.get(f"/app/billing/statements/{statement.pk}/").content.decode()
    assert "Growth plan (v1)" in page and "Tax (10 %)" in page and "53.90 USD" in page
    download = console_a.get(f"/app/billing/statements/{statement.pk}/csv")
    assert download.status_code == 200 and ",total,,,,,,53.90,USD" in download.content.decode()


def test_another_tenants_statement_is_404(console_a, tenant_b):
    statement = closed_statement(tenant_b, subscribe(tenant_b, plan_version()))

    for path in (f"/app/billing/statements/{statement.pk}/", f"/app/billing/statements/{statement.pk}/csv"):
        assert console_a.get(path).status_code == 404


def test_another_tenants_session_is_sent_to_the_login_page(console_b, tenant_a):
    statement = closed_statement(tenant_a, subscribe(tenant_a, plan_version()))
    alpha = host_of(tenant_a)

    for path in (
        "/app/billing/",
        f"/app/billing/statements/{statement.pk}/",
        f"/app/billing/statements/{statement.pk}/csv",
    ):
        response = console_b.get(path, HTTP_HOST=alpha)
        assert response.status_code == 302 and response.url.startswith("/app/login/"), path


def test_the_platform_page_lists_plans_subscriptions_and_statements(platform_console, tenant_a):
    version = plan_version(
        included_messages={"marketing": 100}, overage_policy=PlanVersion.OveragePolicy.BILL
    )
    closed_statement(tenant_a, subscribe(tenant_a, version))

    response = platform_console.get("/app/billing/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'Growth <span class="muted">v1</span>' in page and "locked" in page
    assert "marketing: 100" in page
    assert tenant_a.name in page and "Allow and bill the overage" in page
    assert "49.00 USD" in page


def test_the_platform_page_is_not_on_tenant_hosts_for_tenant_users(console_a):
    response = console_a.get("/app/billing/")
    assert "Subscriptions</h2>" not in response.content.decode()
