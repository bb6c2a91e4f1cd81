"""Metering: one MeteredMessage per delivered message that Meta priced, read from the stored messages.

Runs in a tenant's schema. The status webhooks are applied elsewhere (messaging.statuses); this
reads what they stored. Each run reads the messages updated since the watermark (less a safety
margin for transactions that committed late) and inserts with ON CONFLICT DO NOTHING on the wamid,
so however often or in whatever order a status arrives, and however often metering runs, a message
is metered once. It counts from the first time it is seen delivered with a `pricing` object;
the pricing it had then is the one kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.credit import credit_draw_down
from billing.models import MeteredMessage, MeteringWatermark
from billing.plans.models import RateCardEntry
from billing.plans.rates import OTHER_MARKET, market_of
from messaging.models import Contact, Message
from tenants.context import connection

# Transactions that wrote a message before the last run started but committed after it are still read.
WATERMARK_MARGIN = timedelta(minutes=5)
# Meta's pricing types that it does not charge for.
FREE_PRICING_TYPES = ("free_customer_service", "free_entry_point")


def meterable_messages() -> Any:
    """Outbound messages with Meta's pricing that reached the recipient (delivered, or read before delivered)."""
    delivered = Q(delivered_at__isnull=False) | Q(status__in=[Message.Status.DELIVERED, Message.Status.READ])
    return (
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND, pricing__isnull=False, wamid__isnull=False
        )
        .filter(delivered)
        .annotate(occurred=Coalesce("delivered_at", "read_at", "sent_at", "timestamp"))
    )


# One INSERT ... SELECT per run: Meta's pricing read in SQL, the price looked up in the rate card
# (the market's own row, else the `*` row, the latest in force on the day), duplicates skipped.
METER_SQL = """
INSERT INTO {metered} (wamid, message_id, phone_number_id, category, pricing_type, pricing_model,
                       billable, market, meta_cost_usd, occurred_at, metered_at)
SELECT m.wamid, m.id, m.phone_number_id, priced.category, priced.pricing_type,
       left(coalesce(m.pricing->>'pricing_model', ''), 16), priced.billable, mk.market,
       CASE WHEN priced.billable THEN coalesce((
           SELECT r.price_usd FROM {rate_card} r
           WHERE r.category = priced.category AND r.market IN (mk.market, %s)
             AND r.effective_from <= (m.occurred AT TIME ZONE 'UTC')::date
           ORDER BY r.market = %s, r.effective_from DESC LIMIT 1), 0) ELSE 0 END,
       m.occurred, now()
FROM ({messages}) AS m
JOIN unnest(%s::bigint[], %s::text[]) AS mk(contact_id, market) ON mk.contact_id = m.contact_id
CROSS JOIN LATERAL (
    SELECT left(lower(coalesce(nullif(m.pricing->>'category', ''), nullif(m.pricing_category, ''), 'unknown')), 32)
               AS category,
           left(coalesce(m.pricing->>'type', ''), 32) AS pricing_type,
           CASE WHEN jsonb_typeof(m.pricing->'billable') = 'boolean' THEN (m.pricing->>'billable')::boolean
                ELSE true END
           AND coalesce(m.pricing->>'type', '') <> ALL(%s::text[]) AS billable
) AS priced
ON CONFLICT (wamid) DO NOTHING
"""


def messages_meter(*, now: datetime | None = None) -> int:
    """Meter the messages priced since the last run, then draw their cost from the prepaid balance
    (when the tenant has one); returns how many rows it wrote.

    Idempotent: a second run over the same messages writes nothing and draws nothing, and two runs
    at once write each message once (the unique wamid).
    """
    started = now or timezone.now()
    watermark, _ = MeteringWatermark.objects.get_or_create(key="messages")
    messages = meterable_messages()
    if watermark.updated_until is not None:
        messages = messages.filter(updated_at__gte=watermark.updated_until - WATERMARK_MARGIN)
    messages = messages.exclude(wamid__in=MeteredMessage.objects.values("wamid"))
    recipients = dict(Contact.objects.filter(pk__in=messages.values("contact_id")).values_list("id", "wa_id"))
    written = 0
    if recipients:
        inner_sql, inner_params = (
            messages.values(
                "id", "wamid", "phone_number_id", "pricing", "pricing_category", "contact_id", "occurred"
            )
            .order_by()
            .query.sql_with_params()
        )
        sql = METER_SQL.format(
            metered=MeteredMessage._meta.db_table, rate_card=RateCardEntry._meta.db_table, messages=inner_sql
        )
        params = (
            OTHER_MARKET,
            OTHER_MARKET,
            *inner_params,
            list(recipients),
            [market_of(wa_id) for wa_id in recipients.values()],
            list(FREE_PRICING_TYPES),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written = cursor.rowcount
    MeteringWatermark.objects.filter(pk=watermark.pk).update(
        updated_until=started, last_run_at=timezone.now()
    )
    credit_draw_down()
    return written
