"""Property tests of the webhook payload parser (waba/webhook_events.py, waba/webhook_payloads.py).

Whatever Meta (or anyone holding the app secret) posts, parsing either yields events or raises
`WebhookPayloadError`, the one error the worker knows how to dead-letter; and every string in the
events can be stored by PostgreSQL.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from platform_core.text import json_unstorable_path
from tests.fixtures import fixture_names, load_webhook_fixture
from tests.fuzz.strategies import hostile_text, json_values, mutated, nested, pure_function_settings
from waba.webhook_events import FIELD_NORMALISERS, MESSAGE_NORMALISERS, WebhookPayloadError, parse_envelope

RECORDED = [load_webhook_fixture(name) for name in fixture_names()] + [
    load_webhook_fixture(name) for name in fixture_names(invalid=True)
]


def _parse_or_declared_error(payload):
    try:
        events = parse_envelope(payload)
    except WebhookPayloadError:
        return []
    for event in events:
        assert json_unstorable_path(dataclasses.asdict(event)) is None, event
    return events


@pure_function_settings()
@given(mutated(RECORDED))
def test_mutated_recorded_payloads_parse_or_raise_the_declared_error(payload):
    _parse_or_declared_error(payload)


@pure_function_settings()
@given(json_values)
def test_any_json_value_parses_or_raises_the_declared_error(payload):
    _parse_or_declared_error(payload)


def _message_envelope(message: dict, *, name: str | None) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": name}, "wa_id": "16315551181"}],
            "messages": [message],
        }}]}],
    }


@pure_function_settings()
@given(
    message_type=st.sampled_from(sorted(MESSAGE_NORMALISERS) + ["poll_creation"]),
    content=json_values,
    sender=hostile_text,
    name=hostile_text | st.none(),
    wamid=hostile_text,
    timestamp=st.integers(min_value=-(2**40), max_value=2**70).map(str) | hostile_text,
)
def test_any_message_of_any_type_parses_or_raises_the_declared_error(
    message_type, content, sender, name, wamid, timestamp
):
    message = {"from": sender, "id": wamid, "timestamp": timestamp, "type": message_type, message_type: content}
    _parse_or_declared_error(_message_envelope(message, name=name))


@pure_function_settings()
@given(field=st.sampled_from(sorted(FIELD_NORMALISERS)) | hostile_text, value=json_values)
def test_any_change_of_any_field_parses_or_raises_the_declared_error(field, value):
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}]}
    _parse_or_declared_error(payload)


@pure_function_settings()
@given(text=hostile_text, name=hostile_text)
def test_text_and_sender_name_come_out_storable(text, name):
    message = {"from": "16315551181", "id": "wamid.A", "timestamp": "1717000000", "type": "text", "text": {"body": text}}
    [event] = _parse_or_declared_error(_message_envelope(message, name=name))
    assert event.content["body"].replace("\ufffd", "") == "".join(
        char for char in text if char != "\x00" and not "\ud800" <= char <= "\udfff"
    )


def test_deeply_nested_content_parses_or_raises_the_declared_error():
    message = {"from": "16315551181", "id": "wamid.A", "timestamp": "1717000000", "type": "order",
               "order": nested(900)}
    _parse_or_declared_error(_message_envelope(message, name="Kerry"))
