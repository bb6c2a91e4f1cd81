"""Writes of plans and subscriptions (public schema)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from billing.plans.errors import PlanCodeTaken, SubscriptionExists
from billing.plans.models import Plan, PlanChange, PlanVersion, Subscription
from billing.plans.periods import period_bounds
from tenants.models import Tenant


@transaction.atomic
def plan_create(*, code: str, name: str, terms: dict[str, Any] | None = None) -> Plan:
    """A plan, with its version 1 on `terms` when given; 409 `plan_code_taken` when the code is in use."""
    try:
        with transaction.atomic():
            plan = Plan.objects.create(code=code, name=name)
    except IntegrityError:
        raise PlanCodeTaken(
            f"A plan with the code {code!r} exists already.", details=[{"field": "code"}]
        ) from None
    if terms is not None:
        plan_version_create(plan=plan, terms=terms)
    return plan


@transaction.atomic
def plan_version_create(*, plan: Plan, terms: dict[str, Any]) -> PlanVersion:
    """A new version of `plan` with `terms` (PlanVersion's fields); versions count up from 1."""
    Plan.objects.select_for_update().filter(pk=plan.pk).first()
    latest = plan.versions.aggregate(latest=Max("version"))["latest"] or 0
    return PlanVersion.objects.create(plan=plan, version=latest + 1, **terms)


def plan_version_update(*, version: PlanVersion, terms: dict[str, Any]) -> PlanVersion:
    """Change a version's terms; refused (PlanVersionLocked, 409) once a closed statement used it."""
    for name, value in terms.items():
        setattr(version, name, value)
    version.save()
    return version


def subscription_create(
    *,
    tenant: Tenant,
    plan_version: PlanVersion,
    anchor_day: int = 1,
    trial_ends_at: datetime | None = None,
    tax_percent: Decimal = Decimal("0"),
) -> Subscription:
    """Subscribe a tenant (409 `subscription_exists` when it has one: change its plan instead)."""
    if Subscription.objects.filter(tenant=tenant).exists():
        raise SubscriptionExists(
            f"Tenant {tenant.slug!r} already has a subscription; change its plan instead."
        )
    status = Subscription.Status.TRIALING if trial_ends_at else Subscription.Status.ACTIVE
    return Subscription.objects.create(
        tenant=tenant,
        plan_version=plan_version,
        anchor_day=anchor_day,
        status=status,
        trial_ends_at=trial_ends_at,
        tax_percent=tax_percent,
    )


@transaction.atomic
def subscription_change_plan(
    *, subscription: Subscription, plan_version: PlanVersion, timing: str, now: datetime | None = None
) -> PlanChange:
    """Move to `plan_version` now, or when the next period starts (`subscription_roll` applies it).

    Either way the change is recorded. A change now bills the whole current period on the new version.
    """
    now = now or timezone.now()
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if timing == PlanChange.Timing.NOW:
        effective_at = now
        change = PlanChange.objects.create(
            subscription=subscription,
            from_version=subscription.plan_version,
            to_version=plan_version,
            timing=timing,
            effective_at=effective_at,
        )
        subscription.plan_version = plan_version
        subscription.next_plan_version = None
    else:
        _, effective_at = period_bounds(anchor_day=subscription.anchor_day, at=now)
        change = PlanChange.objects.create(
            subscription=subscription,
            from_version=subscription.plan_version,
            to_version=plan_version,
            timing=PlanChange.Timing.NEXT_PERIOD,
            effective_at=effective_at,
        )
        subscription.next_plan_version = plan_version
    subscription.save(update_fields=["plan_version", "next_plan_version", "updated_at"])
    return change


def subscription_roll(*, subscription: Subscription) -> Subscription:
    """Apply a plan change waiting for the next period (the period close calls this after closing)."""
    if subscription.next_plan_version_id is not None:
        subscription.plan_version_id = subscription.next_plan_version_id
        subscription.next_plan_version = None
        subscription.save(update_fields=["plan_version", "next_plan_version", "updated_at"])
    return subscription


def subscription_set_status(*, subscription: Subscription, status: str) -> Subscription:
    subscription.status = status
    subscription.save(update_fields=["status", "updated_at"])
    return subscription


def subscription_trials_end(*, now: datetime | None = None) -> int:
    """Move every subscription whose trial is over from trialing to active; returns how many moved."""
    return Subscription.objects.filter(
        status=Subscription.Status.TRIALING, trial_ends_at__lte=now or timezone.now()
    ).update(status=Subscription.Status.ACTIVE, updated_at=timezone.now())
