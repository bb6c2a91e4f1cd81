"""Replays every recorded webhook fixture through the parser. Pure: no database."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from messaging.status_order import STATUS_RANK, status_advances
from tests.fixtures import fixture_names, load_webhook_fixture
from waba.webhook_events import (
    AccountEvent,
    InboundMessage,
    PayloadErrorCode,
    StatusUpdate,
    WebhookErrorEvent,
    WebhookPayloadError,
    parse_envelope,
)

WABA = "102290129340398"
PNID = "106540352242922"
DISPLAY = "15550783881"
WA_ID = "16315551181"
WABA_2 = "104996122399160"
PNID_2 = "107655329012345"

BY_NUMBER = ("phone_number_id", PNID)
BY_WABA = ("waba_id", WABA)


def message(type_: str) -> tuple[type, tuple[str, str], str]:
    return (InboundMessage, BY_NUMBER, type_)


def status(status_: str) -> tuple[type, tuple[str, str], str]:
    return (StatusUpdate, BY_NUMBER, status_)


def account(field: str) -> tuple[type, tuple[str, str], str]:
    return (AccountEvent, BY_WABA, field)


# fixture -> [(event class, routing key, message type | status | field)], in payload order
EXPECTED: dict[str, list[tuple[type, tuple[str, str], str]]] = {
    "message_text": [message("text")],
    "message_text_reply": [message("text")],
    "message_text_forwarded": [message("text")],
    "message_text_product_inquiry": [message("text")],
    "message_image": [message("image")],
    "message_video": [message("video")],
    "message_audio_voice": [message("audio")],
    "message_document": [message("document")],
    "message_sticker": [message("sticker")],
    "message_location": [message("location")],
    "message_contacts": [message("contacts")],
    "message_interactive_button_reply": [message("interactive")],
    "message_interactive_list_reply": [message("interactive")],
    "message_interactive_nfm_reply": [message("interactive")],
    "message_button": [message("button")],
    "message_reaction": [message("reaction")],
    "message_reaction_removed": [message("reaction")],
    "message_order": [message("order")],
    "message_system_changed_number": [message("system")],
    "message_system_legacy_changed_number": [message("system")],
    "message_unsupported": [message("unsupported")],
    "message_unknown_type": [message("unsupported")],
    "messages_value_errors": [(WebhookErrorEvent, BY_NUMBER, "errors")],
    "status_sent": [status("sent")],
    "status_delivered": [status("delivered")],
    "status_read": [status("read")],
    "status_failed": [status("failed")],
    "status_biz_opaque_callback_data": [status("sent")],
    "status_category_service": [status("sent")],
    "status_category_marketing": [status("sent")],
    "status_category_utility": [status("delivered")],
    "status_category_authentication": [status("sent")],
    "batch_two_numbers": [
        message("text"),
        status("delivered"),
        status("read"),
        (InboundMessage, ("phone_number_id", PNID_2), "text"),
        (AccountEvent, ("waba_id", WABA_2), "message_template_status_update"),
    ],
    "template_status_approved": [account("message_template_status_update")],
    "template_status_rejected": [account("message_template_status_update")],
    "template_status_paused": [account("message_template_status_update")],
    "template_quality_update": [account("message_template_quality_update")],
    "template_category_update": [account("template_category_update")],
    "phone_number_quality_downgrade": [account("phone_number_quality_update")],
    "phone_number_quality_throughput_upgrade": [account("phone_number_quality_update")],
    "phone_number_name_update": [account("phone_number_name_update")],
    "account_update_violation": [account("account_update")],
    "business_capability_update": [account("business_capability_update")],
    "flows_status_change": [account("flows")],
    "flows_endpoint_error_rate": [account("flows")],
    "flows_endpoint_availability": [account("flows")],
    "security_pin_changed": [account("security")],
    "user_preferences_stop": [account("user_preferences")],
}

EXPECTED_ERROR_CODES = {
    "invalid/object_not_waba": PayloadErrorCode.UNEXPECTED_OBJECT,
    "invalid/entry_not_list": PayloadErrorCode.INVALID_ENVELOPE,
    "invalid/change_without_field": PayloadErrorCode.INVALID_ENVELOPE,
    "invalid/messages_without_metadata": PayloadErrorCode.INVALID_VALUE,
    "invalid/message_without_id": PayloadErrorCode.INVALID_MESSAGE,
    "invalid/message_bad_timestamp": PayloadErrorCode.INVALID_MESSAGE,
    "invalid/text_without_body": PayloadErrorCode.INVALID_MESSAGE,
    "invalid/status_without_id": PayloadErrorCode.INVALID_STATUS,
    "invalid/template_status_without_id": PayloadErrorCode.INVALID_VALUE,
}


def summary(event: object) -> tuple[type, tuple[str, str], str]:
    if isinstance(event, InboundMessage):
        return (InboundMessage, event.routing_key, event.type)
    if isinstance(event, StatusUpdate):
        return (StatusUpdate, event.routing_key, event.status)
    if isinstance(event, WebhookErrorEvent):
        return (WebhookErrorEvent, event.routing_key, "errors")
    assert isinstance(event, AccountEvent)
    return (AccountEvent, event.routing_key, event.field)


def only_message(name: str) -> InboundMessage:
    [event] = parse_envelope(load_webhook_fixture(name))
    assert isinstance(event, InboundMessage)
    return event


def only_status(name: str) -> StatusUpdate:
    [event] = parse_envelope(load_webhook_fixture(name))
    assert isinstance(event, StatusUpdate)
    return event


def only_account_event(name: str) -> AccountEvent:
    [event] = parse_envelope(load_webhook_fixture(name))
    assert isinstance(event, AccountEvent)
    return event


# --- every fixture -----------------------------------------------------------------------------

def test_every_fixture_has_an_expectation():
    assert set(fixture_names()) == set(EXPECTED)
    assert set(fixture_names(invalid=True)) == set(EXPECTED_ERROR_CODES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_into_expected_events(name):
    events = parse_envelope(load_webhook_fixture(name))

    assert [summary(event) for event in events] == EXPECTED[name]
    for event in events:
        assert dataclasses.is_dataclass(event)
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.waba_id = "someone-else"


@pytest.mark.parametrize("name", sorted(EXPECTED_ERROR_CODES))
def test_invalid_fixture_raises_with_code(name):
    with pytest.raises(WebhookPayloadError) as caught:
        parse_envelope(load_webhook_fixture(name))

    assert caught.value.code == EXPECTED_ERROR_CODES[name]
    assert caught.value.message
    assert caught.value.retryable is False


def test_inbound_wamids_are_unique_across_fixtures():
    wamids = [
        event.wamid
        for name in fixture_names()
        for event in parse_envelope(load_webhook_fixture(name))
        if isinstance(event, InboundMessage)
    ]
    assert len(wamids) == len(set(wamids))


# --- inbound messages: common fields -----------------------------------------------------------

def test_text_message_common_fields():
    event = only_message("message_text")

    assert event.phone_number_id == PNID
    assert event.display_phone_number == DISPLAY
    assert event.waba_id == WABA
    assert event.wa_id == WA_ID
    assert event.profile_name == "Kerry Fisher"
    assert event.wamid == "wamid.HBgLMTYzMTU1NTExODEVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert event.timestamp == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)
    assert event.timestamp.tzinfo is UTC
    assert event.content == {"body": "Hi! Do you deliver on Saturdays?"}
    assert event.context is None
    assert event.raw["text"] == {"body": "Hi! Do you deliver on Saturdays?"}


def test_reply_context():
    event = only_message("message_text_reply")

    assert event.context == {
        "from": DISPLAY,
        "id": "wamid.HBgLMTYzMTU1NTExODEVAgASGBQxRTNDNUE3QjlEMkY0RTZBOEMwQgA=",
        "forwarded": False,
        "frequently_forwarded": False,
        "referred_product": None,
    }


def test_forwarded_context():
    context = only_message("message_text_forwarded").context

    assert context is not None
    assert context["forwarded"] is True
    assert context["frequently_forwarded"] is True
    assert context["id"] is None


def test_referred_product_context():
    context = only_message("message_text_product_inquiry").context

    assert context is not None
    assert context["referred_product"] == {
        "catalog_id": "194836987003835",
        "product_retailer_id": "tshirt-blue-m",
    }


# --- inbound messages: content per type --------------------------------------------------------

def test_image_content():
    assert only_message("message_image").content == {
        "media_id": "1003383421387256",
        "mime_type": "image/jpeg",
        "sha256": "aYIdmOXuWQjkyLDJLuhxNcNl2EOdjJiBdFjnWl4wNmE=",
        "caption": "Here is the damaged parcel",
        "filename": None,
        "voice": False,
        "animated": False,
    }


def test_video_content():
    content = only_message("message_video").content

    assert content["media_id"] == "1289401835421390"
    assert content["mime_type"] == "video/mp4"
    assert content["caption"] == "Unboxing"


def test_voice_note_content():
    content = only_message("message_audio_voice").content

    assert content["media_id"] == "1975315859667389"
    assert content["mime_type"] == "audio/ogg; codecs=opus"
    assert content["voice"] is True
    assert content["caption"] is None


def test_document_content():
    content = only_message("message_document").content

    assert content["filename"] == "invoice-1042.pdf"
    assert content["mime_type"] == "application/pdf"
    assert content["caption"] == "Invoice for order 1042"


def test_sticker_content():
    content = only_message("message_sticker").content

    assert content["media_id"] == "1524709738313716"
    assert content["mime_type"] == "image/webp"
    assert content["animated"] is False


def test_location_content():
    assert only_message("message_location").content == {
        "latitude": 37.483307,
        "longitude": -122.148981,
        "name": "Main office",
        "address": "1 Hacker Way, Menlo Park, CA 94025",
        "url": "https://example.com/locations/main-office",
    }


def test_contacts_content():
    [card] = only_message("message_contacts").content["contacts"]

    assert card["name"]["formatted_name"] == "Morgan Lee"
    assert card["phones"][0]["wa_id"] == "14155550143"


def test_button_reply_content():
    assert only_message("message_interactive_button_reply").content == {
        "kind": "button_reply",
        "id": "track_order",
        "title": "Track my order",
        "description": None,
        "response": None,
        "flow_token": None,
        "body": None,
        "name": None,
    }


def test_list_reply_content():
    content = only_message("message_interactive_list_reply").content

    assert content["kind"] == "list_reply"
    assert content["id"] == "slot_2025_06_10_0900"
    assert content["title"] == "Tue 10 Jun, 09:00"
    assert content["description"] == "Downtown branch, 30 minutes"


def test_flow_reply_parses_response_json():
    event = only_message("message_interactive_nfm_reply")

    assert event.content["kind"] == "nfm_reply"
    assert event.content["name"] == "flow"
    assert event.content["body"] == "Sent"
    assert event.content["flow_token"] == "ft_7d1e2f3a-booking-4821"
    assert event.content["response"] == {
        "flow_token": "ft_7d1e2f3a-booking-4821",
        "screen_0_date_0": "2025-06-10",
        "screen_0_time_1": "09:00",
        "email": "kerry.fisher@example.com",
        "newsletter": True,
    }
    assert isinstance(event.raw["interactive"]["nfm_reply"]["response_json"], str)


def test_flow_reply_with_broken_response_json_keeps_the_message():
    payload = load_webhook_fixture("message_interactive_nfm_reply")
    nfm = payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"]
    nfm["response_json"] = "{not json"

    [event] = parse_envelope(payload)

    assert event.content["response"] == {}
    assert event.content["flow_token"] is None


def test_template_quick_reply_button_content():
    event = only_message("message_button")

    assert event.content == {"payload": "CONFIRM_APPOINTMENT", "text": "Confirm"}
    assert event.context is not None and event.context["from"] == DISPLAY


def test_reaction_content():
    assert only_message("message_reaction").content == {
        "message_id": "wamid.HBgLMTYzMTU1NTExODEVAgASGBQxRTNDNUE3QjlEMkY0RTZBOEMwQgA=",
        "emoji": "\U0001F44D",
    }


def test_removed_reaction_has_no_emoji():
    assert only_message("message_reaction_removed").content["emoji"] is None


def test_order_content():
    content = only_message("message_order").content

    assert content["catalog_id"] == "194836987003835"
    assert content["text"] == "Please gift-wrap the mug"
    assert [item["product_retailer_id"] for item in content["product_items"]] == ["tshirt-blue-m", "mug-white"]


@pytest.mark.parametrize(
    ("name", "system_type"),
    [
        ("message_system_changed_number", "user_changed_number"),
        ("message_system_legacy_changed_number", "customer_changed_number"),
    ],
)
def test_system_changed_number(name, system_type):
    event = only_message(name)

    assert event.content["type"] == system_type
    assert event.content["new_wa_id"] == "16315551182"
    assert "changed from 16315551181 to 16315551182" in event.content["body"]
    # System messages carry no contacts: the sender comes from `from`, with no profile name.
    assert event.wa_id == WA_ID
    assert event.profile_name is None


def test_unsupported_message_keeps_errors():
    content = only_message("message_unsupported").content

    assert content["original_type"] == "edit"
    assert [error["code"] for error in content["errors"]] == [131051]


@pytest.mark.parametrize("unsupported", [True, "edit", ["edit"], None])
def test_unsupported_message_whose_unsupported_part_is_not_an_object_keeps_no_original_type(unsupported):
    payload = load_webhook_fixture("message_unsupported")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["unsupported"] = unsupported

    [event] = parse_envelope(payload)

    assert (event.type, event.content["original_type"]) == ("unsupported", None)


def test_unknown_message_type_becomes_unsupported():
    event = only_message("message_unknown_type")

    assert event.type == "unsupported"
    assert event.content == {"errors": [], "original_type": "poll_creation"}
    assert event.raw["type"] == "poll_creation"


def test_unknown_interactive_kind_is_kept():
    payload = load_webhook_fixture("message_interactive_button_reply")
    message_raw = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message_raw["interactive"] = {"type": "product_reply", "product_reply": {"id": "sku-1"}}

    [event] = parse_envelope(payload)

    assert event.type == "interactive"
    assert event.content["kind"] == "product_reply"
    assert event.content["id"] == "sku-1"


def test_integer_timestamp_is_accepted():
    payload = load_webhook_fixture("message_text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = 1749416383

    [event] = parse_envelope(payload)

    assert event.timestamp == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)


def test_media_without_id_is_invalid():
    payload = load_webhook_fixture("message_image")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]

    with pytest.raises(WebhookPayloadError) as caught:
        parse_envelope(payload)

    assert caught.value.code == PayloadErrorCode.INVALID_MESSAGE
    assert "messages[0].image.id" in caught.value.message


# --- statuses ----------------------------------------------------------------------------------

def test_sent_status_with_conversation_and_pricing():
    event = only_status("status_sent")

    assert event.wamid == "wamid.HBgLMTYzMTU1NTExODEVAgASGBQyQzlBRTBCNEYxRDdFNUEzQjhDMQA="
    assert event.recipient_id == WA_ID
    assert event.timestamp == datetime.fromtimestamp(1750263773, tz=UTC)
    assert event.conversation == {
        "id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "expiration_timestamp": "1750350173",
        "origin": {"type": "utility"},
    }
    assert event.pricing == {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    assert event.errors == []
    assert event.biz_opaque_callback_data is None


def test_delivered_and_read_refer_to_the_sent_message():
    sent = only_status("status_sent")

    assert only_status("status_delivered").wamid == sent.wamid
    assert only_status("status_read").wamid == sent.wamid
    assert only_status("status_read").pricing is None


def test_failed_status_errors():
    event = only_status("status_failed")

    assert event.status == "failed"
    [error] = event.errors
    assert error["code"] == 131026
    assert error["error_data"] == {"details": "Message Undeliverable."}


def test_biz_opaque_callback_data():
    event = only_status("status_biz_opaque_callback_data")

    assert event.biz_opaque_callback_data == "msg:7f9c2ba4-e88f-4c2a-9d1e-3b6a5c0d8e21"


@pytest.mark.parametrize(
    ("name", "category", "billable"),
    [
        ("status_category_service", "service", False),
        ("status_category_marketing", "marketing", True),
        ("status_category_utility", "utility", True),
        ("status_category_authentication", "authentication", True),
    ],
)
def test_status_categories(name, category, billable):
    event = only_status(name)

    assert event.pricing_category == category
    assert event.pricing is not None and event.pricing["billable"] is billable
    assert event.conversation is not None and event.conversation["origin"]["type"] == category


def test_pricing_category_falls_back_to_conversation_origin():
    payload = load_webhook_fixture("status_category_marketing")
    del payload["entry"][0]["changes"][0]["value"]["statuses"][0]["pricing"]

    [event] = parse_envelope(payload)

    assert event.pricing_category == "marketing"


def test_value_level_errors():
    [event] = parse_envelope(load_webhook_fixture("messages_value_errors"))

    assert isinstance(event, WebhookErrorEvent)
    assert event.phone_number_id == PNID
    assert event.display_phone_number == DISPLAY
    assert event.waba_id == WABA
    assert [error["code"] for error in event.errors] == [131000]


# --- batches -----------------------------------------------------------------------------------

def test_batch_with_two_numbers_routes_to_each():
    events = parse_envelope(load_webhook_fixture("batch_two_numbers"))

    number_keys = {event.routing_key for event in events if event.routing_key[0] == "phone_number_id"}
    assert number_keys == {("phone_number_id", PNID), ("phone_number_id", PNID_2)}
    second = [event for event in events if isinstance(event, InboundMessage) and event.phone_number_id == PNID_2]
    assert [(event.waba_id, event.wa_id, event.profile_name) for event in second] == [
        (WABA_2, "14155550123", "Alex Rivera")
    ]
    template = events[-1]
    assert isinstance(template, AccountEvent)
    assert template.value["message_template_id"] == 794136152905412
    assert template.occurred_at == datetime.fromtimestamp(1750263973, tz=UTC)


def test_empty_entry_list_yields_no_events():
    assert parse_envelope({"object": "whatsapp_business_account", "entry": []}) == []


@pytest.mark.parametrize("payload", [None, [], "whatsapp_business_account", 42])
def test_non_object_body_is_invalid(payload):
    with pytest.raises(WebhookPayloadError) as caught:
        parse_envelope(payload)

    assert caught.value.code == PayloadErrorCode.INVALID_ENVELOPE


def test_missing_object_is_unexpected():
    payload = load_webhook_fixture("message_text")
    del payload["object"]

    with pytest.raises(WebhookPayloadError) as caught:
        parse_envelope(payload)

    assert caught.value.code == PayloadErrorCode.UNEXPECTED_OBJECT


# --- account-level fields ----------------------------------------------------------------------

def test_template_status_rejected_keeps_reason():
    event = only_account_event("template_status_rejected")

    assert event.event == "REJECTED"
    assert event.value["reason"] == "INCORRECT_CATEGORY"
    assert event.value["message_template_name"] == "summer_sale"
    assert event.occurred_at == datetime.fromtimestamp(1750270010, tz=UTC)


def test_template_status_approved():
    event = only_account_event("template_status_approved")

    assert event.event == "APPROVED"
    assert event.display_phone_number is None
    assert event.phone_number_id is None


@pytest.mark.parametrize(
    ("name", "event_name", "current_limit"),
    [
        ("phone_number_quality_downgrade", "DOWNGRADE", "TIER_2K"),
        ("phone_number_quality_throughput_upgrade", "THROUGHPUT_UPGRADE", "TIER_UNLIMITED"),
    ],
)
def test_phone_number_quality_update(name, event_name, current_limit):
    event = only_account_event(name)

    assert event.event == event_name
    assert event.value["current_limit"] == current_limit
    assert event.display_phone_number == DISPLAY
    assert event.routing_key == BY_WABA


def test_phone_number_name_update():
    event = only_account_event("phone_number_name_update")

    assert event.display_phone_number == DISPLAY
    assert event.value["decision"] == "APPROVED"
    assert event.event is None


def test_flows_events():
    status_change = only_account_event("flows_status_change")
    error_rate = only_account_event("flows_endpoint_error_rate")

    assert status_change.event == "FLOW_STATUS_CHANGE"
    assert (status_change.value["old_status"], status_change.value["new_status"]) == ("DRAFT", "PUBLISHED")
    assert error_rate.event == "ENDPOINT_ERROR_RATE"
    assert error_rate.value["alert_state"] == "ACTIVATED"


def test_user_preferences_names_the_number_but_routes_by_waba():
    event = only_account_event("user_preferences_stop")

    assert event.phone_number_id == PNID
    assert event.display_phone_number == DISPLAY
    assert event.routing_key == BY_WABA
    assert event.value["user_preferences"][0]["value"] == "stop"


def test_security_event():
    event = only_account_event("security_pin_changed")

    assert event.event == "PIN_CHANGED"
    assert event.display_phone_number == DISPLAY


def test_unknown_field_is_kept_as_account_event():
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "some_future_field", "value": {"anything": 1}}]}],
    }

    [event] = parse_envelope(payload)

    assert isinstance(event, AccountEvent)
    assert event.field == "some_future_field"
    assert event.routing_key == BY_WABA


def test_numeric_waba_id_is_normalised_to_string():
    payload = json.loads(json.dumps(load_webhook_fixture("template_status_approved")))
    payload["entry"][0]["id"] = int(WABA)

    [event] = parse_envelope(payload)

    assert event.routing_key == BY_WABA


# --- status ordering ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("current", "new", "advances"),
    [
        (None, "sent", True),
        (None, "failed", True),
        ("queued", "sending", True),
        ("sending", "sent", True),
        ("sent", "delivered", True),
        ("delivered", "read", True),
        ("sent", "read", True),
        ("read", "delivered", False),
        ("delivered", "sent", False),
        ("read", "sent", False),
        ("sent", "sent", False),
        ("read", "read", False),
        ("sent", "failed", True),
        ("queued", "failed", True),
        ("delivered", "failed", False),
        ("read", "failed", False),
        ("failed", "failed", False),
        ("failed", "sent", False),
        ("failed", "delivered", True),
        ("failed", "read", True),
        ("sent", "deleted", False),
        ("unknown-state", "sent", True),
    ],
)
def test_status_advances(current, new, advances):
    assert status_advances(current, new) is advances


def test_status_rank_ladder():
    assert STATUS_RANK == {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
