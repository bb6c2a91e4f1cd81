"""Public-schema billing models: plans and their versions, subscriptions, the rate card, statements.

Money is Decimal throughout. A PlanVersion is what a subscription points at; once a closed
statement used it, it can no longer change (a new version is created instead). Statements and
their lines are written once by the period close and never updated.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from billing.plans.errors import PlanVersionLocked, StatementImmutable
from tenants.models import Tenant

# Meta's pricing categories as the status webhook names them, plus free-form service messages.
CATEGORIES = ("marketing", "utility", "authentication", "authentication_international", "service")


class Plan(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlanVersion(models.Model):
    class OveragePolicy(models.TextChoices):
        BLOCK = "block", "Block sending at the allowance"
        BILL = "bill", "Allow and bill the overage"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    monthly_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    # The price of one US dollar in `currency`: Meta's costs are in USD.
    usd_rate = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("1"))
    # {category: messages per period}; a category left out has no limit.
    included_messages = models.JSONField(default=dict, blank=True)
    # None means no limit.
    max_accounts = models.PositiveIntegerField(null=True, blank=True)
    max_phone_numbers = models.PositiveIntegerField(null=True, blank=True)
    max_users = models.PositiveIntegerField(null=True, blank=True)
    # {category: price per message beyond the allowance, as a decimal string in `currency`}.
    overage_rates = models.JSONField(default=dict, blank=True)
    overage_policy = models.CharField(
        max_length=8, choices=OveragePolicy.choices, default=OveragePolicy.BLOCK
    )
    markup_percent = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    # Prepaid: sending stops while the tenant's credit balance is zero or below.
    stop_at_zero_balance = models.BooleanField(default=False)
    features = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan__name", "-version"]
        constraints = [models.UniqueConstraint(fields=["plan", "version"], name="plan_version_unique")]

    def __str__(self) -> str:
        return f"{self.plan.name} v{self.version}"

    @property
    def is_locked(self) -> bool:
        """True once a closed statement used this version: its terms are then history."""
        return self.pk is not None and Statement.objects.filter(plan_version_id=self.pk).exists()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.is_locked:
            raise PlanVersionLocked(f"{self} is used by a closed statement; create a new version instead.")
        super().save(*args, **kwargs)

    def included_for(self, category: str) -> int | None:
        value = self.included_messages.get(category)
        return None if value is None else int(value)

    def overage_rate_for(self, category: str) -> Decimal:
        return Decimal(str(self.overage_rates.get(category, "0")))


class Subscription(models.Model):
    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELLED = "cancelled", "Cancelled"

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="subscription")
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="subscriptions")
    # The version that replaces `plan_version` when the next period starts.
    next_plan_version = models.ForeignKey(
        PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Periods start on this day of each month (28 at most, so every month has it), at 00:00 UTC.
    anchor_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anchor_day__gte=1, anchor_day__lte=28),
                name="subscription_anchor_day_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} on {self.plan_version_id}"


class PlanChange(models.Model):
    """Every change of a subscription's plan, as it was asked for."""

    class Timing(models.TextChoices):
        NOW = "now", "Now"
        NEXT_PERIOD = "next_period", "At the next period"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="changes")
    from_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    timing = models.CharField(max_length=16, choices=Timing.choices)
    effective_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class RateCardEntry(models.Model):
    """Meta's price of one message in a market (ISO country code, `*` for every other) and category."""

    market = models.CharField(max_length=3)
    category = models.CharField(max_length=32)
    price_usd = models.DecimalField(max_digits=10, decimal_places=6)
    effective_from = models.DateField()

    class Meta:
        ordering = ["market", "category", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "category", "effective_from"], name="rate_card_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.category} {self.price_usd} from {self.effective_from}"


class Statement(models.Model):
    """One tenant's closed billing period. Unique per (tenant, period_start): closing twice finds it."""

    # Kept for the accounts: a tenant with statements cannot be deleted (409 tenant_has_statements).
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="statements")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="statements")
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2)
    tax_amount = models.DecimalField(max_digits=14, decimal_places=2)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period_start"], name="statement_tenant_period_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.period_start:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise StatementImmutable("A closed statement is never changed.")
        super().save(*args, **kwargs)


class StatementLine(models.Model):
    class Kind(models.TextChoices):
        PLAN_FEE = "plan_fee", "Plan fee"
        OVERAGE = "overage", "Overage"
        META_COST = "meta_cost", "Meta cost"
        CREDIT = "credit", "Credit"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=200)
    category = models.CharField(max_length=32, blank=True, default="")
    market = models.CharField(max_length=3, blank=True, default="")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=6)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "position"], name="statement_line_position_unique")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise StatementImmutable("A statement's lines are never changed.")
        super().save(*args, **kwargs)


DEFAULT_ALERT_PERCENTS = [50, 80, 100]


def default_alert_percents() -> list[int]:
    return list(DEFAULT_ALERT_PERCENTS)


class CreditAccount(models.Model):
    """A tenant's prepaid balance (optional: a tenant has one once an operator tops it up).

    Top-ups add to `balance`; metering draws it down by Meta's cost plus the plan's markup.
    Alerts compare the balance with `alert_base`, the balance just after the last top-up: at 80 %
    the balance is at most 20 % of it, at 100 % it is zero or below.
    """

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="credit_account")
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(max_digits=16, decimal_places=6, default=Decimal("0"))
    alert_base = models.DecimalField(max_digits=16, decimal_places=6, default=Decimal("0"))
    alert_percents = models.JSONField(default=default_alert_percents)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.balance} {self.currency}"


class CreditMovement(models.Model):
    """One change of a balance: a top-up, or the draw-down of one metering run (never changed later)."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", "Top-up"
        USAGE = "usage", "Usage"

    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Positive for a top-up, negative for usage; in the account's currency.
    amount = models.DecimalField(max_digits=16, decimal_places=6)
    balance_after = models.DecimalField(max_digits=16, decimal_places=6)
    # Usage: how many metered messages Meta bills this movement paid for.
    messages = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class CreditAlert(models.Model):
    """A spend threshold crossed since a top-up: unique per (top-up, percent), so each is raised once."""

    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="alerts")
    top_up = models.ForeignKey(CreditMovement, on_delete=models.CASCADE, related_name="alerts")
    percent = models.PositiveSmallIntegerField()
    balance = models.DecimalField(max_digits=16, decimal_places=6)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-percent"]
        constraints = [models.UniqueConstraint(fields=["top_up", "percent"], name="credit_alert_once")]
