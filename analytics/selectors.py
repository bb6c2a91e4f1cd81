"""Reads for the analytics API and the health views.

Usage figures of a day come from its roll-up rows once that roll-up is final (computed after the
day ended). Today, and any recent day whose roll-up is missing or was computed while the day was
still running, is computed at request time from that day's messages by the roll-up's own
functions (`analytics.rollups`), and its stored rows are ignored: a business sees its first
messages at once, and a roll-up that runs in between changes no figure. Only today and the days
the scheduled jobs still recompute (`ROLLUP_RECOMPUTE_DAYS`, at least yesterday) can be computed
live; older days are what their roll-up says.

Rates are None when their denominator is zero: delivery = delivered / sent, read = read /
delivered, failure = failed / sent, reply = replied / delivered (templates).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, ExtractHour
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.errors import AccountNotFound, TemplateNotFound
from analytics.models import AccountHealthEvent, AccountHealthLog, TemplateUsageDaily, UsageDaily, UsageHourly
from analytics.rollups import (
    day_bounds,
    day_messages,
    histogram_median,
    template_usage_compute,
    usage_daily_compute,
    usage_hourly_compute,
)
from messaging.models import Message
from platform_core.api import ShapedRows
from tenants.health_summary import account_health_entries
from tenants.models import AccountHealthEntry
from tenants.selectors import customer_tenants
from waba import meta
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount

COUNT_FIELDS = ("sent", "delivered", "read", "failed", "received")
DAILY_FIELDS = (
    "day",
    "phone_number_id",
    *COUNT_FIELDS,
    "unique_contacts",
    "failures_by_code",
    "conversations_by_category",
    "reply_time_histogram",
    "replies",
)
TEMPLATE_FIELDS = ("sent", "delivered", "read", "failed", "replied")
CATEGORIES = tuple(category.value for category in meta.PricingCategory)
TOP_FAILURE_CODES = 5
BUSIEST_HOURS = 3
QUALITY_RANK = {"RED": 0, "YELLOW": 1, "UNKNOWN": 2, "": 2, "GREEN": 3}


def account_get(*, account_id: int) -> WhatsAppAccount:
    account = WhatsAppAccount.objects.filter(pk=account_id).first()
    if account is None:
        raise AccountNotFound(f"No WhatsApp account {account_id} in this workspace.")
    return account


def template_get(*, template_id: int) -> MessageTemplate:
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise TemplateNotFound(f"No message template {template_id} in this workspace.")
    return template


# --- usage ---------------------------------------------------------------------------------------


def period_start(day: date, group_by: str) -> date:
    if group_by == "week":
        return day - timedelta(days=day.weekday())
    if group_by == "month":
        return day.replace(day=1)
    return day


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _rates(totals: Mapping[str, int]) -> dict[str, float | None]:
    return {
        "delivery_rate": rate(totals["delivered"], totals["sent"]),
        "read_rate": rate(totals["read"], totals["delivered"]),
        "failure_rate": rate(totals["failed"], totals["sent"]),
    }


def _merge(dicts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = defaultdict(int)
    for item in dicts:
        for key, value in item.items():
            merged[key] += value
    return merged


def usage_summary(*, rows: list[dict[str, Any]], group_by: str) -> dict[str, Any]:
    """Totals, rates, breakdowns and a series over UsageDaily rows (dicts with the model's fields)."""
    totals = {field: sum(row[field] for row in rows) for field in COUNT_FIELDS}
    totals["contact_days"] = sum(row["unique_contacts"] for row in rows)
    failures = _merge(row["failures_by_code"] for row in rows)
    conversations = {category: 0 for category in CATEGORIES}
    conversations.update(_merge(row["conversations_by_category"] for row in rows))
    periods: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        periods[period_start(row["day"], group_by)].append(row)
    series = []
    for start in sorted(periods):
        period_totals = {field: sum(row[field] for row in periods[start]) for field in COUNT_FIELDS}
        series.append({"period_start": start, **period_totals, **_rates(period_totals)})
    return {
        "totals": totals,
        "rates": _rates(totals),
        "top_failure_codes": [
            {"code": code, "count": count, "meaning": _error_meaning(code)}
            for code, count in sorted(failures.items(), key=lambda item: (-item[1], item[0]))[
                :TOP_FAILURE_CODES
            ]
        ],
        "conversations_by_category": conversations,
        "replies": sum(row["replies"] for row in rows),
        "median_reply_time_s": histogram_median(row["reply_time_histogram"] for row in rows),
        "series": series,
    }


def _error_meaning(code: str) -> str:
    info = meta.ERROR_CODES.get(int(code)) if code.isdigit() else None
    return info.meaning if info else ""


def usage_live_days(*, date_from: date, date_to: date) -> list[date]:
    """The days of the range computed from the messages at request time (see the module docstring).

    One query on UsageDaily: a day is final when its rows were computed after the day ended. A
    day without rows is live too: nothing rolled up yet, or nothing happened (then its live
    computation is one empty index range).
    """
    today = timezone.now().date()
    first = max(date_from, today - timedelta(days=max(settings.ROLLUP_RECOMPUTE_DAYS, 1)))
    last = min(date_to, today)
    if first > last:
        return []
    rolled_up = dict(
        UsageDaily.objects.filter(day__gte=first, day__lte=last)
        .values("day")
        .annotate(computed_at=Min("computed_at"))
        .values_list("day", "computed_at")
        .order_by()
    )
    days = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    return [day for day in days if day not in rolled_up or rolled_up[day] < day_bounds(day)[1]]


def _in_days(field: str, days: Iterable[date]) -> Q:
    """`field` (a UTC datetime) falls on one of `days`, as index ranges."""
    condition = Q()
    for day in days:
        start, end = day_bounds(day)
        condition |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return condition


def _usage(
    *, date_from: date, date_to: date, account: WhatsAppAccount | None = None
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """UsageDaily rows (dicts of DAILY_FIELDS) and messages (sent + received) by UTC hour of day
    over the range, of one account or all: stored roll-ups for final days, live for the others."""
    live = usage_live_days(date_from=date_from, date_to=date_to)
    scope = {"account": account} if account else {}
    rows = list(
        UsageDaily.objects.filter(day__gte=date_from, day__lte=date_to, **scope)
        .exclude(day__in=live)
        .values(*DAILY_FIELDS)
    )
    start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
    stored_hours = UsageHourly.objects.filter(hour__gte=start, hour__lt=end, **scope)
    if live:
        stored_hours = stored_hours.exclude(_in_days("hour", live))
    hours = (
        stored_hours.annotate(hour_of_day=ExtractHour("hour", tzinfo=UTC))
        .values("hour_of_day")
        .annotate(messages=Sum(F("sent") + F("received")))
        .order_by()
    )
    by_hour = {hour: 0 for hour in range(24)}
    by_hour.update({row["hour_of_day"]: row["messages"] for row in hours})
    computed_at = timezone.now()
    for day in live:
        messages = _scoped(day_messages(day), account=account)
        daily = usage_daily_compute(day=day, messages=messages, computed_at=computed_at)
        if not daily:
            continue
        rows.extend({field: getattr(row, field) for field in DAILY_FIELDS} for row in daily)
        for hourly in usage_hourly_compute(messages=messages, computed_at=computed_at):
            by_hour[hourly.hour.astimezone(UTC).hour] += hourly.sent + hourly.received
    return rows, by_hour


def _scoped(messages: QuerySet[Message], *, account: WhatsAppAccount | None) -> QuerySet[Message]:
    return messages.filter(phone_number__account=account) if account else messages


def busiest_hours(by_hour: Mapping[int, int]) -> dict[str, Any]:
    """Messages by UTC hour of day (all 24) and the busiest hours."""
    ranked = sorted((item for item in by_hour.items() if item[1]), key=lambda item: (-item[1], item[0]))
    return {
        "messages_by_hour": [{"hour": hour, "messages": by_hour[hour]} for hour in range(24)],
        "busiest_hours": [{"hour": hour, "messages": count} for hour, count in ranked[:BUSIEST_HOURS]],
    }


def analytics_dashboard(*, date_from: date, date_to: date, group_by: str) -> dict[str, Any]:
    rows, by_hour = _usage(date_from=date_from, date_to=date_to)
    return {
        "date_from": date_from,
        "date_to": date_to,
        "group_by": group_by,
        **usage_summary(rows=rows, group_by=group_by),
        **busiest_hours(by_hour),
    }


def usage_daily_dashboard(*, date_from: date, date_to: date) -> dict[str, Any]:
    """The dashboard of `analytics_dashboard` grouped by day, for charts: `series` has every day of
    the range (zeros and None rates on a day without messages), and `reply_times` each day's
    replies and median first-reply time (None without a reply)."""
    rows, by_hour = _usage(date_from=date_from, date_to=date_to)
    summary = usage_summary(rows=rows, group_by="day")
    by_day = {point["period_start"]: point for point in summary["series"]}
    histograms: dict[date, list[Mapping[str, int]]] = defaultdict(list)
    replies: dict[date, int] = defaultdict(int)
    for row in rows:
        histograms[row["day"]].append(row["reply_time_histogram"])
        replies[row["day"]] += row["replies"]
    days = [date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1)]
    empty = dict.fromkeys(COUNT_FIELDS, 0)
    summary["series"] = [by_day.get(day) or {"period_start": day, **empty, **_rates(empty)} for day in days]
    summary["reply_times"] = [
        {"day": day, "replies": replies[day], "median_reply_time_s": histogram_median(histograms[day])}
        for day in days
    ]
    return {"date_from": date_from, "date_to": date_to, **summary, **busiest_hours(by_hour)}


def account_analytics(
    *, account: WhatsAppAccount, date_from: date, date_to: date, group_by: str
) -> dict[str, Any]:
    rows, by_hour = _usage(date_from=date_from, date_to=date_to, account=account)
    by_number: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_number[row["phone_number_id"]].append(row)
    numbers = []
    for number in account.phone_numbers.all():
        numbers.append(
            {
                "id": number.pk,
                "phone_number_id": number.phone_number_id,
                "display_phone_number": number.display_phone_number,
                **usage_summary(rows=by_number.get(number.pk, []), group_by=group_by),
            }
        )
    return {
        "account_id": account.pk,
        "date_from": date_from,
        "date_to": date_to,
        "group_by": group_by,
        **usage_summary(rows=rows, group_by=group_by),
        **busiest_hours(by_hour),
        "phone_numbers": numbers,
    }


def _template_rows(*, template: MessageTemplate, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """TemplateUsageDaily rows (day and TEMPLATE_FIELDS): stored for final days, live for the others."""
    live = usage_live_days(date_from=date_from, date_to=date_to)
    rows = list(
        TemplateUsageDaily.objects.filter(template=template, day__gte=date_from, day__lte=date_to)
        .exclude(day__in=live)
        .values("day", *TEMPLATE_FIELDS)
    )
    computed_at = timezone.now()
    for day in live:
        messages = day_messages(day).filter(template=template)
        for row in template_usage_compute(day=day, messages=messages, computed_at=computed_at):
            rows.append({field: getattr(row, field) for field in ("day", *TEMPLATE_FIELDS)})
    return rows


def template_analytics(
    *, template: MessageTemplate, date_from: date, date_to: date, group_by: str
) -> dict[str, Any]:
    fields = TEMPLATE_FIELDS
    rows = _template_rows(template=template, date_from=date_from, date_to=date_to)
    periods: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(fields, 0))
    for row in rows:
        period = periods[period_start(row["day"], group_by)]
        for field in fields:
            period[field] += row[field]
    totals = _merge(periods.values()) if periods else dict.fromkeys(fields, 0)
    totals = {field: totals.get(field, 0) for field in fields}

    def with_rates(counts: Mapping[str, int]) -> dict[str, Any]:
        return {**counts, **_rates(counts), "reply_rate": rate(counts["replied"], counts["delivered"])}

    return {
        "template_id": template.pk,
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "date_from": date_from,
        "date_to": date_to,
        "group_by": group_by,
        "totals": with_rates(totals),
        "series": [{"period_start": start, **with_rates(periods[start])} for start in sorted(periods)],
    }


def templates_performance(*, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Every template sent in the range with its totals and rates, the most sent first."""
    live = usage_live_days(date_from=date_from, date_to=date_to)
    rows = list(
        TemplateUsageDaily.objects.filter(day__gte=date_from, day__lte=date_to)
        .exclude(day__in=live)
        .values("template_id", *TEMPLATE_FIELDS)
    )
    computed_at = timezone.now()
    for day in live:
        for row in template_usage_compute(day=day, messages=day_messages(day), computed_at=computed_at):
            rows.append({field: getattr(row, field) for field in ("template_id", *TEMPLATE_FIELDS)})
    totals: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TEMPLATE_FIELDS, 0))
    for row in rows:
        for field in TEMPLATE_FIELDS:
            totals[row["template_id"]][field] += row[field]
    templates = MessageTemplate.objects.in_bulk(list(totals))
    result: list[dict[str, Any]] = [
        {
            "template_id": template_id,
            "name": templates[template_id].name,
            "language": templates[template_id].language,
            "category": templates[template_id].category,
            **counts,
            **_rates(counts),
            "reply_rate": rate(counts["replied"], counts["delivered"]),
        }
        for template_id, counts in totals.items()
        if template_id in templates
    ]
    result.sort(key=lambda item: (-item["sent"], item["name"], item["template_id"]))
    return result


# --- health --------------------------------------------------------------------------------------


def account_health(*, account: WhatsAppAccount, limit: int) -> dict[str, Any]:
    logs = list(AccountHealthLog.objects.filter(account=account)[:limit])
    events = list(AccountHealthEvent.objects.filter(account=account).select_related("phone_number")[:limit])
    return {
        "account_id": account.pk,
        "waba_id": account.waba_id,
        "status": account.status,
        "status_reason": account.status_reason,
        "status_changed_at": account.status_changed_at,
        "access_token_expires_at": account.access_token_expires_at,
        "last_checked_at": logs[0].checked_at if logs else None,
        "latest": logs[0] if logs else None,
        "phone_numbers": list(account.phone_numbers.all()),
        "logs": logs,
        "events": events,
    }


def _health_rank(status: str, last_healthy: bool | None, checked: bool) -> int:
    """Unhealthy first, then accounts whose last check failed or could not tell, then the rest."""
    if status == WhatsAppAccount.Status.UNHEALTHY:
        return 0
    if checked and last_healthy is not True:
        return 1
    if status == WhatsAppAccount.Status.SUSPENDED:
        return 2
    return 3 if status == WhatsAppAccount.Status.ACTIVE else 4


def accounts_health(*, status: str | None = None) -> list[dict[str, Any]]:
    """This workspace's accounts with health, quality, last check and numbers, by id, each with its
    `health_rank` (0 first). Runs in the tenant's schema; three queries."""
    latest = AccountHealthLog.objects.filter(account=OuterRef("pk")).order_by("-checked_at", "-id")
    accounts = WhatsAppAccount.objects.annotate(
        last_checked_at=Subquery(latest.values("checked_at")[:1]),
        last_healthy=Subquery(latest.values("healthy")[:1]),
    ).order_by("id")
    if status:
        accounts = accounts.filter(status=status)
    numbers: dict[int, list[PhoneNumber]] = defaultdict(list)
    for number in PhoneNumber.objects.order_by("id"):
        numbers[number.account_id].append(number)
    rows = []
    for account in accounts:
        own = numbers.get(account.pk, [])
        qualities = [number.quality_rating for number in own]
        rows.append(
            {
                "account_id": account.pk,
                "waba_id": account.waba_id,
                "display_name": account.display_name,
                "status": account.status,
                "status_reason": account.status_reason,
                "worst_quality": min(qualities, key=lambda q: QUALITY_RANK.get(q, 2)) if qualities else None,
                "last_checked_at": account.last_checked_at,
                "last_check_healthy": account.last_healthy,
                "phone_numbers": [
                    {
                        "phone_number_id": number.phone_number_id,
                        "display_phone_number": number.display_phone_number,
                        "quality_rating": number.quality_rating,
                        "messaging_limit_tier": number.messaging_limit_tier,
                        "status": number.status,
                    }
                    for number in own
                ],
                "health_rank": _health_rank(account.status, account.last_healthy, account.last_checked_at is not None),
            }
        )
    return rows


def platform_accounts_health(
    *, status: str | None = None, tenant_slug: str | None = None
) -> list[dict[str, Any]]:
    """Every tenant's accounts with health, quality and last check, unhealthy first, read live.

    Enters each tenant's schema in turn (three queries per tenant), or only `tenant_slug`'s; call
    from the public schema. The platform API's list reads the public summary instead
    (`platform_accounts_health_summarised`).
    """
    result = []
    tenants = customer_tenants().order_by("slug")
    if tenant_slug is not None:
        tenants = tenants.filter(slug=tenant_slug)
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            for row in accounts_health(status=status):
                result.append(
                    {"tenant_slug": tenant.slug, "tenant_name": tenant.name, "tenant_status": tenant.status, **row}
                )
    result.sort(key=lambda item: (item["health_rank"], item["tenant_slug"], item["account_id"]))
    return result


def platform_accounts_health_summarised(*, status: str | None = None) -> ShapedRows[AccountHealthEntry]:
    """What `platform_accounts_health` lists, read from the public summary (tenants.health_summary)
    as the health checks last stored it: a page costs two queries whatever the number of tenants."""
    return ShapedRows(account_health_entries(status=status), _account_health_entry_out)


def _account_health_entry_out(entry: AccountHealthEntry) -> dict[str, Any]:
    return {
        "tenant_slug": entry.tenant.slug,
        "tenant_name": entry.tenant.name,
        "tenant_status": entry.tenant.status,
        "account_id": entry.account_id,
        "waba_id": entry.waba_id,
        "display_name": entry.display_name,
        "status": entry.status,
        "status_reason": entry.status_reason,
        "worst_quality": entry.worst_quality,
        "last_checked_at": entry.last_checked_at,
        "last_check_healthy": entry.last_check_healthy,
        "phone_numbers": entry.phone_numbers,
    }


def referrals_by_ad(*, date_from: date, date_to: date) -> QuerySet[Any, Any]:
    """Inbound messages from Click-to-WhatsApp ads and posts in the range (UTC days, both ends
    included), one row per source id, the most recently seen first.

    Headline, source type and URL are the latest message's in the range (an ad's text can change).
    """
    start, end = day_bounds(date_from)[0], day_bounds(date_to)[1]
    messages = Message.objects.filter(
        direction=Message.Direction.INBOUND, timestamp__gte=start, timestamp__lt=end
    ).exclude(referral_source_id="")
    latest = messages.filter(referral_source_id=OuterRef("referral_source_id")).order_by("-timestamp", "-id")

    def latest_text(key: str) -> Coalesce:
        value = Subquery(latest.annotate(value=KT(f"referral__{key}")).values("value")[:1])
        return Coalesce(value, Value(""), output_field=TextField())

    return (
        messages.order_by()
        .values("referral_source_id")
        .annotate(
            source_id=F("referral_source_id"),
            inbound_messages=Count("id"),
            contacts=Count("contact_id", distinct=True),
            first_seen=Min("timestamp"),
            last_seen=Max("timestamp"),
        )
        .annotate(
            source_type=latest_text("source_type"),
            headline=latest_text("headline"),
            source_url=latest_text("source_url"),
        )
        .values(
            "source_id",
            "source_type",
            "headline",
            "source_url",
            "inbound_messages",
            "contacts",
            "first_seen",
            "last_seen",
        )
        .order_by("-last_seen", "source_id")
    )
