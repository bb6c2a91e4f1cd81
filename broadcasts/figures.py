"""A campaign's figures, per variant and in total, counted from its recipients' messages in two queries.

Rates are shares of the messages Meta accepted (sent, delivered, read, or failed with Meta's error):
delivery counts delivered and read, a reply is any message the contact wrote after the campaign's
message was sent, and "opted out after" counts opt-outs recorded after it was sent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from broadcasts.models import (
    CANCELLED_TITLE,
    WITHDRAWN_TITLE,
    Broadcast,
    BroadcastRecipient,
    BroadcastVariant,
)
from contacts.models import ConsentEvent
from messaging.models import Message
from waba import meta
from waba.models import MessageTemplate, PhoneNumber

S = Message.Status
COUNTS = (
    "recipients",
    "skipped",
    "queued",
    "sent",
    "delivered",
    "read",
    "failed",
    "cancelled",
    "withdrawn",
    "replied",
    "opted_out_after",
    "accepted",
)


@dataclass
class VariantFigures:
    label: str
    template_name: str
    template_language: str
    share: int
    estimated_cost_usd: Decimal | None
    recipients: int = 0
    skipped: int = 0
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    cancelled: int = 0
    withdrawn: int = 0
    replied: int = 0
    opted_out_after: int = 0
    accepted: int = 0
    failed_by_code: dict[str, int] = field(default_factory=dict)

    def _rate(self, count: int) -> float | None:
        return round(count / self.accepted, 4) if self.accepted else None

    @property
    def delivery_rate(self) -> float | None:
        return self._rate(self.delivered + self.read)

    @property
    def read_rate(self) -> float | None:
        return self._rate(self.read)

    @property
    def reply_rate(self) -> float | None:
        return self._rate(self.replied)

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in COUNTS if name != "accepted"}
        return data | {
            "label": self.label,
            "template": {"name": self.template_name, "language": self.template_language},
            "share": self.share,
            "failed_by_code": dict(self.failed_by_code),
            "delivery_rate": self.delivery_rate,
            "read_rate": self.read_rate,
            "reply_rate": self.reply_rate,
            "estimated_cost_usd": None if self.estimated_cost_usd is None else str(self.estimated_cost_usd),
        }


@dataclass
class CampaignFigures:
    totals: VariantFigures
    variants: list[VariantFigures]

    def as_dict(self) -> dict[str, Any]:
        return {"totals": self.totals.as_dict(), "variants": [variant.as_dict() for variant in self.variants]}

    @property
    def pending(self) -> int:
        return self.totals.queued


# Grouped by `{group}`; `{engagement}` adds the replied and opted-out-after counts (per message
# lookups, left out where only the progress is shown).
_COUNTS_SQL = """
SELECT {group},
       count(*) AS recipients,
       count(*) FILTER (WHERE r.message_id IS NULL) AS skipped,
       count(m.id) FILTER (WHERE m.status IN (%(queued)s, %(sending)s)) AS queued,
       count(m.id) FILTER (WHERE m.status = %(sent)s) AS sent,
       count(m.id) FILTER (WHERE m.status = %(delivered)s) AS delivered,
       count(m.id) FILTER (WHERE m.status = %(read)s) AS read,
       count(m.id) FILTER (WHERE m.status = %(failed)s AND m.error_title NOT IN (%(cancelled_title)s, %(withdrawn_title)s)) AS failed,
       count(m.id) FILTER (WHERE m.status = %(failed)s AND m.error_title = %(cancelled_title)s) AS cancelled,
       count(m.id) FILTER (WHERE m.status = %(failed)s AND m.error_title = %(withdrawn_title)s) AS withdrawn,
{engagement}
       count(m.id) FILTER (WHERE m.status IN (%(sent)s, %(delivered)s, %(read)s)
                           OR (m.status = %(failed)s AND m.error_code IS NOT NULL)) AS accepted
FROM {recipient} r LEFT JOIN {message} m ON m.id = r.message_id
WHERE r.broadcast_id = ANY(%(broadcasts)s)
GROUP BY {group}
"""

_ENGAGEMENT_SQL = """
       count(m.id) FILTER (WHERE m.sent_at IS NOT NULL AND EXISTS (
           SELECT 1 FROM {message} i
           WHERE i.conversation_id = m.conversation_id AND i.direction = %(inbound)s AND i.timestamp > m.sent_at
       )) AS replied,
       count(m.id) FILTER (WHERE m.sent_at IS NOT NULL AND EXISTS (
           SELECT 1 FROM {consent} c
           WHERE c.contact_id = m.contact_id AND c.kind = %(opt_out)s AND c.occurred_at > m.sent_at
       )) AS opted_out_after,"""

_FAILURES_SQL = """
SELECT r.variant_id, m.error_code, count(*)
FROM {recipient} r JOIN {message} m ON m.id = r.message_id
WHERE r.broadcast_id = ANY(%(broadcasts)s) AND m.status = %(failed)s AND m.error_code IS NOT NULL
GROUP BY r.variant_id, m.error_code
"""


def _sql(template: str, **parts: str) -> str:
    tables = {
        "message": Message._meta.db_table,
        "recipient": BroadcastRecipient._meta.db_table,
        "consent": ConsentEvent._meta.db_table,
    }
    return template.format(**{name: part.format(**tables) for name, part in parts.items()}, **tables)


def _params(broadcast_ids: list[int]) -> dict[str, Any]:
    return {
        "broadcasts": broadcast_ids,
        "queued": S.QUEUED,
        "sending": S.SENDING,
        "sent": S.SENT,
        "delivered": S.DELIVERED,
        "read": S.READ,
        "failed": S.FAILED,
        "cancelled_title": CANCELLED_TITLE,
        "withdrawn_title": WITHDRAWN_TITLE,
        "inbound": Message.Direction.INBOUND,
        "opt_out": ConsentEvent.Kind.OPT_OUT,
    }


def campaigns_progress(*, broadcasts: list[Broadcast]) -> dict[int, CampaignFigures]:
    """Each campaign's totals without the engagement counts, in one query: what a list shows."""
    progress = {
        broadcast.pk: CampaignFigures(
            totals=VariantFigures(
                label="total",
                template_name=broadcast.template_name,
                template_language=broadcast.template_language,
                share=100,
                estimated_cost_usd=broadcast.estimated_cost_usd,
            ),
            variants=[],
        )
        for broadcast in broadcasts
    }
    with connection.cursor() as cursor:
        cursor.execute(_sql(_COUNTS_SQL, group="r.broadcast_id", engagement=""), _params(list(progress)))
        columns = [column.name for column in cursor.description][1:]
        for row in cursor.fetchall():
            for name, value in zip(columns, row[1:], strict=True):
                setattr(progress[row[0]].totals, name, value)
    return progress


def campaign_figures(*, broadcast: Broadcast) -> CampaignFigures:
    variants = {
        variant.pk: VariantFigures(
            label=variant.label,
            template_name=variant.template_name,
            template_language=variant.template_language,
            share=variant.share,
            estimated_cost_usd=variant.estimated_cost_usd,
        )
        for variant in BroadcastVariant.objects.filter(broadcast=broadcast).order_by("id")
    }
    params = _params([broadcast.pk])
    failures: dict[int | None, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(_sql(_COUNTS_SQL, group="r.variant_id", engagement=_ENGAGEMENT_SQL), params)
        columns = [column.name for column in cursor.description][1:]
        counted = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in cursor.fetchall()}
        cursor.execute(_sql(_FAILURES_SQL), params)
        for variant_id, code, count in cursor.fetchall():
            failures[variant_id][str(code)] = count
    for variant_id, counts in counted.items():
        figures = variants.get(variant_id) if variant_id is not None else None
        if figures is None:  # a broadcast sent without variants
            figures = variants.setdefault(
                variant_id or 0,
                VariantFigures(
                    label="",
                    template_name=broadcast.template_name,
                    template_language=broadcast.template_language,
                    share=100,
                    estimated_cost_usd=broadcast.estimated_cost_usd,
                ),
            )
        for name, value in counts.items():
            setattr(figures, name, value)
        figures.failed_by_code = failures.get(variant_id, {})
    ordered = list(variants.values())
    totals = VariantFigures(
        label="total",
        template_name=broadcast.template_name,
        template_language=broadcast.template_language,
        share=100,
        estimated_cost_usd=broadcast.estimated_cost_usd,
    )
    for figures in ordered:
        for name in COUNTS:
            setattr(totals, name, getattr(totals, name) + getattr(figures, name))
        for code, count in figures.failed_by_code.items():
            totals.failed_by_code[code] = totals.failed_by_code.get(code, 0) + count
    return CampaignFigures(totals=totals, variants=ordered)


def campaigns_variant_figures(*, broadcasts: list[Broadcast]) -> dict[int, list[VariantFigures]]:
    """Each campaign's figures per variant (engagement included, failure codes left out), for many
    campaigns in two queries: their variants, and the counts grouped by campaign and variant."""
    result: dict[int, list[VariantFigures]] = {broadcast.pk: [] for broadcast in broadcasts}
    by_variant: dict[int, VariantFigures] = {}
    for variant in BroadcastVariant.objects.filter(broadcast__in=broadcasts).order_by("broadcast_id", "id"):
        by_variant[variant.pk] = VariantFigures(
            label=variant.label,
            template_name=variant.template_name,
            template_language=variant.template_language,
            share=variant.share,
            estimated_cost_usd=variant.estimated_cost_usd,
        )
        result[variant.broadcast_id].append(by_variant[variant.pk])
    if not by_variant:
        return result
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(_COUNTS_SQL, group="r.broadcast_id, r.variant_id", engagement=_ENGAGEMENT_SQL),
            _params(list(result)),
        )
        columns = [column.name for column in cursor.description][2:]
        for row in cursor.fetchall():
            figures = by_variant.get(row[1])
            if figures is not None:
                for name, value in zip(columns, row[2:], strict=True):
                    setattr(figures, name, value)
    return result


def campaign_state(*, broadcast: Broadcast, figures: CampaignFigures, now: datetime | None = None) -> str:
    """scheduled, running, paused, completed, cancelled (or queuing while being written)."""
    now = now or timezone.now()
    if broadcast.status != Broadcast.Status.RUNNING:
        return str(broadcast.status)
    if broadcast.finished_at is not None or figures.pending == 0:
        return "completed"
    if broadcast.send_at is not None and broadcast.send_at > now:
        return "scheduled"
    return "running"


def local_time(when: datetime | None, zone_name: str) -> str:
    if when is None:
        return ""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def campaign_numbers() -> QuerySet[PhoneNumber]:
    """The workspace's numbers; creating a campaign checks that its account may send."""
    return PhoneNumber.objects.select_related("account").order_by("display_phone_number", "id")


def campaign_templates(*, phone: PhoneNumber | None = None) -> QuerySet[MessageTemplate]:
    """Approved templates, of one number's account when given."""
    templates = MessageTemplate.objects.filter(status=meta.TemplateStatus.APPROVED).select_related("account")
    if phone is not None:
        templates = templates.filter(account_id=phone.account_id)
    return templates.order_by("name", "language")
