"""Outbound messages are first-class: GET /messages shows them next to inbound ones, with their progress.

The read endpoints belong to messaging (messaging.api, messaging.schemas); these tests check what
the send pipeline puts there.
"""

from __future__ import annotations

from django.utils import timezone

from messaging.models import Message
from tests.sending.factories import simulator_seed_for
from tests.sending.helpers import drain


def test_a_sent_message_shows_its_progress_and_content(api_a, tenant_a, in_tenant, graph_simulator, number_a, open_window_a, fast_retries):
    simulator_seed_for(graph_simulator, number_a)
    buttons = {
        "type": "button",
        "body": {"text": "Table for how many?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "two", "title": "Two"}}]},
    }
    queued = api_a.post_json(
        "/api/v1/messages",
        {"phone_number_id": number_a.phone_number_id, "to": "+" + open_window_a.contact.wa_id, "type": "interactive", "interactive": buttons},
    ).json()

    before = api_a.get(f"/api/v1/messages/{queued['id']}").json()
    assert before["direction"] == "out" and before["status"] == "queued" and before["wamid"] is None
    assert before["content"] == buttons and before["body"] == "Table for how many?"
    assert before["conversation_id"] == open_window_a.pk

    drain(tenant_a)
    after = api_a.get(f"/api/v1/messages/{queued['id']}").json()
    assert after["status"] == "sent" and after["wamid"].startswith("wamid.")
    assert after["attempts"] == 1 and after["sent_at"] and after["error"] is None


def test_outbound_messages_are_listed_with_inbound_ones(api_a, tenant_a, in_tenant, number_a, open_window_a):
    with in_tenant(tenant_a):
        Message.objects.create(
            conversation=open_window_a, contact=open_window_a.contact, phone_number=number_a, direction="in",
            wamid="wamid.IN-1", type="text", content={"body": "Hi"}, body="Hi", status="received",
            timestamp=timezone.now(),
        )
    reply = api_a.post_json(
        "/api/v1/messages",
        {"phone_number_id": number_a.phone_number_id, "to": "+" + open_window_a.contact.wa_id, "type": "text",
         "text": {"body": "Hello!"}, "context": {"message_id": "wamid.IN-1"}},
    ).json()
    listed = api_a.get("/api/v1/messages").json()["items"]
    assert [(m["direction"], m["body"]) for m in listed[:2]] == [("out", "Hello!"), ("in", "Hi")]
    assert listed[0]["id"] == reply["id"] and listed[0]["context_wamid"] == "wamid.IN-1"


def test_another_tenant_cannot_read_the_message(api_a, api_b, number_a, open_window_a):
    queued = api_a.post_json(
        "/api/v1/messages",
        {"phone_number_id": number_a.phone_number_id, "to": "+" + open_window_a.contact.wa_id, "type": "text", "text": {"body": "Private"}},
    ).json()
    response = api_b.get(f"/api/v1/messages/{queued['id']}")
    assert response.status_code == 404
    assert response.json()["error"]["code"].endswith("not_found")
