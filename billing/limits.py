"""The plan's limits, checked before a message is queued or an account or number is added.

Registered into platform_core.usage_limits by BillingConfig.ready(): sending and waba sit below
billing and call the registry, so their imports keep pointing down. Runs in the tenant's schema.

A limit of N allows N: a request is refused when what is used plus what it asks for would exceed
N (at N - 1 used, one more message is allowed; at N used, none).
"""

from __future__ import annotations

from django.utils import timezone

from billing.plans.errors import PlanLimitReached
from billing.plans.models import PlanVersion
from billing.plans.periods import period_bounds
from billing.selectors import messages_used, subscription_current
from platform_core import usage_limits
from waba.models import PhoneNumber, WhatsAppAccount


def plan_limit_check(*, resource: str, amount: int, category: str) -> None:
    subscription = subscription_current()
    if subscription is None:
        return  # no plan, no plan limits
    version = subscription.plan_version
    if resource == usage_limits.MESSAGES:
        if version.overage_policy != PlanVersion.OveragePolicy.BLOCK:
            return
        limit = version.included_for(category or "service")
        if limit is None:
            return
        start, end = period_bounds(anchor_day=subscription.anchor_day, at=timezone.now())
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


def _count_check(resource: str, used: int, amount: int, limit: int) -> None:
    if used + amount > limit:
        noun = resource.replace("_", " ")
        raise PlanLimitReached(
            f"The plan allows {limit} {noun}; this workspace has {used}.",
            details={"resource": resource, "limit": limit, "used": used, "resets_at": None},
        )
