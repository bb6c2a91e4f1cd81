"""Campaigns: a template (or several, as A/B variants) to an audience, at a time, within the number's limit.

Creating a campaign checks everything before anything is written, then queues every message at
once, each due at its slot: `send_at` plus its place in the number's throughput, plus 24 hours per
day when the campaign is spread over several days. The outbox's due times are the schedule, so a
campaign needs no scheduler of its own and is paced by the same limiter as every other message.
Pausing holds the queued messages (no due time); resuming gives them new slots from now; cancelling
fails them. A contact who opts out or is blocked after the campaign was created is withdrawn from it.

The pre-check is Meta's messaging limit: unique users reached with business-initiated messages per
rolling 24 hours (`messaging_limit_tier`). The users the account has already reached (or will
reach, with messages already queued) in the 24 hours before `send_at` use part of it; a campaign
larger than what is left is refused with the figures, or spread over as many days as it needs.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from psycopg.types.json import Jsonb

from billing.plans.models import RateCardEntry
from billing.plans.rates import OTHER_MARKET, market_of
from broadcasts.models import WITHDRAWN_TITLE, Broadcast, BroadcastRecipient, BroadcastVariant
from broadcasts.schemas import CampaignAudienceIn, CampaignIn, CampaignVariantIn, ValueSourceIn
from broadcasts.services import MAX_PROBLEMS_LISTED, queued_messages_update
from contacts.segments import segment_contacts, segment_get
from contacts.services import tags_clean
from integrations.event_types import EventType
from integrations.services import event_emit
from messaging.models import Contact, Message
from platform_core.errors import DomainError
from platform_core.usage_limits import MESSAGES, usage_limit_check
from sending.errors import MessageInvalid, RecipientInvalid
from sending.outbox import BulkItem, outbox_enqueue_bulk, outbox_notify, rows_copy
from sending.quotas import quota_give_back, quota_take
from sending.schemas import TemplateParametersIn
from sending.services import account_check_active, template_for_send
from sending.validation import problem, recipient_normalise, template_content_build
from tenants.work_pending import WorkKind, work_announce
from waba import meta
from waba.models import MessageTemplate, PhoneNumber
from waba.selectors import phone_number_for_send

MAX_DAYS = 30
QUEUE_CHUNK = 10_000  # messages written per transaction
MAX_VARIANTS = 5
DAY = timedelta(days=1)
CONTACT_FIELDS = {
    "name": "profile_name",
    "phone": "wa_id",
    "tier": "tier",
    "language": "language",
    "timezone": "timezone",
}


class CampaignOverLimit(DomainError):
    """More new recipients than the number's messaging limit leaves, and the campaign may not be spread."""

    code = "messaging_limit_exceeded"
    status = 422


class CampaignQualityTooLow(DomainError):
    code = "quality_too_low"
    status = 422


class CampaignStateInvalid(DomainError):
    code = "campaign_state_invalid"
    status = 409


@dataclass(frozen=True)
class Staged:
    """A recipient's checked message: the template object Meta gets and its text."""

    wa_id: str
    content: dict[str, Any]
    body: str


@dataclass
class Audience:
    """Who the campaign goes to: each recipient's contact fields, and who was left out and why."""

    rows: list[dict[str, Any]]
    matched: int
    removed: dict[str, int] = field(default_factory=dict)


@dataclass
class Precheck:
    audience: int
    sendable: int
    removed: dict[str, int]
    tier: str
    limit: int | None
    used_in_window: int
    already_reached: int
    available: int | None
    days: int
    per_day: list[int]
    fits: bool
    quality: str
    send_at: datetime
    timezone: str
    estimated_cost_usd: Decimal
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["send_at"] = self.send_at.isoformat()
        data["estimated_cost_usd"] = str(self.estimated_cost_usd)
        return data


@dataclass
class Plan:
    """A checked campaign request: everything needed to write it."""

    request: CampaignIn
    phone: PhoneNumber
    send_at: datetime
    zone: str
    variants: list[tuple[CampaignVariantIn, MessageTemplate, str, int]]  # spec, template, label, share
    skipped: list[tuple[dict[str, Any], int | None, str]]  # recipient row, variant index, reason
    items: list[tuple[Staged, int, dict[str, Any]]]  # item, variant index, parameters kept
    day_of: dict[str, int]
    precheck: Precheck
    cost_by_variant: list[Decimal]


# --- the request -------------------------------------------------------------------------------------


def campaign_precheck(*, request: CampaignIn, now: datetime | None = None) -> Precheck:
    """What creating this campaign would do, without writing anything."""
    return _plan(request, now or timezone.now()).precheck


def campaign_create(*, request: CampaignIn, created_by: str = "", now: datetime | None = None) -> Broadcast:
    """Check the whole campaign, then write it and queue every message at its slot."""
    now = now or timezone.now()
    plan = _plan(request, now)
    precheck = plan.precheck
    if not precheck.fits and request.over_limit == "refuse":
        raise CampaignOverLimit(
            f"The number may reach {precheck.available} more new users in the 24 hours before the send "
            f"time (limit {precheck.limit}, {precheck.used_in_window} already reached); the campaign has "
            f"{precheck.sendable - precheck.already_reached} new. Spread it over {precheck.days} days "
            '(over_limit: "spread"), shrink the audience or wait for a higher tier.',
            details=precheck.as_dict(),
        )
    for spec, template, _, _ in plan.variants:
        count = sum(1 for _, index, _ in plan.items if plan.variants[index][0] is spec)
        usage_limit_check(resource=MESSAGES, amount=count, category=template.category.lower())
    periods = ("day", "month") if precheck.days == 1 and plan.send_at - now < DAY else ("month",)
    windows = quota_take(account=plan.phone.account, amount=len(plan.items), periods=periods)
    try:
        return _write(plan, created_by=created_by, now=now)
    except BaseException:
        quota_give_back(windows=windows, amount=len(plan.items))
        raise


def _plan(request: CampaignIn, now: datetime) -> Plan:
    phone = phone_number_for_send(phone_number_id=request.phone_number_id)
    account_check_active(account=phone.account)
    send_at, zone = _send_time(request, phone, now)
    variants = _variants(request.variants, phone)
    audience = _audience(request.audience, variants)
    assigned, skipped = _assign(audience.rows, variants, seed=f"{request.name}|{send_at.isoformat()}")
    problems: list[dict[str, Any]] = []
    shapes = [
        _shape(spec, template, index, problems) for index, (spec, template, _, _) in enumerate(variants)
    ]
    if problems:
        raise MessageInvalid(problems[:MAX_PROBLEMS_LISTED])
    items: list[tuple[Staged, int, dict[str, Any]]] = []
    for row, index in assigned:
        built = _message_for(row, variants[index][0], shapes[index])
        if isinstance(built, str):
            skipped.append((row, index, built))
        else:
            items.append((built[0], index, built[1]))
    removed = dict(audience.removed)
    for _, _, reason in skipped:
        kind = reason.split(":", 1)[0]
        removed[kind] = removed.get(kind, 0) + 1
    if not items:
        raise MessageInvalid(
            [problem("audience", "no contact of the audience may receive this campaign", "empty")]
        )
    cost_by_variant = _cost(items, variants, send_at)
    precheck, day_of = _limit_check(
        phone=phone,
        wa_ids=[item.wa_id for item, _, _ in items],
        send_at=send_at,
        zone=zone,
        matched=audience.matched,
        removed=removed,
        cost=sum(cost_by_variant, Decimal("0")),
    )
    return Plan(
        request, phone, send_at, zone, variants, skipped, items, day_of, precheck, cost_by_variant
    )


def _send_time(request: CampaignIn, phone: PhoneNumber, now: datetime) -> tuple[datetime, str]:
    """When the first message is due, in UTC, and the zone the time was given in.

    A time without an offset is read in `timezone`, else in the account's zone (the business's own).
    """
    zone_name = request.timezone or phone.account.timezone or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MessageInvalid(
            [problem("timezone", f"{zone_name!r} is not a known time zone, e.g. Europe/Berlin")]
        ) from None
    if request.send_at is None:
        return now, zone_name
    send_at = request.send_at
    if timezone.is_naive(send_at):
        send_at = send_at.replace(tzinfo=zone)
    if send_at < now - timedelta(minutes=1):
        local = send_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        raise MessageInvalid([problem("send_at", f"{local} ({zone_name}) is in the past", "past")])
    if send_at > now + timedelta(days=settings.CAMPAIGN_MAX_SCHEDULE_DAYS):
        raise MessageInvalid(
            [problem("send_at", f"at most {settings.CAMPAIGN_MAX_SCHEDULE_DAYS} days ahead", "too_far")]
        )
    return max(send_at, now), zone_name


def _variants(
    specs: Sequence[CampaignVariantIn], phone: PhoneNumber
) -> list[tuple[CampaignVariantIn, MessageTemplate, str, int]]:
    if not specs:
        raise MessageInvalid([problem("variants", "give at least one template", "required")])
    if len(specs) > MAX_VARIANTS:
        raise MessageInvalid(
            [problem("variants", f"at most {MAX_VARIANTS} variants", "too_many", MAX_VARIANTS, len(specs))]
        )
    shares = [spec.share for spec in specs]
    if any(share is not None for share in shares):
        if any(share is None for share in shares) or sum(s or 0 for s in shares) != 100:
            raise MessageInvalid(
                [problem("variants", "give every variant a share, adding up to 100", "shares")]
            )
        resolved = [int(share or 0) for share in shares]
    else:
        even, rest = divmod(100, len(specs))
        resolved = [even + (1 if index < rest else 0) for index in range(len(specs))]
    labels = [spec.label.strip() or chr(ord("A") + index) for index, spec in enumerate(specs)]
    if len(set(labels)) != len(labels):
        raise MessageInvalid([problem("variants", "each variant needs its own label", "duplicate")])
    found = []
    for index, spec in enumerate(specs):
        try:
            template = template_for_send(
                account=phone.account, name=spec.template.name, language=spec.template.language
            )
        except DomainError as error:
            raise MessageInvalid(
                [problem(f"variants[{index}].template", error.message, error.code)]
            ) from None
        found.append((spec, template, labels[index], resolved[index]))
    return found


def _sources(spec: CampaignVariantIn) -> Iterable[ValueSourceIn]:
    return [*spec.header, *spec.body]


def _audience(
    audience: CampaignAudienceIn, variants: list[tuple[CampaignVariantIn, MessageTemplate, str, int]]
) -> Audience:
    """The audience's contacts, less the blocked (and, when every template is marketing, the opted-out)."""
    kinds = [
        kind
        for kind, given in (
            ("segment_id", audience.segment_id),
            ("tags", audience.tags),
            ("phones", audience.phones),
        )
        if given
    ]
    if len(kinds) != 1:
        raise MessageInvalid(
            [problem("audience", "give exactly one of segment_id, tags or phones", "required")]
        )
    needs_attributes = any(source.attribute for spec, *_ in variants for source in _sources(spec))
    columns = ["id", "wa_id", "profile_name", "tier", "language", "timezone", "opted_out", "blocked"]
    if needs_attributes:
        columns.append("attributes")
    if audience.segment_id is not None:
        contacts = segment_contacts(definition=segment_get(segment_id=audience.segment_id).definition)
        rows = list(contacts.order_by("id").values(*columns))
    elif audience.tags:
        tags, problems = tags_clean(audience.tags, field="audience.tags")
        if problems:
            raise MessageInvalid(problems)
        rows = list(Contact.objects.filter(tags__overlap=tags).order_by("id").values(*columns))
    else:
        rows = _phones_rows(audience.phones, columns)
    matched = len(rows)
    removed: dict[str, int] = {}
    kept = []
    for row in rows:
        if row.get("blocked"):
            removed["blocked"] = removed.get("blocked", 0) + 1
        else:
            kept.append(row)
    return Audience(rows=kept, matched=matched, removed=removed)


def _phones_rows(phones: list[str], columns: list[str]) -> list[dict[str, Any]]:
    if len(phones) > settings.CAMPAIGN_MAX_RECIPIENTS:
        limit = settings.CAMPAIGN_MAX_RECIPIENTS
        raise MessageInvalid(
            [problem("audience.phones", f"at most {limit} numbers", "too_many", limit, len(phones))]
        )
    problems: list[dict[str, Any]] = []
    wa_ids: dict[str, int] = {}
    for index, phone in enumerate(phones):
        try:
            wa_id = recipient_normalise(phone, field=f"audience.phones[{index}]")
        except RecipientInvalid as error:
            problems.extend(error.details or [])
            if len(problems) >= MAX_PROBLEMS_LISTED:
                break
            continue
        wa_ids.setdefault(wa_id, index)
    if problems:
        raise MessageInvalid(problems[:MAX_PROBLEMS_LISTED])
    known = {row["wa_id"]: row for row in Contact.objects.filter(wa_id__in=list(wa_ids)).values(*columns)}
    empty: dict[str, Any] = dict.fromkeys(columns, "") | {
        "id": None,
        "opted_out": False,
        "blocked": False,
        "attributes": {},
    }
    return [known.get(wa_id) or {**empty, "wa_id": wa_id} for wa_id in wa_ids]


def _assign(
    rows: list[dict[str, Any]],
    variants: list[tuple[CampaignVariantIn, MessageTemplate, str, int]],
    *,
    seed: str,
) -> tuple[list[tuple[dict[str, Any], int]], list[tuple[dict[str, Any], int | None, str]]]:
    """Each recipient's variant: the audience in a stable pseudo-random order, cut at the shares.

    Marketing variants skip opted-out contacts (one rule with the send API's).
    """
    ordered = sorted(
        rows, key=lambda row: hashlib.blake2b(f"{seed}|{row['wa_id']}".encode(), digest_size=8).digest()
    )
    counts = _split(len(ordered), [share for *_, share in variants])
    assigned: list[tuple[dict[str, Any], int]] = []
    skipped: list[tuple[dict[str, Any], int | None, str]] = []
    start = 0
    for index, count in enumerate(counts):
        marketing = variants[index][1].category == meta.TemplateCategory.MARKETING
        for row in ordered[start : start + count]:
            if marketing and row.get("opted_out"):
                skipped.append((row, index, "opted_out: opted out of marketing messages"))
            else:
                assigned.append((row, index))
        start += count
    return assigned, skipped


def _split(total: int, shares: list[int]) -> list[int]:
    """`total` cut into parts proportional to `shares` (percent), summing to `total` (largest remainder)."""
    exact = [total * share / 100 for share in shares]
    counts = [int(value) for value in exact]
    order = sorted(range(len(shares)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _value(row: dict[str, Any], source: ValueSourceIn) -> str:
    if source.text is not None:
        value: Any = source.text
    elif source.field is not None:
        value = row.get(CONTACT_FIELDS[source.field]) or ""
        if source.field == "phone" and value:
            value = f"+{value}"
    else:
        value = (row.get("attributes") or {}).get(source.attribute or "")
    text = "" if value is None else str(value).strip()
    return text or source.fallback


@dataclass(frozen=True)
class _Shape:
    """A variant's template object, checked once with stand-in values, and where each value goes."""

    content: dict[str, Any]
    slots: list[tuple[int, int, str, int]]  # component, parameter, part ("header" or "body"), position
    body_text: str


_STAND_IN = "\x00"


def _shape(
    spec: CampaignVariantIn, template: MessageTemplate, index: int, problems: list[dict[str, Any]]
) -> _Shape | None:
    """Check the variant's parameters against the template once (counts, types, buttons, a media header)
    with stand-in texts, and note where each recipient's own values go."""
    values: dict[str, list[Any]] = {"header": [], "body": []}
    for part in ("header", "body"):
        for position, source in enumerate(getattr(spec, part)):
            values[part].append(
                {"type": "text", "text": f"{_STAND_IN}{part}:{position}"}
                | ({"parameter_name": source.parameter_name} if source.parameter_name else {})
            )
    parameters = TemplateParametersIn.model_construct(
        header_parameters=values["header"] or list(spec.header_parameters),
        body_parameters=values["body"],
        buttons=list(spec.buttons),
    )
    found: list[dict[str, Any]] = []
    content, _ = template_content_build(
        template=template, parameters=parameters, problems=found, prefix=f"variants[{index}]"
    )
    if found:
        problems.extend(found)
        return None
    slots: list[tuple[int, int, str, int]] = []
    for c, component in enumerate(content.get("components") or []):
        for p, parameter in enumerate(component.get("parameters") or []):
            text = parameter.get("text")
            if isinstance(text, str) and text.startswith(_STAND_IN):
                name, _, place = text[1:].partition(":")
                slots.append((c, p, name, int(place)))
    body_text = next(
        (
            str(c.get("text") or "")
            for c in template.components or []
            if isinstance(c, dict) and c.get("type") == "BODY"
        ),
        template.name,
    )
    return _Shape(content=content, slots=slots, body_text=body_text)


def _message_for(
    row: dict[str, Any], spec: CampaignVariantIn, shape: _Shape | None
) -> tuple[Staged, dict[str, Any]] | str:
    """The recipient's message from its variant's shape, or why they are skipped (a variable with no value)."""
    assert shape is not None
    kept: dict[str, list[str]] = {"header": [], "body": []}
    for part in ("header", "body"):
        for position, source in enumerate(getattr(spec, part)):
            text = _value(row, source)
            if not text:
                return f"no_value: no value for {part} variable {position + 1} and no fallback"
            kept[part].append(text)
    components = list(shape.content.get("components") or [])
    for c, p, part, position in shape.slots:
        component = components[c] = dict(components[c])
        parameters = component["parameters"] = list(component["parameters"])
        parameters[p] = dict(parameters[p], text=kept[part][position])
    content = dict(shape.content, components=components) if components else shape.content
    body_values = kept["body"]

    def fill(match: re.Match[str]) -> str:
        number = int(match.group(1)) - 1
        return body_values[number] if 0 <= number < len(body_values) else match.group(0)

    body = meta.TEMPLATE_BODY_VARIABLE_PATTERN.sub(fill, shape.body_text)
    return Staged(wa_id=row["wa_id"], content=content, body=body), kept


def _cost(
    items: list[tuple[Staged, int, dict[str, Any]]],
    variants: list[tuple[CampaignVariantIn, MessageTemplate, str, int]],
    send_at: datetime,
) -> list[Decimal]:
    """Meta's price of each variant's messages by the rate card on the send date, by recipient market."""
    markets: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_prefix: dict[str, str] = {}  # the market follows from the leading digits: parse once per prefix
    for item, index, _ in items:
        prefix = item.wa_id[:6]
        market = by_prefix.get(prefix)
        if market is None:
            market = by_prefix[prefix] = market_of(item.wa_id)
        markets[index][market] += 1
    costs = []
    for index, (_, template, _, _) in enumerate(variants):
        prices = _prices(category=template.category.lower(), day=send_at.date())
        total = Decimal("0")
        for market, count in markets[index].items():
            total += prices.get(market, prices.get(OTHER_MARKET, Decimal("0"))) * count
        costs.append(total)
    return costs


def _prices(*, category: str, day: Any) -> dict[str, Decimal]:
    """Each market's price of one message of `category` on `day`: the newest rate in effect."""
    prices: dict[str, Decimal] = {}
    entries = RateCardEntry.objects.filter(category=category, effective_from__lte=day).order_by(
        "market", "-effective_from"
    )
    for market, price in entries.values_list("market", "price_usd"):
        prices.setdefault(market, price)
    return prices


def _limit_check(
    *,
    phone: PhoneNumber,
    wa_ids: list[str],
    send_at: datetime,
    zone: str,
    matched: int,
    removed: dict[str, int],
    cost: Decimal,
) -> tuple[Precheck, dict[str, int]]:
    """The messaging-limit figures, and each recipient's day (0 when the campaign fits in one)."""
    warnings: list[str] = []
    tier = phone.messaging_limit_tier or ""
    try:
        limit = meta.MESSAGING_LIMIT_BY_TIER[meta.MessagingLimitTier(tier)]
    except ValueError:
        limit = meta.MESSAGING_LIMIT_BY_TIER[meta.MessagingLimitTier.TIER_250]
        warnings.append(
            f"The number's messaging limit tier is not known yet; {limit} new users per 24 h assumed."
        )
    quality = phone.quality_rating or meta.QualityRating.UNKNOWN
    if quality == meta.QualityRating.RED:
        raise CampaignQualityTooLow(
            "The number's quality rating is RED: Meta may lower its messaging limit or restrict it if more "
            "business-initiated messages are poorly received. Wait until the rating recovers.",
            details={"quality": quality},
        )
    if quality == meta.QualityRating.YELLOW:
        warnings.append(
            "The number's quality rating is YELLOW: watch blocks and reports during this campaign."
        )
    reached = _reached_before(phone=phone, until=send_at)
    already = sum(1 for wa_id in wa_ids if wa_id in reached)
    new = [wa_id for wa_id in wa_ids if wa_id not in reached]
    day_of: dict[str, int] = {}
    if limit is None:
        per_day, available = [len(wa_ids)], None
    else:
        available = max(limit - len(reached), 0)
        per_day = [min(available, len(new))]
        left = len(new) - per_day[0]
        while left > 0 and len(per_day) <= MAX_DAYS:
            per_day.append(min(limit, left))
            left -= per_day[-1]
        position = 0
        for day, count in enumerate(per_day):
            for wa_id in new[position : position + count]:
                day_of[wa_id] = day
            position += count
        per_day[0] += already
    fits = len(per_day) == 1
    days = len(per_day)
    if days > MAX_DAYS:
        raise CampaignOverLimit(
            f"The campaign would need more than {MAX_DAYS} days at the number's messaging limit of {limit} "
            "new users per 24 hours; shrink the audience or wait for a higher tier.",
            details={"limit": limit, "sendable": len(wa_ids), "max_days": MAX_DAYS},
        )
    precheck = Precheck(
        audience=matched,
        sendable=len(wa_ids),
        removed=removed,
        tier=tier,
        limit=limit,
        used_in_window=len(reached),
        already_reached=already,
        available=available,
        days=days,
        per_day=per_day,
        fits=fits,
        quality=quality,
        send_at=send_at,
        timezone=zone,
        estimated_cost_usd=cost,
        warnings=warnings,
    )
    return precheck, day_of


def _reached_before(*, phone: PhoneNumber, until: datetime) -> set[str]:
    """WhatsApp ids the account reached, or will reach, with templates in the 24 h before `until`."""
    at = Coalesce("sent_at", "next_attempt_at", "timestamp")
    return set(
        Message.objects.filter(
            phone_number__account_id=phone.account_id, direction=Message.Direction.OUTBOUND, type="template"
        )
        .exclude(status=Message.Status.FAILED)
        .annotate(at=at)
        .filter(at__gte=until - DAY, at__lt=until)
        .values_list("contact__wa_id", flat=True)
        .distinct()
    )


# --- writing -----------------------------------------------------------------------------------------


def _write(plan: Plan, *, created_by: str, now: datetime) -> Broadcast:
    request = plan.request
    audience = request.audience
    described: dict[str, Any]
    if audience.segment_id is not None:
        described = {
            "kind": "segment",
            "segment_id": audience.segment_id,
            "segment_name": segment_get(segment_id=audience.segment_id).name,
        }
    elif audience.tags:
        described = {"kind": "tags", "tags": audience.tags}
    else:
        described = {"kind": "phones", "count": len(audience.phones)}
    first = plan.variants[0][1]
    with transaction.atomic():
        broadcast = Broadcast.objects.create(
            name=request.name,
            phone_number=plan.phone,
            template=first,
            template_name=first.name,
            template_language=first.language,
            total_recipients=len(plan.items) + sum(1 for _, index, _ in plan.skipped if index is not None),
            send_at=plan.send_at,
            timezone=plan.zone,
            over_limit=request.over_limit,
            audience=described,
            precheck=plan.precheck.as_dict(),
            estimated_cost_usd=plan.precheck.estimated_cost_usd,
            created_by=created_by[:150],
        )
        variants = []
        for index, (spec, template, label, share) in enumerate(plan.variants):
            variants.append(
                BroadcastVariant.objects.create(
                    broadcast=broadcast,
                    label=label,
                    template=template,
                    template_name=template.name,
                    template_language=template.language,
                    template_category=template.category,
                    share=share,
                    parameters=spec.model_dump(exclude={"label", "template", "share"}, exclude_defaults=True),
                    recipients_count=sum(1 for _, i, _ in plan.items if i == index)
                    + sum(1 for _, i, _ in plan.skipped if i == index),
                    estimated_cost_usd=plan.cost_by_variant[index],
                )
            )
        rows_copy(
            model=BroadcastRecipient,
            objects=[
                BroadcastRecipient(
                    broadcast=broadcast,
                    variant=variants[index] if index is not None else None,
                    wa_id=row["wa_id"],
                    skipped_reason=reason.split(": ", 1)[-1][:200],
                )
                for row, index, reason in plan.skipped
            ],
        )
    _queue(broadcast, plan, variants)
    if len(plan.items) >= QUEUE_CHUNK:
        _statistics_refresh()
    with transaction.atomic():
        Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.QUEUING).update(
            status=Broadcast.Status.RUNNING
        )
        work_announce(kind=WorkKind.CAMPAIGNS)
    broadcast.refresh_from_db()
    return broadcast


def _queue(broadcast: Broadcast, plan: Plan, variants: list[BroadcastVariant]) -> None:
    """Queue every message due at its slot (day start plus its place at the number's throughput), in
    set-based chunks, each with its recipient rows."""
    spacing = 1.0 / max(plan.phone.throughput_mps, 1)
    slots: dict[int, int] = defaultdict(int)
    recipient_table = BroadcastRecipient._meta.db_table
    for offset in range(0, len(plan.items), QUEUE_CHUNK):
        chunk = plan.items[offset : offset + QUEUE_CHUNK]
        bulk, days = [], []
        for item, index, _ in chunk:
            day = plan.day_of.get(item.wa_id, 0)
            due = plan.send_at + day * DAY + timedelta(seconds=slots[day] * spacing)
            slots[day] += 1
            days.append(day)
            bulk.append(
                BulkItem(
                    wa_id=item.wa_id,
                    content=item.content,
                    body=item.body,
                    template_id=variants[index].template_id,
                    next_attempt_at=due,
                )
            )
        with transaction.atomic():
            ids = outbox_enqueue_bulk(
                phone_number=broadcast.phone_number, message_type="template", items=bulk
            )
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(
                    f"COPY {recipient_table} (broadcast_id, variant_id, wa_id, parameters, message_id, skipped_reason, "
                    "send_day) FROM STDIN"
                ) as copy,
            ):
                for (item, index, kept), message_id, day in zip(chunk, ids, days, strict=True):
                    copy.write_row(
                        (broadcast.pk, variants[index].pk, item.wa_id, Jsonb(kept), message_id, "", day)
                    )


def _statistics_refresh() -> None:
    """Let the planner know a large campaign's rows now, instead of at autovacuum's next pass."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {BroadcastRecipient._meta.db_table}")


# --- pause, resume, withdraw, finish -------------------------------------------------------------------


def _campaign_messages(broadcast: Broadcast) -> Any:
    return Message.objects.filter(broadcast_recipient__broadcast=broadcast)


def campaign_pause(*, broadcast: Broadcast, now: datetime | None = None) -> tuple[Broadcast, int]:
    """Hold every queued message (no due time) until resumed. Returns the campaign and how many are held.

    Messages a worker had already claimed may still go out, as with cancelling.
    """
    now = now or timezone.now()
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if broadcast.status == Broadcast.Status.PAUSED:
            return broadcast, _campaign_messages(broadcast).filter(status=Message.Status.QUEUED).count()
        if broadcast.status != Broadcast.Status.RUNNING or broadcast.finished_at is not None:
            raise CampaignStateInvalid(f"A {broadcast_state_label(broadcast)} campaign cannot be paused.")
        held = queued_messages_update(broadcast=broadcast, next_attempt_at=None, updated_at=now)
        if not held:
            raise CampaignStateInvalid("Nothing is left to send: the campaign has completed.")
        broadcast.status, broadcast.paused_at = Broadcast.Status.PAUSED, now
        broadcast.save(update_fields=["status", "paused_at"])
    return broadcast, held


def campaign_resume(*, broadcast: Broadcast, now: datetime | None = None) -> tuple[Broadcast, int]:
    """Give the held messages new slots from now, or from the send time if it is still ahead.

    The first remaining day restarts now; each later day 24 hours after the one before, so a
    spread campaign never reaches more new users per 24 hours than planned.
    """
    now = now or timezone.now()
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().select_related("phone_number").get(pk=broadcast.pk)
        if broadcast.status != Broadcast.Status.PAUSED:
            raise CampaignStateInvalid(f"A {broadcast_state_label(broadcast)} campaign cannot be resumed.")
        start = max(now, broadcast.send_at or now)
        spacing = 1.0 / max(broadcast.phone_number.throughput_mps, 1)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH held AS (
                    SELECT m.id, r.send_day - min(r.send_day) OVER () AS day,
                           row_number() OVER (PARTITION BY r.send_day ORDER BY m.id) - 1 AS position
                    FROM messaging_message m JOIN broadcasts_broadcastrecipient r ON r.message_id = m.id
                    WHERE r.broadcast_id = %s AND m.status = %s
                )
                UPDATE messaging_message m
                SET next_attempt_at = %s + held.day * interval '1 day' + held.position * %s * interval '1 second',
                    updated_at = %s
                FROM held WHERE m.id = held.id
                """,
                [broadcast.pk, Message.Status.QUEUED, start, spacing, now],
            )
            resumed = cursor.rowcount
        broadcast.status, broadcast.paused_at = Broadcast.Status.RUNNING, None
        broadcast.save(update_fields=["status", "paused_at"])
        work_announce(kind=WorkKind.CAMPAIGNS)
        outbox_notify()  # delivered to the send workers when the transaction commits
    return broadcast, resumed

def campaign_messages_withdraw(*, contact_id: int, marketing_only: bool, now: datetime | None = None) -> int:
    """Fail a contact's queued campaign messages (all, or only marketing ones) before they are sent."""
    now = now or timezone.now()
    queued = Message.objects.filter(
        contact_id=contact_id, status=Message.Status.QUEUED, broadcast_recipient__isnull=False
    )
    if marketing_only:
        queued = queued.filter(template__category=meta.TemplateCategory.MARKETING)
    return queued.update(
        status=Message.Status.FAILED,
        failed_at=now,
        next_attempt_at=None,
        error_title=WITHDRAWN_TITLE,
        error_reason="withdrawn",
        updated_at=now,
    )


def campaigns_running() -> bool:
    """Whether a campaign is still running (not finished, paused or cancelled)."""
    return Broadcast.objects.filter(finished_at__isnull=True, status=Broadcast.Status.RUNNING).exists()


def campaigns_finish(*, now: datetime | None = None) -> list[Broadcast]:
    """Mark running campaigns with nothing left to send as finished; returns them (newly finished only)."""
    now = now or timezone.now()
    finished = []
    for broadcast in Broadcast.objects.filter(finished_at__isnull=True, status=Broadcast.Status.RUNNING):
        if (
            _campaign_messages(broadcast)
            .filter(status__in=(Message.Status.QUEUED, Message.Status.SENDING))
            .exists()
        ):
            continue
        with transaction.atomic():
            updated = Broadcast.objects.filter(pk=broadcast.pk, finished_at__isnull=True).update(
                finished_at=now
            )
            if updated:
                broadcast.finished_at = now
                finished.append(broadcast)
                _announce_finished(broadcast)
    return finished


def _announce_finished(broadcast: Broadcast) -> None:
    """The `campaign.finished` event for the workspace's subscribed endpoints, with the figures."""
    from broadcasts.figures import campaign_figures

    figures = campaign_figures(broadcast=broadcast)
    event_emit(
        type=EventType.CAMPAIGN_FINISHED,
        data={
            "campaign": {
                "id": broadcast.pk,
                "name": broadcast.name,
                "phone_number_id": broadcast.phone_number.phone_number_id,
                "send_at": broadcast.send_at.isoformat() if broadcast.send_at else None,
                "finished_at": broadcast.finished_at.isoformat() if broadcast.finished_at else None,
            },
            "figures": figures.as_dict(),
        },
    )


def broadcast_state_label(broadcast: Broadcast) -> str:
    if broadcast.finished_at is not None:
        return "finished"
    return str(broadcast.status)
