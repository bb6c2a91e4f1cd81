"""Reads of billing: the tenant's subscription and period, messages used against the plan, live usage.

Functions taking no tenant run in the tenant's schema (they read its messages and metered rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Lower, NullIf, TruncDate
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from billing.metering import messages_meter
from billing.models import MeteredMessage
from billing.plans.models import (
    CreditAccount,
    CreditAlert,
    CreditMovement,
    PlanVersion,
    Statement,
    Subscription,
)
from billing.plans.periods import period_bounds
from messaging.models import Message
from tenants.context import connection
from tenants.models import Tenant

SERVICE = "service"


def subscription_of(*, tenant_id: int) -> Subscription | None:
    return (
        Subscription.objects.select_related("plan_version__plan", "tenant")
        .filter(tenant_id=tenant_id)
        .first()
    )


def subscription_current() -> Subscription | None:
    """The subscription of the tenant whose schema is in use (served, or entered by schema_context), if any."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant):
        return subscription_of(tenant_id=tenant.pk)
    if connection.schema_name == get_public_schema_name():
        return None
    return (
        Subscription.objects.select_related("plan_version__plan", "tenant")
        .filter(tenant__schema_name=connection.schema_name)
        .first()
    )


def messages_used(*, start: datetime, end: datetime) -> dict[str, int]:
    """Outbound messages queued in [start, end) that did not fail, by category.

    Reads the `timestamp` (set when a message is queued) through its index: a send under a
    block-policy allowance runs this count once.

    The category is Meta's when a status named it, else the template's, else `service`
    (a free-form message). This is what allowances and overage count.
    """
    rows = (
        Message.objects.filter(direction=Message.Direction.OUTBOUND, timestamp__gte=start, timestamp__lt=end)
        .exclude(status=Message.Status.FAILED)
        .annotate(
            billing_category=Coalesce(
                NullIf(Lower("pricing_category"), Value("")), Lower("template__category"), Value(SERVICE)
            )
        )
        .values("billing_category")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["billing_category"]: row["count"] for row in rows}


@dataclass(frozen=True)
class CategoryUsage:
    category: str
    used: int
    included: int | None
    overage: int
    metered: int
    billable: int
    meta_cost_usd: Decimal


@dataclass(frozen=True)
class DaySpend:
    day: date
    by_category: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    plan_version: PlanVersion | None
    period_start: datetime
    period_end: datetime
    categories: list[CategoryUsage]
    days: list[DaySpend]

    @property
    def meta_cost_usd(self) -> Decimal:
        return sum((row.meta_cost_usd for row in self.categories), Decimal("0"))


@dataclass(frozen=True)
class MeteredTotal:
    count: int = 0
    billable: int = 0
    cost_usd: Decimal = Decimal("0")

    def __add__(self, other: MeteredTotal) -> MeteredTotal:
        return MeteredTotal(
            self.count + other.count, self.billable + other.billable, self.cost_usd + other.cost_usd
        )


def metered_totals(*, start: datetime, end: datetime) -> dict[tuple[str, str], MeteredTotal]:
    """Metered messages in [start, end) by (category, market): count, billable count, Meta's cost in USD."""
    rows = (
        MeteredMessage.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .values("category", "market")
        .annotate(
            count=Count("id"),
            billable_count=Count("id", filter=Q(billable=True)),
            cost=Coalesce(Sum("meta_cost_usd"), Value(Decimal("0"))),
        )
        .order_by("category", "market")
    )
    return {
        (row["category"], row["market"]): MeteredTotal(row["count"], row["billable_count"], row["cost"])
        for row in rows
    }


def usage_live(*, at: datetime | None = None) -> Usage:
    """The current period's usage, metering first so the figures include every priced message."""
    at = at or timezone.now()
    messages_meter()
    subscription = subscription_current()
    plan_version = subscription.plan_version if subscription else None
    start, end = period_bounds(anchor_day=subscription.anchor_day if subscription else 1, at=at)
    used = messages_used(start=start, end=end)
    metered: dict[str, MeteredTotal] = {}
    for (category, _market), total in metered_totals(start=start, end=end).items():
        metered[category] = metered.get(category, MeteredTotal()) + total
    categories = []
    for category in sorted(
        set(used) | set(metered) | set(plan_version.included_messages if plan_version else {})
    ):
        included = plan_version.included_for(category) if plan_version else None
        count = used.get(category, 0)
        row = metered.get(category, MeteredTotal())
        categories.append(
            CategoryUsage(
                category=category,
                used=count,
                included=included,
                overage=max(0, count - included) if included is not None else 0,
                metered=row.count,
                billable=row.billable,
                meta_cost_usd=row.cost_usd,
            )
        )
    return Usage(
        plan_version=plan_version,
        period_start=start,
        period_end=end,
        categories=categories,
        days=spend_by_day(start=start, end=min(end, at)),
    )


def spend_by_day(*, start: datetime, end: datetime) -> list[DaySpend]:
    """Meta cost in USD of the metered messages per day and category, oldest day first."""
    rows = (
        MeteredMessage.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .annotate(day=TruncDate("occurred_at"))
        .values("day", "category")
        .annotate(cost=Sum("meta_cost_usd"))
        .order_by("day", "category")
    )
    days: dict[date, DaySpend] = {}
    for row in rows:
        days.setdefault(row["day"], DaySpend(day=row["day"])).by_category[row["category"]] = row["cost"]
    return list(days.values())


def plan_versions() -> QuerySet[PlanVersion]:
    return PlanVersion.objects.select_related("plan").order_by("plan__name", "-version")


def statements_of(*, tenant_id: int) -> QuerySet[Statement]:
    """The tenant's statements, newest period first (public schema; filter every read by tenant)."""
    return Statement.objects.filter(tenant_id=tenant_id).order_by("-period_start")


def subscriptions_all() -> QuerySet[Subscription]:
    """Every tenant's subscription (public schema), for the platform's overview."""
    return Subscription.objects.select_related(
        "tenant", "plan_version__plan", "next_plan_version__plan"
    ).order_by("tenant__name")


def statement_any(*, statement_id: int) -> Statement | None:
    """Any tenant's statement (for the platform's operators only)."""
    return Statement.objects.select_related("tenant", "plan_version__plan").filter(pk=statement_id).first()


def statements_recent(*, limit: int = 50) -> QuerySet[Statement]:
    return Statement.objects.select_related("tenant", "plan_version__plan").order_by("-closed_at", "-id")[
        :limit
    ]


def credit_account_of(*, tenant_id: int) -> CreditAccount | None:
    """The tenant's prepaid account, if it has one (public schema)."""
    return CreditAccount.objects.filter(tenant_id=tenant_id).first()


def credit_alerts_current(*, account: CreditAccount) -> list[CreditAlert]:
    """The spend alerts raised since the last top-up, highest first."""
    top_up = account.movements.filter(kind=CreditMovement.Kind.TOP_UP).order_by("-id").first()
    return list(CreditAlert.objects.filter(top_up=top_up)) if top_up else []


def credit_movements_of(*, tenant_id: int) -> QuerySet[CreditMovement]:
    return CreditMovement.objects.filter(account__tenant_id=tenant_id).order_by("-created_at", "-id")


def credit_accounts_all() -> QuerySet[CreditAccount]:
    return CreditAccount.objects.select_related("tenant").order_by("tenant__name")
