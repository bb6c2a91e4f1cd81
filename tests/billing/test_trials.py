"""Trials: no plan fee for the days a trial covers (the statement's line says so), and the
subscription moves from trialing to active when the trial is over."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from billing.plans.models import StatementLine, Subscription
from billing.statements import statement_close, statement_csv, statements_close_due
from tests.billing.factories import plan_version, subscribe

NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))  # 30 days


def fee_line(statement) -> StatementLine:
    return statement.lines.get(kind=StatementLine.Kind.PLAN_FEE)


def test_a_period_inside_the_trial_pays_no_fee_and_the_line_says_why(tenant_a):
    subscription = subscribe(tenant_a, plan_version(), trial_ends_at=datetime(2026, 12, 15, tzinfo=UTC))
    assert subscription.status == Subscription.Status.TRIALING

    statement = statement_close(tenant=tenant_a, period_start=NOVEMBER[0], period_end=NOVEMBER[1])

    line = fee_line(statement)
    assert line.description == "Growth plan (v1), free trial until 15 Dec 2026"
    assert line.amount == Decimal("0.00") and line.unit_price == Decimal("0")
    assert statement.total == Decimal("0.00")
    assert "Growth plan (v1), free trial until 15 Dec 2026" in statement_csv(statement=statement)


def test_a_trial_ending_inside_a_period_bills_the_days_after_it(tenant_a):
    # Ends on 10 Nov at noon: 1-10 Nov are free, 11-30 Nov (20 of 30 days) are billed.
    subscribe(
        tenant_a,
        plan_version(monthly_fee=Decimal("30.00")),
        trial_ends_at=datetime(2026, 11, 10, 12, tzinfo=UTC),
    )

    statement = statement_close(tenant=tenant_a, period_start=NOVEMBER[0], period_end=NOVEMBER[1])

    line = fee_line(statement)
    assert line.description == "Growth plan (v1), free trial until 10 Nov 2026: 20 of 30 days billed"
    assert line.amount == Decimal("20.00")


def test_a_period_after_the_trial_pays_the_whole_fee(tenant_a):
    subscribe(tenant_a, plan_version(), trial_ends_at=datetime(2026, 10, 20, tzinfo=UTC))

    statement = statement_close(tenant=tenant_a, period_start=NOVEMBER[0], period_end=NOVEMBER[1])

    assert fee_line(statement).description == "Growth plan (v1)"
    assert fee_line(statement).amount == Decimal("49.00")


def test_the_period_close_ends_trials_that_are_over_and_only_those(tenant_a, tenant_b):
    over = subscribe(tenant_a, plan_version(), trial_ends_at=datetime(2026, 11, 10, tzinfo=UTC))
    running = subscribe(tenant_b, plan_version("other"), trial_ends_at=datetime(2026, 11, 20, tzinfo=UTC))

    statements_close_due(now=datetime(2026, 11, 15, tzinfo=UTC))

    over.refresh_from_db()
    running.refresh_from_db()
    assert over.status == Subscription.Status.ACTIVE
    assert running.status == Subscription.Status.TRIALING

    statements_close_due(now=datetime(2026, 11, 20, tzinfo=UTC))
    running.refresh_from_db()
    assert running.status == Subscription.Status.ACTIVE
