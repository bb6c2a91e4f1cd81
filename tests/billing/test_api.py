"""Billing APIs: the tenant's usage and statements (only its own), the platform's plans and subscriptions."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from billing.plans.models import PlanVersion, Statement, Subscription
from billing.plans.periods import period_bounds
from billing.statements import statement_close
from tests.billing.factories import delivered, outbound, plan_version, pricing, subscribe


def closed_statement(tenant, subscription):
    start, end = period_bounds(anchor_day=subscription.anchor_day, at=timezone.now())
    return statement_close(tenant=tenant, period_start=start, period_end=end)


def test_usage_is_live_and_meters_before_answering(api_a, tenant_a, in_tenant):
    subscribe(tenant_a, plan_version(included_messages={"marketing": 10}))
    with in_tenant(tenant_a):
        delivered(outbound(wa_id="4915112345000"), pricing("marketing"))
        delivered(outbound(), pricing("utility", "free_customer_service", billable=False))

    response = api_a.get("/api/v1/billing/usage")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["plan"] == "Growth v1"
    rows = {row["category"]: row for row in body["categories"]}
    assert rows["marketing"]["used"] == 1 and rows["marketing"]["included"] == 10
    assert rows["marketing"]["billable"] == 1
    assert Decimal(rows["marketing"]["meta_cost_usd"]) == Decimal("0.1365")  # Germany
    assert rows["utility"]["metered"] == 1 and rows["utility"]["billable"] == 0
    assert Decimal(body["meta_cost_usd"]) == Decimal("0.1365")
    assert body["days"][0]["by_category"]["marketing"]


def test_a_tenant_lists_and_downloads_only_its_own_statements(api_a, api_b, tenant_a, tenant_b):
    statement_a = closed_statement(tenant_a, subscribe(tenant_a, plan_version()))
    statement_b = closed_statement(tenant_b, subscribe(tenant_b, plan_version("other")))

    listed = api_a.get("/api/v1/billing/statements").json()
    assert [row["id"] for row in listed["items"]] == [statement_a.pk]
    assert api_a.get(f"/api/v1/billing/statements/{statement_a.pk}").json()["total"] == "49.00"
    csv_response = api_a.get(f"/api/v1/billing/statements/{statement_a.pk}/csv")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert ",total,,,,,,49.00,USD" in csv_response.content.decode()

    for path in (
        f"/api/v1/billing/statements/{statement_b.pk}",
        f"/api/v1/billing/statements/{statement_b.pk}/csv",
    ):
        assert api_a.get(path).status_code == 404
    assert api_b.get(f"/api/v1/billing/statements/{statement_a.pk}").status_code == 404


def test_the_platform_creates_a_plan_subscribes_a_tenant_and_changes_its_plan(platform_api, tenant_a):
    created = platform_api.post_json(
        "/api/platform/billing/plans",
        {
            "code": "pro",
            "name": "Pro",
            "terms": {
                "monthly_fee": "99.00",
                "included_messages": {"marketing": 1000},
                "overage_rates": {"marketing": "0.04"},
                "overage_policy": "bill",
                "max_accounts": 3,
            },
        },
    )
    assert created.status_code == 201, created.json()
    version_id = created.json()["id"]
    assert created.json()["version"] == 1 and created.json()["overage_policy"] == "bill"

    subscribed = platform_api.post_json(
        f"/api/platform/billing/subscriptions/{tenant_a.slug}",
        {"plan_version_id": version_id, "anchor_day": 15},
    )
    assert subscribed.status_code == 201, subscribed.json()
    assert subscribed.json()["plan"] == "Pro v1" and subscribed.json()["anchor_day"] == 15
    again = platform_api.post_json(
        f"/api/platform/billing/subscriptions/{tenant_a.slug}", {"plan_version_id": version_id}
    )
    assert again.status_code == 409

    v2 = platform_api.post_json("/api/platform/billing/plans/pro/versions", {"monthly_fee": "89.00"})
    assert v2.status_code == 201 and v2.json()["version"] == 2
    changed = platform_api.post_json(
        f"/api/platform/billing/subscriptions/{tenant_a.slug}/plan",
        {"plan_version_id": v2.json()["id"], "timing": "next_period"},
    )
    assert changed.json()["plan_version_id"] == version_id
    assert changed.json()["next_plan_version_id"] == v2.json()["id"]


def test_a_plan_version_used_by_a_closed_statement_cannot_be_changed(platform_api, tenant_a):
    subscription = subscribe(tenant_a, plan_version())
    closed_statement(tenant_a, subscription)

    response = platform_api.put_json(
        f"/api/platform/billing/plan-versions/{subscription.plan_version_id}", {"monthly_fee": "1.00"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "plan_version_locked"
    assert PlanVersion.objects.get(pk=subscription.plan_version_id).monthly_fee == Decimal("49.00")


def test_platform_reads_of_unknown_ids_are_404(platform_api, tenant_b):
    assert platform_api.get("/api/platform/billing/subscriptions/beta").status_code == 404  # not subscribed
    assert platform_api.get("/api/platform/billing/subscriptions/nobody").status_code == 404
    assert platform_api.put_json("/api/platform/billing/plan-versions/999999", {}).status_code == 404


def test_tenant_keys_cannot_use_the_platform_billing_api(api_a):
    assert api_a.get("/api/platform/billing/plans").status_code == 404
    assert Statement.objects.count() == 0 and Subscription.objects.count() == 0
