"""Status updates of business-initiated calls (`statuses` with type "call" in the `calls` field):
signed through the real endpoint and the webhook worker, each status of a call is stored once in the
tenant's call events, and none is taken for a customer's call to answer."""

from __future__ import annotations

import json
import time

from messaging.models import CallEvent
from tests.messaging.test_calls import CUSTOMER, _reply_on, _window_open, line  # noqa: F401  (fixture)
from tests.sending.helpers import drain, graph_sends
from tests.webhooks.conftest import process_journal
from waba.webhook_events import CallEvent as CallWebhookEvent
from waba.webhook_events import parse_envelope

CALL_ID = "wacid.HBgLMTIxODU1NTI4MjgVAgARGCAyODhBQjVGMzQ2QjU0NjZFQjNCRTA5RjBEQ0Y3NDA2OQA="


def _status_envelope(number, *statuses: str, call_id: str = CALL_ID, item_type: str = "call") -> str:
    now = int(time.time())
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": number.account.waba_id, "changes": [{"field": "calls", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.display_phone_number, "phone_number_id": number.phone_number_id},
            "statuses": [
                {"id": call_id, "timestamp": str(now + offset), "type": item_type, "status": status,
                 "recipient_id": CUSTOMER}
                for offset, status in enumerate(statuses)
            ],
        }}]}],
    })


def _number(waba_id: str = "102290129340398"):
    return type("N", (), {"display_phone_number": "15550783881", "phone_number_id": "106540352242922",
                          "account": type("A", (), {"waba_id": waba_id})()})()


def test_the_parser_reads_each_call_status_as_a_call_event_of_the_customer_called():
    ringing, accepted = parse_envelope(json.loads(_status_envelope(_number(), "RINGING", "ACCEPTED")))

    for event in (ringing, accepted):
        assert isinstance(event, CallWebhookEvent)
        assert (event.call_id, event.event, event.direction, event.wa_id) == (
            CALL_ID, "status", "BUSINESS_INITIATED", CUSTOMER)
        assert (event.phone_number_id, event.routing_key) == ("106540352242922", ("waba_id", "102290129340398"))
    assert (ringing.status, accepted.status) == ("RINGING", "ACCEPTED")
    assert ringing.raw["status"] == "RINGING" and ringing.raw["recipient_id"] == CUSTOMER


def test_statuses_of_another_type_in_the_calls_field_are_not_call_events():
    assert parse_envelope(json.loads(_status_envelope(_number(), "RINGING", item_type="message"))) == []


def test_each_status_of_a_business_initiated_call_is_stored_once(line, tenant_a, in_tenant, graph_simulator):  # noqa: F811
    number, webhook = line
    with in_tenant(tenant_a):
        _reply_on(number)  # a customer's call would be answered; the business's own call must not be
        _window_open(number)

    for body in (
        _status_envelope(number, "RINGING"),
        _status_envelope(number, "RINGING"),  # Meta redelivers
        _status_envelope(number, "ACCEPTED"),
        _status_envelope(number, "RINGING", "ACCEPTED"),
    ):
        assert webhook.post(body).status_code == 200
        process_journal()
    drain(tenant_a)

    with in_tenant(tenant_a):
        stored = list(CallEvent.objects.order_by("id").values_list(
            "call_id", "event", "status", "direction", "contact__wa_id", "phone_number_id"))
    assert stored == [
        (CALL_ID, "status:RINGING", "RINGING", "BUSINESS_INITIATED", CUSTOMER, number.pk),
        (CALL_ID, "status:ACCEPTED", "ACCEPTED", "BUSINESS_INITIATED", CUSTOMER, number.pk),
    ]
    assert graph_sends(graph_simulator, number) == []


def test_a_rejected_call_and_its_terminate_are_both_kept(line, tenant_a, in_tenant):  # noqa: F811
    number, webhook = line
    terminate = json.loads(_status_envelope(number, "RINGING"))
    value = terminate["entry"][0]["changes"][0]["value"]
    value["calls"] = [{"id": CALL_ID, "from": number.display_phone_number, "to": CUSTOMER, "event": "terminate",
                       "timestamp": str(int(time.time())), "direction": "BUSINESS_INITIATED", "status": "FAILED"}]
    value["statuses"] = []

    assert webhook.post(_status_envelope(number, "REJECTED")).status_code == 200
    assert webhook.post(json.dumps(terminate)).status_code == 200
    process_journal()

    with in_tenant(tenant_a):
        assert sorted(CallEvent.objects.values_list("event", "status")) == [
            ("status:REJECTED", "REJECTED"), ("terminate", "FAILED")]
