"""Metering: each priced, delivered message counted once, with Meta's category and type, priced by the rate card."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.metering import messages_meter
from billing.models import MeteredMessage
from billing.plans.models import RateCardEntry
from billing.plans.rates import market_of
from messaging.statuses import message_status_apply
from tests.billing.factories import delivered, outbound, pricing, status


def test_the_shipped_rate_card_is_loaded_by_the_migration(db):
    assert RateCardEntry.objects.filter(market="US", category="marketing").get().price_usd == Decimal("0.025")
    assert RateCardEntry.objects.filter(market="*", category="utility").exists()


def test_the_market_is_the_recipients_country_from_its_calling_code():
    assert market_of("14155550100") == "US"
    assert market_of("4915112345678") == "DE"
    assert market_of("5511987654321") == "BR"
    assert market_of("999") == "*"


def test_statuses_delivered_several_times_and_out_of_order_meter_the_message_once(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = outbound(wa_id="14155550100")
        price = pricing("marketing")
        now = timezone.now()
        for name, seconds in (("read", 3), ("delivered", 2), ("delivered", 2), ("sent", 1), ("read", 3)):
            message_status_apply(
                event=status(message, name, price=price, at=now + timedelta(seconds=seconds))
            )
            messages_meter()
        messages_meter()

        [row] = MeteredMessage.objects.all()
        assert row.wamid == message.wamid
        assert (row.category, row.pricing_type, row.billable, row.market) == (
            "marketing",
            "regular",
            True,
            "US",
        )
        assert row.meta_cost_usd == Decimal("0.025")


def test_a_message_sent_but_not_delivered_is_not_metered_until_delivered(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = outbound()
        message_status_apply(event=status(message, "sent", price=pricing("utility")))
        assert messages_meter() == 0
        message_status_apply(event=status(message, "delivered", price=pricing("utility")))
        messages_meter()
        assert MeteredMessage.objects.get().category == "utility"


def test_free_messages_are_metered_but_not_billable_and_cost_nothing(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        paid = delivered(outbound(wa_id="5511987654321"), pricing("marketing"))
        free_entry = delivered(outbound(), pricing("service", "free_entry_point", billable=False))
        free_service = delivered(outbound(), pricing("utility", "free_customer_service", billable=False))
        messages_meter()

        rows = {row.wamid: row for row in MeteredMessage.objects.all()}
        assert rows[paid.wamid].billable and rows[paid.wamid].meta_cost_usd == Decimal("0.0625")
        assert rows[paid.wamid].market == "BR"
        for message in (free_entry, free_service):
            assert not rows[message.wamid].billable
            assert rows[message.wamid].meta_cost_usd == 0
        assert rows[free_service.wamid].pricing_type == "free_customer_service"


def test_metering_again_after_the_watermark_picks_up_only_new_pricing(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        delivered(outbound())
        assert messages_meter() == 1
        assert messages_meter() == 0
        delivered(outbound())
        assert messages_meter() == 1
        assert MeteredMessage.objects.count() == 2


def test_metering_stays_in_each_tenants_schema(tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        delivered(outbound())
        messages_meter()
    with in_tenant(tenant_b):
        messages_meter()
        assert MeteredMessage.objects.count() == 0
    with in_tenant(tenant_a):
        assert MeteredMessage.objects.count() == 1
