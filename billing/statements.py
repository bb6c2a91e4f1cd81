"""Closing a billing period into a Statement, and exporting statements.

`statement_close` runs from the public schema and enters the tenant's schema to read its usage.
It is idempotent: a statement is unique per (tenant, period_start), so closing a period again
(or two workers closing it at once) returns the one statement already written, unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.metering import messages_meter
from billing.plans.models import PlanVersion, Statement, StatementLine, Subscription
from billing.plans.periods import previous_period
from billing.plans.services import subscription_roll, subscription_trials_end
from billing.selectors import messages_used, metered_totals
from tenants.models import Tenant

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineDraft:
    kind: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    category: str = ""
    market: str = ""


def plan_fee_line(
    *, version: PlanVersion, start: datetime, end: datetime, trial_ends_at: datetime | None = None
) -> LineDraft:
    """The plan's fee for [start, end): nothing for the days a trial covers (a trial's last day counts
    whole), the rest of the fee for the days after it."""
    name = f"{version.plan.name} plan (v{version.version})"
    if trial_ends_at is None or trial_ends_at <= start:
        return LineDraft(
            StatementLine.Kind.PLAN_FEE, name, 1, version.monthly_fee, _money(version.monthly_fee)
        )
    trial_end_day = datetime.combine(trial_ends_at.astimezone(UTC).date(), time.min, tzinfo=UTC)
    if trial_end_day < trial_ends_at:
        trial_end_day += timedelta(days=1)
    days = (end - start).days
    billed_days = max(0, (end - max(start, trial_end_day)).days)
    until = f"free trial until {trial_ends_at:%d %b %Y}"
    if billed_days == 0:
        return LineDraft(StatementLine.Kind.PLAN_FEE, f"{name}, {until}", 1, Decimal("0"), Decimal("0.00"))
    return LineDraft(
        StatementLine.Kind.PLAN_FEE,
        f"{name}, {until}: {billed_days} of {days} days billed",
        1,
        version.monthly_fee,
        _money(version.monthly_fee * billed_days / days),
    )


def statement_lines_compute(
    *, version: PlanVersion, start: datetime, end: datetime, trial_ends_at: datetime | None = None
) -> list[LineDraft]:
    """The lines of a period on `version`, from the usage in the current tenant's schema."""
    lines = [plan_fee_line(version=version, start=start, end=end, trial_ends_at=trial_ends_at)]
    if version.overage_policy == PlanVersion.OveragePolicy.BILL:
        for category, used in sorted(messages_used(start=start, end=end).items()):
            included = version.included_for(category)
            rate = version.overage_rate_for(category)
            if included is None or used <= included or rate == 0:
                continue
            extra = used - included
            lines.append(
                LineDraft(
                    StatementLine.Kind.OVERAGE,
                    f"{category} messages beyond {included}",
                    extra,
                    rate,
                    _money(rate * extra),
                    category=category,
                )
            )
    factor = version.usd_rate * (1 + version.markup_percent / 100)
    for (category, market), row in metered_totals(start=start, end=end).items():
        count, cost = row.billable, row.cost_usd
        if count == 0 or cost == 0:
            continue
        amount = _money(cost * factor)
        lines.append(
            LineDraft(
                StatementLine.Kind.META_COST,
                f"Meta: {category} messages to {market}",
                count,
                (cost * factor / count).quantize(MICRO, rounding=ROUND_HALF_UP),
                amount,
                category=category,
                market=market,
            )
        )
    return lines


def statement_close(*, tenant: Tenant, period_start: datetime, period_end: datetime) -> Statement:
    """The tenant's statement for [period_start, period_end): the existing one, or a new one written now.

    Meters the tenant's messages first, so every message priced before the close is on it.
    """
    existing = Statement.objects.filter(tenant=tenant, period_start=period_start).first()
    if existing is not None:
        return existing
    subscription = Subscription.objects.select_related("plan_version__plan").get(tenant=tenant)
    version = subscription.plan_version
    with schema_context(tenant.schema_name):
        messages_meter()
        drafts = statement_lines_compute(
            version=version, start=period_start, end=period_end, trial_ends_at=subscription.trial_ends_at
        )
    subtotal = sum((line.amount for line in drafts), Decimal("0"))
    tax_amount = _money(subtotal * subscription.tax_percent / 100)
    try:
        with transaction.atomic():
            statement = Statement.objects.create(
                tenant=tenant,
                period_start=period_start,
                period_end=period_end,
                plan_version=version,
                currency=version.currency,
                subtotal=subtotal,
                tax_percent=subscription.tax_percent,
                tax_amount=tax_amount,
                total=subtotal + tax_amount,
            )
            StatementLine.objects.bulk_create(
                StatementLine(
                    statement=statement,
                    position=position,
                    kind=line.kind,
                    description=line.description,
                    category=line.category,
                    market=line.market,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.amount,
                )
                for position, line in enumerate(drafts, start=1)
            )
    except IntegrityError:
        return Statement.objects.get(tenant=tenant, period_start=period_start)  # another close won
    return statement


def statements_close_due(*, now: datetime | None = None) -> list[Statement]:
    """End the trials that are over (trialing -> active), close every subscribed active tenant's last
    ended period that has no statement, then apply plan changes waiting for the new period. Runs in
    the public schema; safe to run again."""
    now = now or timezone.now()
    subscription_trials_end(now=now)
    closed = []
    subscriptions = (
        Subscription.objects.select_related("tenant", "plan_version__plan")
        .filter(tenant__status=Tenant.Status.ACTIVE)
        .exclude(tenant__schema_name="public")
    )
    for subscription in subscriptions:
        start, end = previous_period(anchor_day=subscription.anchor_day, at=now)
        if subscription.created_at >= end:
            continue  # subscribed after that period ended
        closed.append(statement_close(tenant=subscription.tenant, period_start=start, period_end=end))
        subscription_roll(subscription=subscription)
    return closed


CSV_HEADER = [
    "position",
    "kind",
    "description",
    "category",
    "market",
    "quantity",
    "unit_price",
    "amount",
    "currency",
]


def statement_csv(*, statement: Statement) -> str:
    """The statement's lines, then its subtotal, tax and total, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for line in statement.lines.order_by("position"):
        writer.writerow(
            [
                line.position,
                line.kind,
                line.description,
                line.category,
                line.market,
                line.quantity,
                line.unit_price,
                line.amount,
                statement.currency,
            ]
        )
    writer.writerow(["", "subtotal", "", "", "", "", "", statement.subtotal, statement.currency])
    writer.writerow(
        ["", "tax", f"{statement.tax_percent}%", "", "", "", "", statement.tax_amount, statement.currency]
    )
    writer.writerow(["", "total", "", "", "", "", "", statement.total, statement.currency])
    return out.getvalue()
