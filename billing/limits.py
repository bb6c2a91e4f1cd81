"""The plan's limits, checked before a message is queued or an account, number or user is added.

Registered into platform_core.usage_limits by BillingConfig.ready(): sending and waba sit below
billing and call the registry, so their imports keep pointing down. Runs in the tenant's schema.

The message allowance counts then lets the caller insert: `allowance_lock` makes concurrent sends
of one tenant take turns, so two cannot both pass at the boundary.

A limit of N allows N: a request is refused when what is used plus what it asks for would exceed
N (at N - 1 used, one more message is allowed; at N used, none).
"""

from __future__ import annotations

import zlib

from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.credit import credit_balance_check
from billing.plans.errors import PlanLimitReached
from billing.plans.models import PlanVersion, Subscription
from billing.plans.periods import period_bounds
from billing.selectors import messages_used, subscription_current
from platform_core import usage_limits
from platform_core.batch_memo import batch_memo
from tenants.context import connection
from waba.models import PhoneNumber, WhatsAppAccount


def billing_usage_check(*, resource: str, amount: int, category: str) -> None:
    """The plan's limits, then the prepaid balance, from one read of the subscription (registered into
    platform_core.usage_limits; runs on every send, so it reads as little as it can)."""
    subscription = batch_memo(("billing.subscription",), subscription_current)
    if subscription is None:
        return  # no plan, no plan limits
    plan_limit_check(subscription=subscription, resource=resource, amount=amount, category=category)
    credit_balance_check(subscription=subscription, resource=resource)


def plan_limit_check(*, subscription: Subscription, resource: str, amount: int, category: str) -> None:
    version = subscription.plan_version
    if resource == usage_limits.MESSAGES:
        if version.overage_policy != PlanVersion.OveragePolicy.BLOCK:
            return
        limit = version.included_for(category or "service")
        if limit is None:
            return
        start, end = period_bounds(anchor_day=subscription.anchor_day, at=timezone.now())
        allowance_lock(tenant_id=subscription.tenant_id, resource=resource, category=category or "service")
        used = messages_used(start=start, end=end).get(category or "service", 0)
        if used + amount > limit:
            raise PlanLimitReached(
                f"The plan includes {limit} {category or 'service'} messages a period and {used} are used; "
                f"it resets at {end.isoformat()}.",
                details={
                    "resource": resource,
                    "category": category or "service",
                    "limit": limit,
                    "used": used,
                    "resets_at": end.isoformat(),
                },
            )
    elif resource == usage_limits.ACCOUNTS and version.max_accounts is not None:
        _count_check(resource, WhatsAppAccount.objects.count(), amount, version.max_accounts)
    elif resource == usage_limits.PHONE_NUMBERS and version.max_phone_numbers is not None:
        _count_check(resource, PhoneNumber.objects.count(), amount, version.max_phone_numbers)
    elif resource == usage_limits.USERS and version.max_users is not None:
        # Active users, those still to accept their invitation included; deactivated ones free a seat.
        _count_check(
            resource, get_user_model().objects.filter(is_active=True).count(), amount, version.max_users
        )


def allowance_lock(*, tenant_id: int, resource: str, category: str) -> None:
    """Serialise the count-then-insert of one tenant's allowance: inside the caller's transaction, wait
    for any other holder of this (tenant, resource, category) lock until it commits, so the count that
    follows sees its rows. Released at commit or rollback; outside a transaction there is nothing to hold."""
    if not connection.in_atomic_block:
        return
    namespace = zlib.crc32(f"billing-allowance:{resource}:{category}".encode()) - 2**31  # a signed int4
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, tenant_id])


def _count_check(resource: str, used: int, amount: int, limit: int) -> None:
    if used + amount > limit:
        noun = resource.replace("_", " ")
        raise PlanLimitReached(
            f"The plan allows {limit} {noun}; this workspace has {used}.",
            details={"resource": resource, "limit": limit, "used": used, "resets_at": None},
        )
