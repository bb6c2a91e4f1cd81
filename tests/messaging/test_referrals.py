"""Click-to-WhatsApp referrals: stored with the inbound message, then reported per ad."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from messaging.models import Message
from tests.fixtures import load_webhook_fixture
from tests.messaging.factories import SECOND_PHONE_ID, SECOND_WABA_ID
from tests.webhooks.conftest import process_journal

REPORT = "/api/v1/analytics/referrals?date_from=2025-06-01&date_to=2025-06-30"
AD_SPRING = {
    "source_url": "https://fb.me/3cr4Wqqkv",
    "source_id": 120210633487540123,  # Meta sends ids as numbers at times
    "source_type": "ad",
    "headline": "Spring coffee sale",
    "body": "Two for one on every latte",
    "media_type": "image",
    "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/spring.jpg",
    "thumbnail_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/spring_thumb.jpg",
    "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-Zh",
}


def _inbound(*, wamid: str, wa_id: str, timestamp: int, referral: object = None, text: str = "Hi",
             waba_id: str | None = None, phone_number_id: str | None = None) -> bytes:
    """The recorded text message, re-addressed; with `referral` as Meta sends it for ad clicks."""
    body = load_webhook_fixture("message_text")
    entry = body["entry"][0]
    value = entry["changes"][0]["value"]
    if waba_id:
        entry["id"] = waba_id
    if phone_number_id:
        value["metadata"]["phone_number_id"] = phone_number_id
    value["contacts"][0]["wa_id"] = wa_id
    message = value["messages"][0]
    message.update({"from": wa_id, "id": wamid, "timestamp": str(timestamp), "text": {"body": text}})
    if referral is not None:
        message["referral"] = referral
    return json.dumps(body).encode()


def _at(day: int, hour: int) -> int:
    return int(datetime(2025, 6, day, hour, tzinfo=UTC).timestamp())


def test_referral_is_stored_with_the_inbound_message(webhook, number_a, tenant_a, in_tenant):
    assert webhook.post(_inbound(wamid="wamid.ad1", wa_id="16315550001", timestamp=_at(8, 10),
                                 referral=AD_SPRING)).status_code == 200
    assert process_journal() == 1

    with in_tenant(tenant_a):
        message = Message.objects.get()
    assert message.referral_source_id == "120210633487540123"
    assert message.referral == {**AD_SPRING, "source_id": "120210633487540123", "video_url": None}
    assert message.body == "Hi"


def test_message_without_or_with_malformed_referral_is_stored_without_one(webhook, number_a, tenant_a, in_tenant):
    webhook.post(_inbound(wamid="wamid.plain", wa_id="16315550001", timestamp=_at(8, 10)))
    webhook.post(_inbound(wamid="wamid.bad", wa_id="16315550002", timestamp=_at(8, 11), referral="not-an-object"))
    assert process_journal() == 2

    with in_tenant(tenant_a):
        stored = {m.wamid: (m.referral, m.referral_source_id) for m in Message.objects.all()}
    assert stored == {"wamid.plain": (None, ""), "wamid.bad": (None, "")}


def test_report_counts_messages_and_contacts_per_ad_for_its_tenant_only(
    webhook, number_a, number_b, tenant_a, api_a, api_b
):
    autumn = {"source_id": "120210633487540999", "source_type": "post", "headline": "Autumn menu",
              "source_url": "https://fb.me/autumn"}
    renamed = {**AD_SPRING, "headline": "Spring sale: last days"}
    posts = [
        _inbound(wamid="wamid.a1", wa_id="16315550001", timestamp=_at(8, 10), referral=AD_SPRING),
        _inbound(wamid="wamid.a2", wa_id="16315550001", timestamp=_at(9, 10), referral=AD_SPRING),
        _inbound(wamid="wamid.a3", wa_id="16315550002", timestamp=_at(12, 10), referral=renamed),
        _inbound(wamid="wamid.a4", wa_id="16315550003", timestamp=_at(10, 10), referral=autumn),
        _inbound(wamid="wamid.a5", wa_id="16315550004", timestamp=_at(11, 10)),  # no ad
        _inbound(wamid="wamid.a6", wa_id="16315550005", timestamp=_at(8, 10), referral=autumn,
                 waba_id=SECOND_WABA_ID, phone_number_id=SECOND_PHONE_ID),  # beta's number
    ]
    for body in posts:
        assert webhook.post(body).status_code == 200
    assert process_journal() == len(posts)

    response = api_a.get(REPORT)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "count": 2,
        "items": [
            {"source_id": "120210633487540123", "source_type": "ad", "headline": "Spring sale: last days",
             "source_url": "https://fb.me/3cr4Wqqkv", "inbound_messages": 3, "contacts": 2,
             "first_seen": "2025-06-08T10:00:00Z", "last_seen": "2025-06-12T10:00:00Z"},
            {"source_id": "120210633487540999", "source_type": "post", "headline": "Autumn menu",
             "source_url": "https://fb.me/autumn", "inbound_messages": 1, "contacts": 1,
             "first_seen": "2025-06-10T10:00:00Z", "last_seen": "2025-06-10T10:00:00Z"},
        ],
    }

    page = api_a.get(REPORT + "&limit=1&offset=1").json()
    assert page["count"] == 2
    assert [item["source_id"] for item in page["items"]] == ["120210633487540999"]

    narrowed = api_a.get("/api/v1/analytics/referrals?date_from=2025-06-09&date_to=2025-06-09").json()
    assert narrowed["items"][0]["inbound_messages"] == 1
    assert narrowed["items"][0]["first_seen"] == narrowed["items"][0]["last_seen"] == "2025-06-09T10:00:00Z"

    beta = api_b.get(REPORT).json()
    assert [(item["source_id"], item["inbound_messages"]) for item in beta["items"]] == [("120210633487540999", 1)]


def test_report_refuses_a_reversed_range(api_a):
    response = api_a.get("/api/v1/analytics/referrals?date_from=2025-06-10&date_to=2025-06-01")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert "date_to must be on or after date_from" in json.dumps(response.json())
