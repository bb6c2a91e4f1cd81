"""Every recorded inbound message type, posted through the real endpoint and processed by a worker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from messaging.models import Contact, Conversation, Message
from messaging.signals import inbound_message_stored
from tests.fixtures import load_webhook_fixture, load_webhook_fixture_bytes
from tests.messaging.factories import FIXTURE_CUSTOMER
from tests.webhooks.conftest import process_journal
from webhooks.models import WebhookJournalEntry

# fixture -> (stored type, content fields that must be there, searchable body)
EXPECTED = {
    "message_text": ("text", {"body": "Hi! Do you deliver on Saturdays?"}, "Hi! Do you deliver on Saturdays?"),
    "message_text_reply": ("text", {"body": "Yes, the blue one please"}, "Yes, the blue one please"),
    "message_text_forwarded": ("text", {"body": "Look at this offer"}, "Look at this offer"),
    "message_text_product_inquiry": ("text", {"body": "Is this available in size M?"},
                                     "Is this available in size M?"),
    "message_image": ("image", {"media_id": "1003383421387256", "mime_type": "image/jpeg",
                                "sha256": "aYIdmOXuWQjkyLDJLuhxNcNl2EOdjJiBdFjnWl4wNmE=",
                                "caption": "Here is the damaged parcel"}, "Here is the damaged parcel"),
    "message_video": ("video", {"media_id": "1289401835421390", "mime_type": "video/mp4", "caption": "Unboxing"},
                      "Unboxing"),
    "message_audio_voice": ("audio", {"media_id": "1975315859667389", "mime_type": "audio/ogg; codecs=opus",
                                      "voice": True}, ""),
    "message_document": ("document", {"media_id": "1190574436124862", "filename": "invoice-1042.pdf",
                                      "mime_type": "application/pdf", "caption": "Invoice for order 1042"},
                         "Invoice for order 1042"),
    "message_sticker": ("sticker", {"media_id": "1524709738313716", "mime_type": "image/webp", "animated": False},
                        ""),
    "message_location": ("location", {"latitude": 37.483307, "longitude": -122.148981, "name": "Main office",
                                      "address": "1 Hacker Way, Menlo Park, CA 94025"},
                         "Main office 1 Hacker Way, Menlo Park, CA 94025"),
    "message_contacts": ("contacts", {}, "Morgan Lee"),
    "message_interactive_button_reply": ("interactive", {"kind": "button_reply", "id": "track_order",
                                                         "title": "Track my order"}, "Track my order"),
    "message_interactive_list_reply": ("interactive", {"kind": "list_reply", "id": "slot_2025_06_10_0900",
                                                       "title": "Tue 10 Jun, 09:00",
                                                       "description": "Downtown branch, 30 minutes"},
                                       "Tue 10 Jun, 09:00"),
    "message_interactive_nfm_reply": ("interactive", {"kind": "nfm_reply", "name": "flow", "body": "Sent",
                                                      "flow_token": "ft_7d1e2f3a-booking-4821"}, "Sent"),
    "message_button": ("button", {"payload": "CONFIRM_APPOINTMENT", "text": "Confirm"}, "Confirm"),
    "message_reaction": ("reaction", {"message_id": "wamid.HBgLMTYzMTU1NTExODEVAgASGBQxRTNDNUE3QjlEMkY0RTZBOEMwQgA=",
                                      "emoji": "\N{THUMBS UP SIGN}"}, "\N{THUMBS UP SIGN}"),
    "message_reaction_removed": ("reaction", {"emoji": None}, ""),
    "message_order": ("order", {"catalog_id": "194836987003835", "text": "Please gift-wrap the mug"},
                      "Please gift-wrap the mug"),
    "message_system_changed_number": ("system", {"type": "user_changed_number", "new_wa_id": "16315551182"},
                                      "User Kerry Fisher changed from 16315551181 to 16315551182"),
    "message_system_legacy_changed_number": ("system", {"type": "customer_changed_number",
                                                        "new_wa_id": "16315551182"},
                                             "User Kerry Fisher changed from 16315551181 to 16315551182"),
    "message_unsupported": ("unsupported", {"original_type": "edit"}, ""),
    "message_unknown_type": ("unsupported", {"original_type": "poll_creation"}, ""),
}


def _only_message(fixture: str) -> dict:
    return load_webhook_fixture(fixture)["entry"][0]["changes"][0]["value"]["messages"][0]


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_message_type_is_stored_typed_in_the_owning_tenant(
    fixture, webhook, number_a, tenant_a, tenant_b, in_tenant
):
    message_type, fields, body = EXPECTED[fixture]
    raw = _only_message(fixture)

    assert webhook.post(load_webhook_fixture_bytes(fixture)).status_code == 200
    assert process_journal() == 1

    with in_tenant(tenant_a):
        message = Message.objects.select_related("contact", "conversation").get()
        assert message.wamid == raw["id"]
        assert message.direction == Message.Direction.INBOUND
        assert message.status == Message.Status.RECEIVED
        assert message.type == message_type
        assert message.body == body
        assert message.timestamp == datetime.fromtimestamp(int(raw["timestamp"]), tz=UTC)
        assert message.phone_number_id == number_a.pk
        assert message.contact.wa_id == FIXTURE_CUSTOMER
        for key, value in fields.items():
            assert message.content[key] == value, key
        context = raw.get("context")
        assert message.context_wamid == ((context or {}).get("id") or "")
        if context:
            assert message.content["context"]["forwarded"] == context.get("forwarded", False)
            assert message.content["context"]["referred_product"] == context.get("referred_product")
    with in_tenant(tenant_b):
        assert not Message.objects.exists()
        assert not Contact.objects.exists()
    entry = WebhookJournalEntry.objects.get()
    assert entry.state == WebhookJournalEntry.State.PROCESSED
    assert entry.outcome == {"messages_stored": 1}


def test_nfm_reply_keeps_the_parsed_flow_response(webhook, number_a, tenant_a, in_tenant):
    webhook.post(load_webhook_fixture_bytes("message_interactive_nfm_reply"))
    process_journal()

    with in_tenant(tenant_a):
        response = Message.objects.get().content["response"]
    assert response == {"flow_token": "ft_7d1e2f3a-booking-4821", "screen_0_date_0": "2025-06-10",
                        "screen_0_time_1": "09:00", "email": "kerry.fisher@example.com", "newsletter": True}


def test_contacts_and_order_keep_their_structures(webhook, number_a, tenant_a, in_tenant):
    webhook.post(load_webhook_fixture_bytes("message_contacts"))
    webhook.post(load_webhook_fixture_bytes("message_order"))
    process_journal()

    with in_tenant(tenant_a):
        card = Message.objects.get(type="contacts").content["contacts"][0]
        order = Message.objects.get(type="order").content
    assert card["name"]["formatted_name"] == "Morgan Lee"
    assert card["org"]["company"] == "Lee Logistics"
    assert [item["product_retailer_id"] for item in order["product_items"]] == ["tshirt-blue-m", "mug-white"]


def test_contact_and_conversation_track_the_customer(webhook, number_a, tenant_a, in_tenant):
    first, second = load_webhook_fixture("message_text"), load_webhook_fixture("message_text_reply")
    webhook.post(load_webhook_fixture_bytes("message_text_reply"))  # the later one arrives first
    webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()

    first_at = datetime.fromtimestamp(int(first["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"]),
                                      tz=UTC)
    second_at = datetime.fromtimestamp(int(second["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"]),
                                       tz=UTC)
    with in_tenant(tenant_a):
        contact = Contact.objects.get()
        conversation = Conversation.objects.get()
    assert contact.wa_id == FIXTURE_CUSTOMER
    assert contact.profile_name == "Kerry Fisher"
    assert contact.first_seen_at == first_at
    assert contact.last_seen_at == second_at
    assert conversation.contact_id == contact.pk
    assert conversation.phone_number_id == number_a.pk
    assert conversation.message_count == 2
    assert conversation.unread_count == 2
    assert conversation.last_message_at == second_at
    assert conversation.last_inbound_at == second_at
    assert conversation.service_window_expires_at == second_at + timedelta(hours=24)


def test_service_window_is_open_for_24_hours_after_the_last_customer_message(
    webhook, number_a, tenant_a, in_tenant
):
    payload = load_webhook_fixture("message_text")
    sent_at = datetime.now(tz=UTC).replace(microsecond=0) - timedelta(hours=23)
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(sent_at.timestamp()))

    webhook.post(json.dumps(payload))
    process_journal()

    with in_tenant(tenant_a):
        conversation = Conversation.objects.get()
    assert conversation.window_open()
    assert not conversation.window_open(at=sent_at + timedelta(hours=24, seconds=1))


def test_system_messages_do_not_open_the_window_or_count_as_unread(webhook, number_a, tenant_a, in_tenant):
    webhook.post(load_webhook_fixture_bytes("message_system_changed_number"))
    process_journal()

    with in_tenant(tenant_a):
        conversation = Conversation.objects.get()
    assert conversation.message_count == 1
    assert conversation.unread_count == 0
    assert conversation.service_window_expires_at is None


def test_the_same_message_delivered_twice_is_stored_and_dispatched_once(webhook, number_a, tenant_a, in_tenant):
    seen: list[str] = []

    def handler(sender, message, **kwargs):
        seen.append(message.wamid)

    inbound_message_stored.connect(handler)
    try:
        for _ in range(3):
            assert webhook.post(load_webhook_fixture_bytes("message_text")).status_code == 200
        process_journal()
    finally:
        inbound_message_stored.disconnect(handler)

    with in_tenant(tenant_a):
        assert Message.objects.count() == 1
        assert Conversation.objects.get().message_count == 1
        assert Conversation.objects.get().unread_count == 1
    assert seen == [_only_message("message_text")["id"]]
    outcomes = sorted(tuple(sorted(entry.outcome.items())) for entry in WebhookJournalEntry.objects.all())
    assert outcomes == [(("messages_duplicate", 1),), (("messages_duplicate", 1),), (("messages_stored", 1),)]


def test_dispatch_runs_inside_the_tenant_schema(webhook, number_a, tenant_a):
    from django.db import connection

    schemas: list[str] = []

    def handler(sender, message, **kwargs):
        schemas.append(connection.schema_name)

    inbound_message_stored.connect(handler)
    try:
        webhook.post(load_webhook_fixture_bytes("message_text"))
        process_journal()
    finally:
        inbound_message_stored.disconnect(handler)
    assert schemas == [tenant_a.schema_name]


def test_a_failing_handler_loses_neither_the_message_nor_other_handlers(webhook, number_a, tenant_a, in_tenant):
    calls: list[str] = []

    def broken(sender, message, **kwargs):
        Contact.objects.filter(pk=message.contact_id).update(profile_name="half-written")
        raise RuntimeError("menu bug")

    def healthy(sender, message, **kwargs):
        calls.append(message.type)

    inbound_message_stored.connect(broken)
    inbound_message_stored.connect(healthy)
    try:
        webhook.post(load_webhook_fixture_bytes("message_text"))
        process_journal()
    finally:
        inbound_message_stored.disconnect(broken)
        inbound_message_stored.disconnect(healthy)

    with in_tenant(tenant_a):
        assert Message.objects.count() == 1
        assert Contact.objects.get().profile_name == "Kerry Fisher"  # the broken handler's write rolled back
    assert calls == ["text"]
    assert WebhookJournalEntry.objects.get().outcome == {"dispatch_failures": 1, "messages_stored": 1}


def test_nul_characters_and_lone_surrogates_are_stored_replaced_and_the_raw_body_is_kept(
    webhook, number_a, tenant_a, in_tenant
):
    """PostgreSQL cannot store U+0000 or a lone surrogate; the customer's message must still arrive."""
    payload = load_webhook_fixture("message_text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0]["text"]["body"] = "Table for two\x00 tonight \ud83d"
    value["contacts"][0]["profile"]["name"] = "Kerry\x00 Fisher"
    raw = json.dumps(payload).encode()  # JSON escapes them: \u0000, \ud83d

    assert webhook.post(raw).status_code == 200
    assert process_journal() == 1

    with in_tenant(tenant_a):
        message = Message.objects.select_related("contact").get()
    assert message.body == "Table for two\ufffd tonight \ufffd"
    assert message.content["body"] == message.body
    assert message.contact.profile_name == "Kerry\ufffd Fisher"
    entry = WebhookJournalEntry.objects.get()
    assert entry.state == WebhookJournalEntry.State.PROCESSED
    assert entry.outcome == {"messages_stored": 1}
    assert bytes(entry.body) == raw and b"\\u0000" in bytes(entry.body)

