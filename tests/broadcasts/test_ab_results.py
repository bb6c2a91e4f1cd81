"""A/B results: campaigns created through the campaign service with two variants, compared on
their recipients' messages, the minimum-sample rule, the period, and the outsider seeing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from broadcasts.ab_results import AB_MIN_SENT
from broadcasts.campaigns import campaign_create
from broadcasts.models import BroadcastRecipient
from broadcasts.schemas import CampaignIn
from messaging.models import Message
from tests.sending.factories import ContactFactory, TemplateFactory

PER_VARIANT = AB_MIN_SENT + 20  # 120: enough to call


@pytest.fixture
def berlin(tenant_a, in_tenant, number_a, template_a):
    """Alpha's account is in Berlin; its number may reach 1,000 new users a day; two templates."""
    with in_tenant(tenant_a):
        account = number_a.account
        account.timezone = "Europe/Berlin"
        account.save(update_fields=["timezone"])
        number_a.messaging_limit_tier = "TIER_1K"
        number_a.quality_rating = "GREEN"
        number_a.save(update_fields=["messaging_limit_tier", "quality_rating"])
        TemplateFactory(account=account, name="winter_b")
    return number_a


def campaign(number, template, tag, *, name, single=False, send_at=None):
    variants = [
        {"label": "Short", "template": {"name": template.name, "language": "en_US"}, "share": 50,
         "body": [{"field": "name"}, {"text": "A"}]},
        {"label": "Long", "template": {"name": "winter_b", "language": "en_US"}, "share": 50,
         "body": [{"field": "name"}, {"text": "B"}]},
    ]
    if single:
        variants = [{**variants[0], "share": 100}]
    return campaign_create(
        request=CampaignIn(
            name=name, phone_number_id=number.phone_number_id, audience={"tags": [tag]}, variants=variants,
            send_at=send_at,
        ),
        created_by="test",
    )


def messages_of(broadcast, label):
    return Message.objects.filter(
        broadcast_recipient__broadcast=broadcast, broadcast_recipient__variant__label=label
    ).order_by("id")


def outcome(broadcast, label, *, read=0, delivered=0, failed=0, replied=0):
    """What Meta told us: the first `read` messages read, the next `delivered` delivered, the next
    `failed` failed with Meta's error; the first `replied` recipients wrote back a minute later."""
    sent_at = timezone.now() - timedelta(hours=1)
    ids = list(messages_of(broadcast, label).values_list("id", flat=True))
    groups = [("read", read), ("delivered", delivered), ("failed", failed)]
    start = 0
    for status, count in groups:
        extra = {"error_code": 131026, "error_title": "Message undeliverable"} if status == "failed" else {}
        Message.objects.filter(pk__in=ids[start:start + count]).update(status=status, sent_at=sent_at, **extra)
        start += count
    Message.objects.bulk_create(
        Message(conversation_id=message.conversation_id, contact_id=message.contact_id,
                phone_number_id=message.phone_number_id, direction="in", type="text", body="Yes",
                status="received", timestamp=sent_at + timedelta(minutes=1), wamid=f"wamid.ab-{message.pk}")
        for message in Message.objects.filter(pk__in=ids[:replied])
    )


@pytest.fixture
def tests_run(tenant_a, in_tenant, berlin, template_a):
    with in_tenant(tenant_a):
        for index in range(2 * PER_VARIANT):
            ContactFactory(wa_id=f"4915200{index:06d}", profile_name=f"Big {index}", tags=["big"])
        for index in range(4):
            ContactFactory(wa_id=f"4915300{index:06d}", profile_name=f"Small {index}", tags=["small"])
        big = campaign(berlin, template_a, "big", name="Winter sale")
        small = campaign(berlin, template_a, "small", name="Pilot")
        single = campaign(berlin, template_a, "small", name="No test", single=True)
        later = campaign(berlin, template_a, "small", name="Next week", send_at=timezone.now() + timedelta(days=7))
        outcome(big, "Short", read=PER_VARIANT, replied=30)
        outcome(big, "Long", delivered=100, failed=20, replied=12)
        outcome(small, "Short", read=2, replied=2)
        outcome(small, "Long", read=2)
    return {"big": big, "small": small, "single": single, "later": later}


def today_query() -> str:
    today = timezone.now().date()
    return f"date_from={today - timedelta(days=1)}&date_to={today + timedelta(days=1)}"


def test_campaigns_with_two_variants_are_compared_on_reply_rate(api_a, tests_run, template_a):
    response = api_a.get(f"/api/v1/campaigns/ab-results?{today_query()}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    pilot, sale = body["items"]  # the newest first
    assert (sale["id"], sale["name"], sale["verdict"], sale["leader"]) == (
        tests_run["big"].pk, "Winter sale", "leads", "Short"
    )
    assert sale["variants"] == [
        {"label": "Short", "template": {"name": template_a.name, "language": "en_US"}, "share": 50,
         "recipients": 120, "sent": 120, "delivered": 120, "read": 120, "replied": 30,
         "delivery_rate": 1.0, "read_rate": 1.0, "reply_rate": 0.25},
        {"label": "Long", "template": {"name": "winter_b", "language": "en_US"}, "share": 50,
         "recipients": 120, "sent": 120, "delivered": 100, "read": 0, "replied": 12,
         "delivery_rate": 0.8333, "read_rate": 0.0, "reply_rate": 0.1},
    ]
    # Two recipients a variant: 100% against 0% replies is still too few to call.
    assert (pilot["name"], pilot["verdict"], pilot["leader"]) == ("Pilot", "too_few_to_call", None)
    assert [(v["sent"], v["replied"], v["reply_rate"]) for v in pilot["variants"]] == [(2, 2, 1.0), (2, 0, 0.0)]


def test_the_period_is_read_in_the_workspace_time_zone_and_paged(api_a, tests_run):
    week = (timezone.now() + timedelta(days=7)).date()
    later = api_a.get(f"/api/v1/campaigns/ab-results?date_from={week}&date_to={week}").json()
    assert [item["name"] for item in later["items"]] == ["Next week"]
    assert later["items"][0]["verdict"] == "too_few_to_call"
    assert [v["sent"] for v in later["items"][0]["variants"]] == [0, 0]

    page = api_a.get(f"/api/v1/campaigns/ab-results?{today_query()}&limit=1&offset=1").json()
    assert page["count"] == 2 and [item["name"] for item in page["items"]] == ["Winter sale"]


def test_equal_top_reply_rates_are_a_tie(api_a, tenant_a, in_tenant, tests_run):
    with in_tenant(tenant_a):
        big = tests_run["big"]
        # Long's customers answer as often as Short's: 30 of 120.
        Message.objects.filter(
            direction="in", conversation_id__in=messages_of(big, "Long").values("conversation_id")
        ).delete()
        outcome(big, "Long", delivered=100, failed=20, replied=30)
    sale = api_a.get(f"/api/v1/campaigns/ab-results?{today_query()}").json()["items"][1]

    assert [v["replied"] for v in sale["variants"]] == [30, 30]
    assert (sale["verdict"], sale["leader"]) == ("tie", None)


def test_another_workspace_sees_none_of_them(api_b, tests_run):
    body = api_b.get(f"/api/v1/campaigns/ab-results?{today_query()}").json()

    assert body == {"items": [], "count": 0}


def test_a_bad_range_or_zone_is_422(api_a, berlin):
    response = api_a.get("/api/v1/campaigns/ab-results?date_from=2026-02-01&date_to=2026-01-01")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "query.date_to"
    response = api_a.get("/api/v1/campaigns/ab-results?timezone=Nowhere/Land")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "query.timezone"


def test_recipients_are_split_by_the_campaign_service(tenant_a, in_tenant, tests_run):
    with in_tenant(tenant_a):
        counts = {
            label: BroadcastRecipient.objects.filter(broadcast=tests_run["big"], variant__label=label).count()
            for label in ("Short", "Long")
        }
    assert counts == {"Short": PER_VARIANT, "Long": PER_VARIANT}
