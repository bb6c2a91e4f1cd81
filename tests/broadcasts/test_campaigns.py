"""Campaigns: an audience, a schedule in the business's time zone, the messaging-limit pre-check,
per-recipient parameters, A/B variants, pause, resume, cancel, and figures per variant."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from broadcasts.campaigns import campaigns_finish
from broadcasts.models import Broadcast, BroadcastRecipient
from contacts.models import ConsentEvent, Segment
from contacts.services import Actor, consent_record, contact_block
from messaging.models import Contact, Message
from tests.sending.factories import ContactFactory, TemplateFactory, simulator_seed_for
from tests.sending.helpers import drain, graph_sends, status_webhooks_deliver

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def sim(graph_simulator, number_a, template_a, fast_retries):
    simulator_seed_for(graph_simulator, number_a, [template_a])
    return graph_simulator


@pytest.fixture
def berlin(tenant_a, in_tenant, number_a):
    """Alpha's account is in Berlin and its number may reach 250 new users a day."""
    with in_tenant(tenant_a):
        account = number_a.account
        account.timezone = "Europe/Berlin"
        account.save(update_fields=["timezone"])
        number_a.messaging_limit_tier = "TIER_250"
        number_a.quality_rating = "GREEN"
        number_a.save(update_fields=["messaging_limit_tier", "quality_rating"])
    return number_a


def people(tenant, in_tenant, count, *, tags=("vip",), start=0, **fields):
    with in_tenant(tenant):
        return [
            ContactFactory(wa_id=f"49151{start + i:08d}", profile_name=f"Customer {start + i}", tags=list(tags), **fields)
            for i in range(count)
        ]


def body(number, template, audience, **extra):
    return {
        "name": "Winter sale",
        "phone_number_id": number.phone_number_id,
        "audience": audience,
        "variants": [
            {
                "template": {"name": template.name, "language": template.language},
                "body": [{"field": "name", "fallback": "there"}, {"text": "WINTER"}],
            }
        ],
        **extra,
    }


def create(api, payload, status=201):
    response = api.post_json("/api/v1/campaigns", payload)
    assert response.status_code == status, response.json()
    return response.json()


def test_a_campaign_to_a_segment_tomorrow_at_nine_in_the_business_time_zone(
    api_a, tenant_a, in_tenant, berlin, template_a
):
    people(tenant_a, in_tenant, 3)
    people(tenant_a, in_tenant, 2, tags=["regular"], start=10)
    with in_tenant(tenant_a):
        segment = Segment.objects.create(
            name="VIPs", definition={"match": "all", "conditions": [{"kind": "tags", "operator": "has_any", "value": ["vip"]}]}
        )
    tomorrow = (timezone.now().astimezone(BERLIN) + timedelta(days=1)).date()
    campaign = create(api_a, body(berlin, template_a, {"segment_id": segment.pk}, send_at=f"{tomorrow}T09:00:00"))

    nine = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=BERLIN)
    assert campaign["status"] == "scheduled"
    assert datetime.fromisoformat(campaign["send_at"]) == nine
    assert campaign["send_at_local"] == f"{tomorrow} 09:00" and campaign["timezone"] == "Europe/Berlin"
    assert campaign["audience"] == {"kind": "segment", "segment_id": segment.pk, "segment_name": "VIPs"}
    assert campaign["precheck"]["sendable"] == 3 and campaign["precheck"]["fits"] is True
    assert campaign["precheck"]["limit"] == 250 and campaign["precheck"]["tier"] == "TIER_250"
    assert campaign["totals"]["queued"] == 3 and campaign["totals"]["recipients"] == 3
    with in_tenant(tenant_a):
        messages = list(Message.objects.filter(broadcast_recipient__broadcast_id=campaign["id"]).order_by("next_attempt_at"))
        assert len(messages) == 3
        assert messages[0].next_attempt_at == nine
        assert all(message.next_attempt_at >= nine for message in messages)
        first = messages[0]
        assert first.request_payload["template"]["components"] == [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": first.contact.profile_name}, {"type": "text", "text": "WINTER"}],
            }
        ]
    # Nothing is due today: a send worker sends nothing.
    drain(tenant_a, max_seconds=0.5)
    with in_tenant(tenant_a):
        assert Message.objects.filter(status="queued").count() == 3


def test_parameters_come_from_contact_fields_and_attributes_with_fallbacks(
    api_a, tenant_a, in_tenant, berlin, template_a
):
    with in_tenant(tenant_a):
        ContactFactory(wa_id="4915100000001", profile_name="Ada", attributes={"city": "Berlin"}, tags=["vip"])
        ContactFactory(wa_id="4915100000002", profile_name="", attributes={}, tags=["vip"])
    payload = body(berlin, template_a, {"tags": ["vip"]})
    payload["variants"][0]["body"] = [{"field": "name", "fallback": "friend"}, {"attribute": "city", "fallback": "your city"}]
    campaign = create(api_a, payload)

    with in_tenant(tenant_a):
        sent = {
            row.wa_id: [p["text"] for p in row.message.request_payload["template"]["components"][0]["parameters"]]
            for row in BroadcastRecipient.objects.filter(broadcast_id=campaign["id"]).select_related("message")
        }
    assert sent == {"4915100000001": ["Ada", "Berlin"], "4915100000002": ["friend", "your city"]}


def test_a_variable_with_no_value_and_no_fallback_skips_that_recipient_with_the_reason(
    api_a, tenant_a, in_tenant, berlin, template_a
):
    with in_tenant(tenant_a):
        ContactFactory(wa_id="4915100000001", attributes={"city": "Berlin"}, tags=["vip"])
        ContactFactory(wa_id="4915100000002", attributes={}, tags=["vip"])
    payload = body(berlin, template_a, {"tags": ["vip"]})
    payload["variants"][0]["body"] = [{"attribute": "city"}, {"text": "x"}]
    campaign = create(api_a, payload)

    assert campaign["precheck"]["removed"] == {"no_value": 1}
    assert campaign["totals"]["skipped"] == 1 and campaign["totals"]["queued"] == 1
    with in_tenant(tenant_a):
        broadcast = Broadcast.objects.get(pk=campaign["id"])
        assert broadcast.total_recipients == 2 and broadcast.variants.get().recipients_count == 2
        skipped = BroadcastRecipient.objects.get(broadcast_id=campaign["id"], message__isnull=True)
        assert skipped.wa_id == "4915100000002"
        assert skipped.skipped_reason == "no value for body variable 1 and no fallback"


def test_over_the_messaging_limit_the_campaign_is_refused_with_the_figures(api_a, tenant_a, in_tenant, berlin, template_a):
    people(tenant_a, in_tenant, 260)
    response = api_a.post_json("/api/v1/campaigns", body(berlin, template_a, {"tags": ["vip"]}))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "messaging_limit_exceeded"
    assert "Spread it over 2 days" in error["message"]
    details = error["details"]
    assert (details["limit"], details["available"], details["sendable"], details["per_day"]) == (250, 250, 260, [250, 10])
    with in_tenant(tenant_a):
        assert not Broadcast.objects.exists() and not Message.objects.exists()


def test_spread_over_days_each_day_reaches_at_most_what_the_limit_leaves(api_a, tenant_a, in_tenant, berlin, template_a):
    # 240 users already reached with a template in the last 24 hours leave room for 10 today.
    earlier = people(tenant_a, in_tenant, 240, tags=["old"], start=5000)
    with in_tenant(tenant_a):
        from tests.factories import ConversationFactory

        for contact in earlier:
            conversation = ConversationFactory(phone_number=berlin, contact=contact)
            Message.objects.create(
                conversation=conversation, contact=contact, phone_number=berlin, direction="out", type="template",
                status="delivered", sent_at=timezone.now() - timedelta(hours=3),
            )
    people(tenant_a, in_tenant, 30)
    campaign = create(api_a, body(berlin, template_a, {"tags": ["vip"]}, over_limit="spread"))

    precheck = campaign["precheck"]
    assert (precheck["used_in_window"], precheck["available"], precheck["per_day"], precheck["days"]) == (240, 10, [10, 20], 2)
    assert precheck["fits"] is False
    with in_tenant(tenant_a):
        rows = list(BroadcastRecipient.objects.filter(broadcast_id=campaign["id"]).select_related("message"))
        first_day = [row.message.next_attempt_at for row in rows if row.send_day == 0]
        second_day = [row.message.next_attempt_at for row in rows if row.send_day == 1]
    assert len(first_day) == 10 and len(second_day) == 20
    assert min(second_day) - min(first_day) == timedelta(days=1)


def test_a_red_number_is_refused_and_a_yellow_one_warned(api_a, tenant_a, in_tenant, berlin, template_a):
    people(tenant_a, in_tenant, 2)
    with in_tenant(tenant_a):
        berlin.quality_rating = "RED"
        berlin.save(update_fields=["quality_rating"])
    refused = api_a.post_json("/api/v1/campaigns", body(berlin, template_a, {"tags": ["vip"]}))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "quality_too_low"

    with in_tenant(tenant_a):
        berlin.quality_rating = "YELLOW"
        berlin.save(update_fields=["quality_rating"])
    checked = api_a.post_json("/api/v1/campaigns/precheck", body(berlin, template_a, {"tags": ["vip"]}))
    assert checked.status_code == 200
    assert any("YELLOW" in warning for warning in checked.json()["warnings"])
    with in_tenant(tenant_a):
        assert not Broadcast.objects.exists()  # a pre-check writes nothing


def test_opted_out_contacts_are_removed_from_marketing_and_blocked_ones_from_everything(
    api_a, tenant_a, in_tenant, berlin, template_a
):
    people(tenant_a, in_tenant, 2)
    people(tenant_a, in_tenant, 1, start=10, opted_out=True)
    people(tenant_a, in_tenant, 1, start=20, blocked=True)
    with in_tenant(tenant_a):
        marketing = TemplateFactory(account=berlin.account, category="MARKETING")

    utility = create(api_a, body(berlin, template_a, {"tags": ["vip"]}))
    assert utility["precheck"]["removed"] == {"blocked": 1}
    assert utility["totals"]["queued"] == 3

    promotion = create(api_a, body(berlin, marketing, {"tags": ["vip"]}))
    assert promotion["precheck"]["removed"] == {"blocked": 1, "opted_out": 1}
    assert promotion["totals"]["queued"] == 2 and promotion["totals"]["skipped"] == 1


def test_an_opt_out_or_a_block_after_scheduling_withdraws_the_queued_message(api_a, tenant_a, in_tenant, berlin):
    first, second, third = people(tenant_a, in_tenant, 3)
    with in_tenant(tenant_a):
        marketing = TemplateFactory(account=berlin.account, category="MARKETING")
    later = (timezone.now() + timedelta(hours=5)).isoformat()
    campaign = create(api_a, body(berlin, marketing, {"tags": ["vip"]}, send_at=later))

    with in_tenant(tenant_a):
        consent_record(contact=first, kind=ConsentEvent.Kind.OPT_OUT, actor=Actor(source="console", name="ada"))
        contact_block(contact=Contact.objects.get(pk=second.pk))
    figures = api_a.get(f"/api/v1/campaigns/{campaign['id']}").json()["totals"]
    assert (figures["withdrawn"], figures["queued"]) == (2, 1)
    with in_tenant(tenant_a):
        assert Message.objects.get(contact=third).status == "queued"
        assert Message.objects.get(contact=first).error_reason == "withdrawn"


def test_pause_holds_resume_sends_and_cancel_stops(sim, api_a, tenant_a, in_tenant, berlin, template_a, monkeypatch):
    import broadcasts.campaigns
    from sending.outbox import outbox_notify

    woken = []
    monkeypatch.setattr(broadcasts.campaigns, "outbox_notify", lambda: woken.append(outbox_notify()))
    people(tenant_a, in_tenant, 4)
    campaign = create(api_a, body(berlin, template_a, {"tags": ["vip"]}))
    url = f"/api/v1/campaigns/{campaign['id']}"

    paused = api_a.post_json(f"{url}/pause", {})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    drain(tenant_a, max_seconds=0.5)
    assert graph_sends(sim, berlin) == []
    assert api_a.post_json(f"{url}/pause", {}).json()["status"] == "paused"  # twice changes nothing

    resumed = api_a.post_json(f"{url}/resume", {})
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    assert len(woken) == 1  # the send workers are told this workspace has messages due again
    drain(tenant_a)
    assert len(graph_sends(sim, berlin)) == 4
    assert api_a.get(url).json()["status"] == "completed"

    refused = api_a.post_json(f"{url}/resume", {})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "campaign_state_invalid"
    completed = api_a.post_json(f"{url}/pause", {})
    assert completed.status_code == 409 and "has completed" in completed.json()["error"]["message"]


def test_cancelling_a_paused_campaign_fails_what_was_held(api_a, tenant_a, in_tenant, berlin, template_a):
    people(tenant_a, in_tenant, 3)
    campaign = create(api_a, body(berlin, template_a, {"tags": ["vip"]}, send_at=(timezone.now() + timedelta(days=1)).isoformat()))
    url = f"/api/v1/campaigns/{campaign['id']}"
    api_a.post_json(f"{url}/pause", {})

    cancelled = api_a.post_json(f"{url}/cancel", {"reason": "wrong price"}).json()
    assert cancelled["status"] == "cancelled" and cancelled["totals"]["cancelled"] == 3
    assert api_a.post_json(f"{url}/resume", {}).status_code == 409


def test_ab_variants_split_the_audience_and_are_compared_on_delivery_read_and_reply(
    sim, api_a, tenant_a, in_tenant, berlin, template_a
):
    sim.configure(status_delay_ms=1)
    people(tenant_a, in_tenant, 10)
    with in_tenant(tenant_a):
        other = TemplateFactory(account=berlin.account, name="winter_b")
    simulator_seed_for(sim, berlin, [template_a, other])
    payload = body(berlin, template_a, {"tags": ["vip"]})
    payload["variants"] = [
        {"label": "Short", "template": {"name": template_a.name, "language": "en_US"}, "share": 70,
         "body": [{"field": "name"}, {"text": "A"}]},
        {"label": "Long", "template": {"name": "winter_b", "language": "en_US"}, "share": 30,
         "body": [{"field": "name"}, {"text": "B"}]},
    ]
    campaign = create(api_a, payload)
    assert [(v["label"], v["recipients"]) for v in campaign["variants"]] == [("Short", 7), ("Long", 3)]

    drain(tenant_a)
    sent = graph_sends(sim, berlin)
    assert sorted(request["body"]["template"]["name"] for request in sent) == sorted([template_a.name] * 7 + ["winter_b"] * 3)
    deadline = time.monotonic() + 5
    while len(sim.webhooks(limit=0, field_name="messages")) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    with in_tenant(tenant_a):
        status_webhooks_deliver(sim)
        # One customer of the "Long" variant answers.
        row = BroadcastRecipient.objects.filter(broadcast_id=campaign["id"], variant__label="Long").select_related("message").first()
        Message.objects.create(
            conversation_id=row.message.conversation_id, contact_id=row.message.contact_id, phone_number=berlin,
            direction="in", type="text", body="Yes please", status="received",
            timestamp=row.message.sent_at + timedelta(seconds=5), wamid="wamid.reply-1",
        )
    figures = {v["label"]: v for v in api_a.get(f"/api/v1/campaigns/{campaign['id']}").json()["variants"]}
    assert (figures["Short"]["read"], figures["Short"]["read_rate"], figures["Short"]["reply_rate"]) == (7, 1.0, 0.0)
    assert (figures["Long"]["delivery_rate"], figures["Long"]["replied"]) == (1.0, 1)
    assert figures["Long"]["reply_rate"] == pytest.approx(1 / 3, abs=0.001)


def test_shares_must_add_up_and_templates_must_be_approved(api_a, tenant_a, in_tenant, berlin, template_a):
    people(tenant_a, in_tenant, 2)
    payload = body(berlin, template_a, {"tags": ["vip"]})
    payload["variants"] = [{**payload["variants"][0], "share": 60}, {**payload["variants"][0], "label": "B", "share": 30}]
    response = api_a.post_json("/api/v1/campaigns", payload)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["kind"] == "shares"

    payload = body(berlin, template_a, {"tags": ["vip"]})
    payload["variants"][0]["template"]["name"] = "no_such_template"
    response = api_a.post_json("/api/v1/campaigns", payload)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "variants[0].template"


def test_a_time_in_the_past_or_an_unknown_zone_is_refused(api_a, tenant_a, in_tenant, berlin, template_a):
    people(tenant_a, in_tenant, 1)
    past = api_a.post_json("/api/v1/campaigns", body(berlin, template_a, {"tags": ["vip"]}, send_at="2020-01-01T09:00:00"))
    assert past.status_code == 422 and past.json()["error"]["details"][0]["kind"] == "past"
    zone = api_a.post_json("/api/v1/campaigns", body(berlin, template_a, {"tags": ["vip"]}, timezone="Mars/Olympus"))
    assert zone.status_code == 422 and zone.json()["error"]["details"][0]["field"] == "timezone"


def test_a_campaign_with_nothing_left_to_send_is_marked_finished_once(api_a, tenant_a, in_tenant, berlin, template_a, sim):
    people(tenant_a, in_tenant, 2)
    campaign = create(api_a, body(berlin, template_a, {"tags": ["vip"]}))
    with in_tenant(tenant_a):
        assert campaigns_finish() == []
    drain(tenant_a)
    with in_tenant(tenant_a):
        assert [b.pk for b in campaigns_finish()] == [campaign["id"]]
        assert campaigns_finish() == []
    assert api_a.get(f"/api/v1/campaigns/{campaign['id']}").json()["finished_at"] is not None


def test_a_finished_campaign_is_announced_once_to_subscribed_endpoints(
    api_a, tenant_a, in_tenant, berlin, template_a, sim, settings
):
    from integrations.models import Delivery, Event
    from integrations.services import endpoint_create

    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = True
    with in_tenant(tenant_a):
        endpoint, _ = endpoint_create(url="http://127.0.0.1:9/hooks", event_types=["campaign.finished"])
    people(tenant_a, in_tenant, 2)
    campaign = create(api_a, body(berlin, template_a, {"tags": ["vip"]}))
    drain(tenant_a)
    with in_tenant(tenant_a):
        campaigns_finish()
        campaigns_finish()
        [event] = Event.objects.filter(type="campaign.finished")
        assert event.data["campaign"]["id"] == campaign["id"]
        assert event.data["figures"]["totals"]["recipients"] == 2
        assert event.data["figures"]["totals"]["queued"] == 0
        assert Delivery.objects.get(event=event).endpoint_id == endpoint.pk


def test_campaigns_and_segments_of_another_workspace_are_not_found(
    api_a, api_b, tenant_a, tenant_b, in_tenant, berlin, template_a, number_b
):
    people(tenant_a, in_tenant, 2)
    campaign = create(api_a, body(berlin, template_a, {"tags": ["vip"]}))
    url = f"/api/v1/campaigns/{campaign['id']}"
    assert api_b.get(url).status_code == 404
    for action in ("pause", "resume", "cancel"):
        assert api_b.post_json(f"{url}/{action}", {}).status_code == 404
    assert api_b.get("/api/v1/campaigns").json()["items"] == []
    with in_tenant(tenant_a):
        segment = Segment.objects.create(name="Alpha VIPs", definition={"match": "all", "conditions": []})
    with in_tenant(tenant_b):
        theirs = TemplateFactory(account=number_b.account)
    response = api_b.post_json("/api/v1/campaigns", body(number_b, theirs, {"segment_id": segment.pk}))
    assert response.status_code == 404 and response.json()["error"]["code"] == "segment_not_found"
    # Alpha's number is not beta's to send from.
    assert api_b.post_json("/api/v1/campaigns", body(berlin, theirs, {"tags": ["vip"]})).status_code in (404, 422)
    with in_tenant(tenant_a):
        assert Broadcast.objects.get().status == Broadcast.Status.RUNNING
