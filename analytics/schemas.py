"""Input and output shapes of the analytics API (tenant) and the platform health API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ValidationInfo, field_validator

from analytics.journeys import workspace_zone, zone_named
from platform_core.api import MAX_PAGE_SIZE

if TYPE_CHECKING:
    from analytics.models import AccountHealthEvent

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
# Days a range may start or end on: any date a message could carry, far from the calendar's ends, so
# the default start (30 days back) and the week and month series never leave the calendar.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2999, 12, 31)
DAY_RANGE = f"A UTC day from {EARLIEST_DAY} to {LATEST_DAY}."


class PeriodQuery(Schema):
    """A date range (UTC days, both ends included); by default the last 30 days up to today."""

    date_from: date | None = Field(None, ge=EARLIEST_DAY, le=LATEST_DAY, description=DAY_RANGE)
    date_to: date | None = Field(
        None, ge=EARLIEST_DAY, le=LATEST_DAY, validate_default=True, description=DAY_RANGE
    )

    @field_validator("date_to")
    @classmethod
    def _range_valid(cls, value: date | None, info: ValidationInfo) -> date:
        date_to = value or timezone.now().date()
        date_from = info.data.get("date_from") or date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if date_from > date_to:
            raise ValueError("date_to must be on or after date_from")
        if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"the range may span at most {MAX_RANGE_DAYS} days")
        return date_to

    @property
    def period(self) -> tuple[date, date]:
        date_to = self.date_to or timezone.now().date()
        return self.date_from or date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1), date_to


class AnalyticsQuery(PeriodQuery):
    """A date range (see `PeriodQuery`) and how to group the series; by default grouped by day."""

    group_by: Literal["day", "week", "month"] = "day"


class ZonedPeriodQuery(PeriodQuery):
    """A date range (see `PeriodQuery`) whose days are read in `timezone`."""

    timezone: str | None = Field(
        None,
        max_length=64,
        description="IANA name of the zone the days are read in, e.g. Europe/Berlin; by default the "
        "workspace's (its first WhatsApp account's, UTC without one).",
    )

    @field_validator("timezone")
    @classmethod
    def _zone_known(cls, value: str | None) -> str | None:
        if value is not None:
            zone_named(value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.timezone) if self.timezone else workspace_zone()


class JourneyOut(Schema):
    date_from: date
    date_to: date
    timezone: str
    first_contacts: int = Field(description="Contacts whose first inbound message fell in the range.")
    first_orders: int = Field(description="Of them, those who placed an order after it (at any time since).")
    conversion_rate: float | None = Field(description="first_orders / first_contacts; null without contacts.")
    median_time_to_first_order_s: int | None
    p90_time_to_first_order_s: int | None


class FunnelStepOut(Schema):
    step: str
    after: str | None = Field(
        description="The step that first leads here from the start; null for the start and for "
        "steps the workflow no longer has."
    )
    contacts: int = Field(description="Distinct contacts who entered the step in the range.")
    share_of_first: float | None = Field(description="contacts / the first step's contacts.")
    drop: int | None = Field(description="The `after` step's contacts minus this step's; null without one.")
    drop_rate: float | None = Field(description="drop / the `after` step's contacts.")


class WorkflowFunnelOut(Schema):
    workflow_id: int
    name: str
    date_from: date
    date_to: date
    timezone: str
    contacts: int = Field(description="Distinct contacts who entered any step of the workflow in the range.")
    steps: list[FunnelStepOut] = Field(
        description="From the start, in the order the workflow leads through its steps; steps it no "
        "longer has come last."
    )


class ReferralAdOut(Schema):
    """Inbound messages that came from one Click-to-WhatsApp ad or post in the range."""

    source_id: str = Field(description="Meta's id of the ad or post (the referral's `source_id`).")
    source_type: str = Field(description="`ad` or `post`, as the latest message in the range says.")
    headline: str = Field(description="The ad's headline, as the latest message in the range says.")
    source_url: str
    inbound_messages: int
    contacts: int = Field(description="Distinct contacts who wrote from this ad.")
    first_seen: datetime
    last_seen: datetime


class HealthQuery(Schema):
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="How many log entries and events to return.")


class Totals(Schema):
    sent: int
    delivered: int
    read: int
    failed: int
    received: int
    contact_days: int = Field(description="Distinct contacts per number and day, summed over the range.")


class Rates(Schema):
    delivery_rate: float | None
    read_rate: float | None
    failure_rate: float | None


class FailureCode(Schema):
    code: str
    count: int
    meaning: str


class SeriesPoint(Schema):
    period_start: date
    sent: int
    delivered: int
    read: int
    failed: int
    received: int
    delivery_rate: float | None
    read_rate: float | None
    failure_rate: float | None


class HourCount(Schema):
    hour: int = Field(description="Hour of the day, UTC.")
    messages: int


class UsageSummary(Schema):
    totals: Totals
    rates: Rates
    top_failure_codes: list[FailureCode]
    conversations_by_category: dict[str, int]
    replies: int
    median_reply_time_s: int | None = Field(
        description="Median time from a customer's message to the first reply, to the resolution "
        "of the roll-up histogram (1 s under a minute, 10 s under 10 min, 1 min under 2 h)."
    )
    series: list[SeriesPoint]


class DashboardOut(UsageSummary):
    date_from: date
    date_to: date
    group_by: str
    messages_by_hour: list[HourCount]
    busiest_hours: list[HourCount]


class PhoneNumberUsage(UsageSummary):
    id: int
    phone_number_id: str
    display_phone_number: str


class AccountAnalyticsOut(DashboardOut):
    account_id: int
    phone_numbers: list[PhoneNumberUsage]


class TemplateCounts(Schema):
    sent: int
    delivered: int
    read: int
    failed: int
    replied: int
    delivery_rate: float | None
    read_rate: float | None
    failure_rate: float | None
    reply_rate: float | None


class TemplatePoint(TemplateCounts):
    period_start: date


class TemplateAnalyticsOut(Schema):
    template_id: int
    name: str
    language: str
    category: str
    date_from: date
    date_to: date
    group_by: str
    totals: TemplateCounts
    series: list[TemplatePoint]


class HealthLogOut(Schema):
    checked_at: datetime
    healthy: bool | None
    reachable: bool
    findings: list[dict]
    graph_latency_ms: int | None
    error_code: int | None
    account_status: str


class HealthEventOut(Schema):
    kind: str
    phone_number_id: str | None = None
    old_value: str
    new_value: str
    reason: str
    occurred_at: datetime

    @staticmethod
    def resolve_phone_number_id(event: AccountHealthEvent) -> str | None:
        return event.phone_number.phone_number_id if event.phone_number else None


class PhoneNumberHealthOut(Schema):
    phone_number_id: str
    display_phone_number: str
    quality_rating: str
    messaging_limit_tier: str
    throughput_level: str
    status: str
    name_status: str
    last_synced_at: datetime | None


class AccountHealthOut(Schema):
    account_id: int
    waba_id: str
    status: str
    status_reason: str
    status_changed_at: datetime | None
    access_token_expires_at: datetime | None
    last_checked_at: datetime | None
    latest: HealthLogOut | None
    phone_numbers: list[PhoneNumberHealthOut]
    logs: list[HealthLogOut]
    events: list[HealthEventOut]


class PlatformPhoneNumberOut(Schema):
    phone_number_id: str
    display_phone_number: str
    quality_rating: str
    messaging_limit_tier: str
    status: str


class PlatformAccountHealthOut(Schema):
    tenant_slug: str
    tenant_name: str
    tenant_status: str
    account_id: int
    waba_id: str
    display_name: str
    status: str
    status_reason: str
    worst_quality: str | None
    last_checked_at: datetime | None
    last_check_healthy: bool | None
    phone_numbers: list[PlatformPhoneNumberOut]
