"""Usage roll-ups: per phone number and UTC day (and hour, and template), computed from the messages.

`usage_day_rollup(day=...)` recomputes one day from `messaging.Message` and upserts its rows;
rows of that day that no longer have data are deleted, all in one transaction. Running it
twice gives the same rows (same ids, same numbers), and a status that arrived late is counted
the next time its day is recomputed. Outbound messages count on the day they were created.
The same computations (`usage_daily_compute`, `usage_hourly_compute`, `template_usage_compute`)
give the analytics selectors the days whose roll-up is not final yet (see `analytics.selectors`).

Definitions (also what the API documents):
- sent: outbound messages that left the queue (status sent, delivered, read or failed);
- delivered: delivered or read; read: read; failed: failed; received: inbound messages;
- unique_contacts: distinct contacts with a message that day, per number;
- conversations by category: Meta conversations (conversation_info.id) first seen that day,
  by category (pricing_category, else pricing.category, else conversation origin type); a priced
  message without a conversation id (per-message pricing) counts as one;
- reply time: from a customer message that starts a wait (the message before it in the thread
  is not the customer's) to the first outbound message after it that did not fail, counted on
  the day of the customer's message, if it came within the 24-hour service window that message
  opened; stored as a histogram (see `reply_bucket`);
- template replied: a customer message in the same thread within 24 hours after the template.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import CharField, Count, Exists, F, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Coalesce, Lower, NullIf, TruncHour
from django.utils import timezone

from analytics.models import TemplateUsageDaily, UsageDaily, UsageHourly
from messaging.models import Message
from messaging.status_order import ACCEPTED, DELIVERY_PROOF, LEFT_OUTBOX
from waba import meta
from waba.models import PhoneNumber

OUT, IN = Message.Direction.OUTBOUND, Message.Direction.INBOUND
S = Message.Status
TEMPLATE_REPLY_WINDOW = timedelta(hours=24)
# A reply counts within the customer-service window the customer's message opened.
REPLY_WINDOW = timedelta(seconds=meta.CUSTOMER_SERVICE_WINDOW_S)
UNKNOWN_CODE = "unknown"

COUNTS = {
    "sent": Count("id", filter=Q(direction=OUT, status__in=LEFT_OUTBOX)),
    "delivered": Count("id", filter=Q(direction=OUT, status__in=DELIVERY_PROOF)),
    "read": Count("id", filter=Q(direction=OUT, status=S.READ)),
    "failed": Count("id", filter=Q(direction=OUT, status=S.FAILED)),
}


@dataclass(frozen=True)
class DayRollup:
    day: date
    daily_rows: int
    hourly_rows: int
    template_rows: int


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def reply_bucket(seconds: float) -> int:
    """The histogram bucket (its start, in seconds) of a reply time.

    Exact to the second under a minute, then 10 s under 10 minutes, 1 minute under 2 hours,
    15 minutes under a day; a day or more is one bucket. Medians are reported as bucket starts.
    """
    value = max(0, int(seconds))
    for limit, step in ((60, 1), (600, 10), (7200, 60), (86400, 900)):
        if value < limit:
            return value - value % step
    return 86400


def histogram_median(histograms: Iterable[Mapping[str, int]]) -> int | None:
    """The (lower) median of merged reply-time histograms, or None when there is no reply."""
    merged: dict[int, int] = defaultdict(int)
    for histogram in histograms:
        for bucket, count in histogram.items():
            merged[int(bucket)] += count
    total = sum(merged.values())
    if not total:
        return None
    rank, seen = (total + 1) // 2, 0
    for start in sorted(merged):
        seen += merged[start]
        if seen >= rank:
            return start
    return None  # unreachable


def usage_days_rollup(*, days: Iterable[date]) -> list[DayRollup]:
    return [usage_day_rollup(day=day) for day in days]


def day_messages(day: date) -> QuerySet[Message]:
    """The messages of one UTC day (an index range on `timestamp`)."""
    start, end = day_bounds(day)
    return Message.objects.filter(timestamp__gte=start, timestamp__lt=end)


def usage_day_rollup(*, day: date) -> DayRollup:
    """Recompute every roll-up row of `day` (UTC) in the current tenant schema. Idempotent."""
    start, end = day_bounds(day)
    messages = day_messages(day)
    now = timezone.now()
    daily_rows = usage_daily_compute(day=day, messages=messages, computed_at=now)
    hourly_rows = usage_hourly_compute(messages=messages, computed_at=now)
    template_rows = template_usage_compute(day=day, messages=messages, computed_at=now)

    with transaction.atomic():
        _replace(UsageDaily, UsageDaily.objects.filter(day=day), daily_rows, ("day", "phone_number"))
        _replace(
            UsageHourly,
            UsageHourly.objects.filter(hour__gte=start, hour__lt=end),
            hourly_rows,
            ("hour", "phone_number"),
        )
        _replace(
            TemplateUsageDaily,
            TemplateUsageDaily.objects.filter(day=day),
            template_rows,
            ("day", "template", "phone_number"),
        )
    return DayRollup(
        day=day, daily_rows=len(daily_rows), hourly_rows=len(hourly_rows), template_rows=len(template_rows)
    )


# The three computations below are the one definition of every figure: the roll-up stores what
# they return, and the analytics selectors call them directly for the days not rolled up yet.
# `messages` is `day_messages(day)`, possibly narrowed further (to one account's numbers, to one
# template); the rows returned are unsaved.


def usage_daily_compute(*, day: date, messages: QuerySet[Message], computed_at: datetime) -> list[UsageDaily]:
    """One UsageDaily row per phone number with a message in `messages`."""
    daily = {row.pop("phone_number_id"): row for row in _daily_counts(messages)}
    if not daily:
        return []
    for phone_id, categories in _conversations_opened(messages, day_bounds(day)[0]).items():
        daily.setdefault(phone_id, _zero_daily())["conversations_by_category"] = categories
    for phone_id, codes in _failures_by_code(messages).items():
        daily.setdefault(phone_id, _zero_daily())["failures_by_code"] = codes
    for phone_id, histogram in _reply_times(messages).items():
        row = daily.setdefault(phone_id, _zero_daily())
        row["reply_time_histogram"], row["replies"] = histogram, sum(histogram.values())
    accounts = _accounts_of(daily)
    return [
        UsageDaily(
            day=day,
            phone_number_id=phone_id,
            account_id=accounts[phone_id],
            computed_at=computed_at,
            **{
                "conversations_by_category": {},
                "failures_by_code": {},
                "reply_time_histogram": {},
                "replies": 0,
                **row,
            },
        )
        for phone_id, row in daily.items()
    ]


def usage_hourly_compute(*, messages: QuerySet[Message], computed_at: datetime) -> list[UsageHourly]:
    """One UsageHourly row per phone number and UTC hour with a message in `messages`."""
    rows = _hourly_counts(messages)
    accounts = _accounts_of(row["phone_number_id"] for row in rows)
    return [
        UsageHourly(account_id=accounts[row["phone_number_id"]], computed_at=computed_at, **row)
        for row in rows
    ]


def template_usage_compute(
    *, day: date, messages: QuerySet[Message], computed_at: datetime
) -> list[TemplateUsageDaily]:
    """One TemplateUsageDaily row per template and phone number with a template message in `messages`."""
    return [TemplateUsageDaily(day=day, computed_at=computed_at, **row) for row in _template_counts(messages)]


def _accounts_of(phone_ids: Iterable[int]) -> dict[int, int]:
    wanted = set(phone_ids)
    if not wanted:
        return {}
    return dict(PhoneNumber.objects.filter(pk__in=wanted).values_list("id", "account_id"))


def _replace(model: type[Model], existing: QuerySet[Any], rows: list[Any], unique_fields: tuple[str, ...]) -> None:
    """Upsert `rows` and delete the rows of the same period that were not produced this time."""
    concrete = {field.name: field.attname for field in model._meta.concrete_fields}
    attnames = [concrete[name] for name in unique_fields]
    fresh = {tuple(getattr(row, name) for name in attnames) for row in rows}
    stale = [pk for pk, *key in existing.values_list("pk", *attnames) if tuple(key) not in fresh]
    if stale:
        model._default_manager.filter(pk__in=stale).delete()
    if rows:
        update_fields = [
            field.name
            for field in model._meta.concrete_fields
            if not field.primary_key and field.name not in unique_fields
        ]
        model._default_manager.bulk_create(
            rows, update_conflicts=True, unique_fields=list(unique_fields), update_fields=update_fields
        )


def _zero_daily() -> dict:
    return {"sent": 0, "delivered": 0, "read": 0, "failed": 0, "received": 0, "unique_contacts": 0}


def _dicts(rows: Iterable[Mapping[str, Any]]) -> list[dict]:
    """`values()` rows as plain dicts (django-stubs types them as read-only TypedDicts)."""
    return [dict(row) for row in rows]


def _daily_counts(messages: QuerySet[Message]) -> list[dict]:
    return _dicts(
        messages.values("phone_number_id")
        .annotate(
            **COUNTS,
            received=Count("id", filter=Q(direction=IN)),
            unique_contacts=Count("contact_id", distinct=True),
        )
        .order_by()
    )


def _hourly_counts(messages: QuerySet[Message]) -> list[dict]:
    return _dicts(
        messages.annotate(hour=TruncHour("timestamp", tzinfo=UTC))
        .values("hour", "phone_number_id")
        .annotate(**COUNTS, received=Count("id", filter=Q(direction=IN)))
        .order_by()
    )


def _failures_by_code(messages: QuerySet[Message]) -> dict[int, dict[str, int]]:
    result: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        messages.filter(direction=OUT, status=S.FAILED)
        .values("phone_number_id", "error_code")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in rows:
        code = UNKNOWN_CODE if row["error_code"] is None else str(row["error_code"])
        result[row["phone_number_id"]][code] = row["count"]
    return dict(result)


def _conversations_opened(messages: QuerySet[Message], day_start: datetime) -> dict[int, dict[str, int]]:
    """Two plain queries and a set difference: a correlated anti-join here let the planner pick
    a nested loop over the previous day (minutes instead of milliseconds) before statistics existed."""
    category = Lower(
        Coalesce(
            NullIf(F("pricing_category"), Value("")),
            KeyTextTransform("category", "pricing"),
            KeyTextTransform("type", KeyTransform("origin", "conversation_info")),
            output_field=CharField(),
        )
    )
    rows = list(
        messages.filter(direction=OUT)
        .annotate(meta_category=category, meta_conversation_id=KeyTextTransform("id", "conversation_info"))
        .filter(meta_category__isnull=False)
        .values_list("phone_number_id", "meta_category", "meta_conversation_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    conversation_ids = {conversation_id for _, _, conversation_id, _ in rows if conversation_id}
    seen_before = (
        set(
            Message.objects.filter(timestamp__gte=day_start - timedelta(days=1), timestamp__lt=day_start)
            .annotate(meta_conversation_id=KeyTextTransform("id", "conversation_info"))
            .filter(meta_conversation_id__in=conversation_ids)
            .values_list("meta_conversation_id", flat=True)
            .order_by()
            .distinct()
        )
        if conversation_ids
        else set()
    )
    result: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for phone_id, meta_category, conversation_id, count in rows:
        if conversation_id is None:
            result[phone_id][meta_category] += count  # per-message pricing: each priced message counts
        elif conversation_id not in seen_before:
            result[phone_id][meta_category] += 1
    return {phone_id: dict(categories) for phone_id, categories in result.items()}


def _reply_times(messages: QuerySet[Message]) -> dict[int, dict[str, int]]:
    thread = Message.objects.filter(conversation_id=OuterRef("conversation_id"))
    # The plain `timestamp <= t` keeps the index range tight; the OR breaks ties by id.
    earlier = thread.filter(timestamp__lte=OuterRef("timestamp")).filter(
        Q(timestamp__lt=OuterRef("timestamp")) | Q(id__lt=OuterRef("id"))
    )
    previous_direction = earlier.order_by("-timestamp", "-id").values("direction")[:1]
    first_reply = (
        thread.filter(
            direction=OUT,
            timestamp__gte=OuterRef("timestamp"),
            timestamp__lt=OuterRef("timestamp") + REPLY_WINDOW,
        )
        .exclude(status=S.FAILED)
        .order_by("timestamp")
        .values("timestamp")[:1]
    )
    rows = (
        messages.filter(direction=IN)
        .annotate(previous_direction=Subquery(previous_direction), replied_at=Subquery(first_reply))
        .filter(Q(previous_direction__isnull=True) | Q(previous_direction=OUT), replied_at__isnull=False)
        .values_list("phone_number_id", "timestamp", "replied_at")
    )
    result: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for phone_id, asked_at, replied_at in rows:
        result[phone_id][str(reply_bucket((replied_at - asked_at).total_seconds()))] += 1
    return {phone_id: dict(histogram) for phone_id, histogram in result.items()}


def _template_counts(messages: QuerySet[Message]) -> list[dict]:
    customer_answered = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        direction=IN,
        timestamp__gt=OuterRef("timestamp"),
        timestamp__lte=OuterRef("timestamp") + TEMPLATE_REPLY_WINDOW,
    )
    return _dicts(
        messages.filter(direction=OUT, template_id__isnull=False)
        .values("template_id", "phone_number_id")
        .annotate(
            **COUNTS,
            replied=Count(
                "id", filter=Q(Exists(customer_answered), status__in=ACCEPTED)
            ),
        )
        .order_by()
    )
