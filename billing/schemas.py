"""Billing API bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from platform_core.api import NonNegativeInt32, RowId


class CategoryUsageOut(Schema):
    category: str
    used: int
    included: int | None
    overage: int
    metered: int
    billable: int
    meta_cost_usd: Decimal


class DaySpendOut(Schema):
    day: date
    by_category: dict[str, Decimal]


class UsageOut(Schema):
    plan: str | None
    overage_policy: str | None
    period_start: datetime
    period_end: datetime
    meta_cost_usd: Decimal
    categories: list[CategoryUsageOut]
    days: list[DaySpendOut]


class StatementLineOut(Schema):
    position: int
    kind: str
    description: str
    category: str
    market: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


class StatementOut(Schema):
    id: int
    period_start: datetime
    period_end: datetime
    currency: str
    subtotal: Decimal
    tax_percent: Decimal
    tax_amount: Decimal
    total: Decimal
    closed_at: datetime
    lines: list[StatementLineOut]


# The price of one message beyond the allowance, in the plan's currency.
OverageRate = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=6)]


class PlanVersionIn(Schema):
    monthly_fee: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    currency: str = Field("USD", min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    usd_rate: Decimal = Field(Decimal("1"), gt=0, max_digits=12, decimal_places=6)
    included_messages: dict[str, NonNegativeInt32] = Field(default_factory=dict)
    max_accounts: NonNegativeInt32 | None = None
    max_phone_numbers: NonNegativeInt32 | None = None
    max_users: NonNegativeInt32 | None = None
    overage_rates: dict[str, OverageRate] = Field(default_factory=dict)
    overage_policy: Literal["block", "bill"] = "block"
    markup_percent: Decimal = Field(Decimal("0"), ge=0, max_digits=6, decimal_places=2)
    stop_at_zero_balance: bool = False
    features: dict[str, bool | int | str] = Field(default_factory=dict)

    def terms(self) -> dict:
        terms = self.dict()
        terms["overage_rates"] = {category: str(rate) for category, rate in self.overage_rates.items()}
        return terms


class PlanIn(Schema):
    code: str = Field(pattern=r"^[a-z0-9-]{1,50}$")
    name: str = Field(min_length=1, max_length=100)
    terms: PlanVersionIn


class PlanVersionOut(Schema):
    id: int
    plan_code: str
    plan_name: str
    version: int
    monthly_fee: Decimal
    currency: str
    usd_rate: Decimal
    included_messages: dict[str, int]
    max_accounts: int | None
    max_phone_numbers: int | None
    max_users: int | None
    overage_rates: dict[str, Decimal]
    overage_policy: str
    markup_percent: Decimal
    stop_at_zero_balance: bool
    features: dict
    locked: bool


class SubscriptionIn(Schema):
    plan_version_id: RowId
    anchor_day: int = Field(1, ge=1, le=28)
    trial_ends_at: datetime | None = None
    tax_percent: Decimal = Field(Decimal("0"), ge=0, le=100, max_digits=5, decimal_places=2)


class PlanChangeIn(Schema):
    plan_version_id: RowId
    timing: Literal["now", "next_period"] = "next_period"


class SubscriptionOut(Schema):
    tenant: str
    plan_version_id: int
    plan: str
    next_plan_version_id: int | None
    anchor_day: int
    status: str
    trial_ends_at: datetime | None
    tax_percent: Decimal


class TopUpIn(Schema):
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    note: str = Field("", max_length=200)
    # Spend alerts (percent of the balance after this top-up); unchanged when left out.
    alert_percents: list[Annotated[int, Field(ge=1, le=100)]] | None = Field(None, max_length=10)


class CreditMovementOut(Schema):
    id: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    messages: int
    note: str
    created_at: datetime


class CreditAlertOut(Schema):
    percent: int
    balance: Decimal
    created_at: datetime


class CreditOut(Schema):
    tenant: str
    currency: str
    balance: Decimal
    alert_base: Decimal
    alert_percents: list[int]
    alerts: list[CreditAlertOut]
