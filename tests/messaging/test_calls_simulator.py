"""The Graph API simulator plays a customer's call: its `calls` webhook, signed through the real endpoint
and the webhook worker, is recorded in the tenant's schema and answered by the call reply."""

from __future__ import annotations

import json

import httpx

from messaging.models import CallEvent
from tests.messaging.test_calls import CUSTOMER, REPLY, _reply_on, _window_open, line  # noqa: F401  (fixture)
from tests.sending.helpers import drain, graph_sends
from tests.webhooks.conftest import process_journal


def test_a_simulated_call_is_recorded_and_answered(line, tenant_a, in_tenant, graph_simulator):  # noqa: F811
    number, webhook = line
    with in_tenant(tenant_a):
        _reply_on(number)
        _window_open(number)

    answer = httpx.post(f"{graph_simulator.base_url}/_sim/inject/call",
                        json={"phone_number_id": number.phone_number_id, "from": CUSTOMER, "profile_name": "Ada"})
    [posted] = graph_simulator.webhooks(limit=0, field_name="calls")
    assert webhook.post(json.dumps(posted["payload"])).status_code == 200
    process_journal()
    drain(tenant_a)

    call_id = answer.json()["call_id"]
    with in_tenant(tenant_a):
        call = CallEvent.objects.select_related("contact").get()
    assert (call.call_id, call.event, call.direction, call.contact.wa_id, call.contact.profile_name) == (
        call_id, "connect", "USER_INITIATED", CUSTOMER, "Ada")
    [sent] = graph_sends(graph_simulator, number)
    assert sent["body"]["text"] == {"body": REPLY, "preview_url": False}
