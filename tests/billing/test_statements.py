"""Period close: one immutable statement per tenant and period, its lines, totals, tax and CSV."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.plans.errors import PlanVersionLocked, StatementImmutable
from billing.plans.models import PlanChange, PlanVersion, Statement, Subscription
from billing.plans.periods import period_bounds, previous_period
from billing.plans.services import plan_version_update, subscription_change_plan
from billing.statements import statement_close, statement_csv, statements_close_due
from tests.billing.factories import delivered, outbound, plan_version, pricing, subscribe


@pytest.fixture
def billed_a(tenant_a, in_tenant):
    """Alpha on a bill-overage plan, with 3 paid marketing messages to the US and 1 free one this period."""
    version = plan_version(
        included_messages={"marketing": 1},
        overage_rates={"marketing": "0.05"},
        overage_policy=PlanVersion.OveragePolicy.BILL,
        markup_percent=Decimal("10"),
    )
    subscription = subscribe(tenant_a, version, tax_percent=Decimal("20"))
    with in_tenant(tenant_a):
        for _ in range(3):
            delivered(outbound(), pricing("marketing"))
        delivered(outbound(), pricing("service", "free_entry_point", billable=False))
    return subscription


def close_current(tenant, subscription):
    start, end = period_bounds(anchor_day=subscription.anchor_day, at=timezone.now())
    return statement_close(tenant=tenant, period_start=start, period_end=end)


def test_a_closed_period_has_the_plan_fee_the_overage_and_metas_cost_with_markup(tenant_a, billed_a):
    statement = close_current(tenant_a, billed_a)

    lines = [
        (line.kind, line.category, line.market, line.quantity, line.amount) for line in statement.lines.all()
    ]
    assert lines == [
        ("plan_fee", "", "", 1, Decimal("49.00")),
        ("overage", "marketing", "", 2, Decimal("0.10")),
        ("meta_cost", "marketing", "US", 3, Decimal("0.08")),  # 3 x 0.025 USD + 10 %
    ]
    assert statement.subtotal == Decimal("49.18")
    assert statement.tax_amount == Decimal("9.84")
    assert statement.total == Decimal("59.02")


def test_closing_a_period_twice_yields_one_identical_statement(tenant_a, in_tenant, billed_a):
    first = close_current(tenant_a, billed_a)
    with in_tenant(tenant_a):
        delivered(outbound(), pricing("marketing"))  # arrives after the close

    second = close_current(tenant_a, billed_a)

    assert second.pk == first.pk
    assert Statement.objects.filter(tenant=tenant_a).count() == 1
    assert statement_csv(statement=second) == statement_csv(statement=first)
    assert second.total == Decimal("59.02")


def test_a_statement_and_its_plan_version_are_immutable_once_closed(tenant_a, billed_a):
    statement = close_current(tenant_a, billed_a)

    with pytest.raises(StatementImmutable):
        statement.save()
    with pytest.raises(StatementImmutable):
        statement.lines.first().save()
    with pytest.raises(PlanVersionLocked):
        plan_version_update(version=billed_a.plan_version, terms={"monthly_fee": Decimal("1")})


def test_the_csv_export_lists_lines_and_totals(tenant_a, billed_a):
    text = statement_csv(statement=close_current(tenant_a, billed_a))

    rows = text.splitlines()
    assert rows[0] == "position,kind,description,category,market,quantity,unit_price,amount,currency"
    assert rows[1].startswith("1,plan_fee,Growth plan (v1),,,1,49.00")
    assert rows[-1] == ",total,,,,,,59.02,USD"


def test_another_tenants_messages_are_not_on_the_statement(tenant_a, tenant_b, in_tenant):
    subscription = subscribe(tenant_a, plan_version())
    with in_tenant(tenant_b):
        delivered(outbound(), pricing("marketing"))

    statement = close_current(tenant_a, subscription)

    assert [line.kind for line in statement.lines.all()] == ["plan_fee"]


def test_the_close_job_closes_the_last_ended_period_once_and_applies_a_waiting_plan_change(tenant_a):
    subscription = subscribe(tenant_a, plan_version())
    subscription.created_at = timezone.now() - timedelta(days=70)
    subscription.save(update_fields=["created_at"])
    cheaper = plan_version("starter", monthly_fee=Decimal("9.00"))
    change = subscription_change_plan(subscription=subscription, plan_version=cheaper, timing="next_period")

    statements_close_due()
    statements_close_due()

    [statement] = Statement.objects.filter(tenant=tenant_a)
    start, _ = previous_period(anchor_day=1, at=timezone.now())
    assert statement.period_start == start
    assert statement.total == Decimal("49.00")  # the period closed on the old plan
    subscription.refresh_from_db()
    assert subscription.plan_version == cheaper and subscription.next_plan_version is None
    assert change.timing == PlanChange.Timing.NEXT_PERIOD


def test_a_plan_change_now_is_recorded_and_applies_at_once(tenant_a):
    subscription = subscribe(tenant_a, plan_version())
    bigger = plan_version("scale", monthly_fee=Decimal("199.00"))

    change = subscription_change_plan(subscription=subscription, plan_version=bigger, timing="now")

    subscription.refresh_from_db()
    assert subscription.plan_version == bigger
    assert change.from_version != bigger and change.timing == "now"


def test_deleting_a_tenant_with_statements_is_refused_with_409_and_keeps_everything(db, platform_api):
    from django_tenants.utils import schema_exists

    from tenants.models import Tenant
    from tenants.services import tenant_create

    tenant = tenant_create(slug="billing-kept", name="Kept").tenant
    closed = close_current(tenant, subscribe(tenant, plan_version()))

    response = platform_api.delete_json(f"/api/platform/tenants/{tenant.slug}", {"confirm": tenant.slug})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "tenant_has_statements"
    assert error["details"] == {"kept": {"statements": 1}}
    assert "Suspend it instead (POST /api/platform/tenants/billing-kept/suspend)" in error["message"]
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert Statement.objects.filter(pk=closed.pk).exists()
    assert schema_exists(tenant.schema_name)  # refused before the drop


def test_deleting_a_subscribed_tenant_without_statements_drops_its_subscription(db, platform_api):
    from tenants.services import tenant_create

    tenant = tenant_create(slug="billing-gone", name="Gone").tenant
    subscribe(tenant, plan_version())
    with connection.cursor() as cursor:
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # the test's transaction would defer the drop's checks

    response = platform_api.delete_json(f"/api/platform/tenants/{tenant.slug}", {"confirm": tenant.slug})

    assert response.status_code == 204
    assert not Subscription.objects.filter(tenant_id=tenant.pk).exists()
