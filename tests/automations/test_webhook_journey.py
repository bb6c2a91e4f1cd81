"""The coffee order replayed through the real webhook endpoint (signed payloads), the webhook worker,
the dispatch hook, the send pipeline and the Graph API simulator."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from automations.models import AutomatedReply, ConversationState, Order
from automations.seeds import builtins_install
from messaging.models import Message
from tests.conftest import ApiClient
from tests.messaging.factories import PhoneNumberFactory, meta_app_create, route_claim
from tests.sending.factories import simulator_seed_for
from tests.sending.helpers import drain, graph_sends
from tests.webhooks.conftest import APP_ID, APP_SECRET, VERIFY_TOKEN, WebhookPoster, process_journal

CUSTOMER = "4915112345678"
_ids = itertools.count(1)


@pytest.fixture
def shop(tenant_a, in_tenant, graph_simulator, settings):
    """Alpha's routed number with the built-ins, known to the simulator, and a signed webhook poster."""
    settings.PAIR_RATE_INTERVAL_S = 0.01  # Meta's pacing to one recipient (6 s) is not what this test is about
    meta_app_create(app_id=APP_ID, secret=APP_SECRET, verify_token=VERIFY_TOKEN)
    with in_tenant(tenant_a):
        number = PhoneNumberFactory()
        builtins_install()
    route_claim(tenant=tenant_a, waba_id=number.account.waba_id, phone_number_ids=[number.phone_number_id])
    simulator_seed_for(graph_simulator, number)
    return number, WebhookPoster(ApiClient("localhost"))


def _envelope(number, message: dict, customer: str = CUSTOMER) -> str:
    wamid = f"wamid.journey{next(_ids):06d}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": number.account.waba_id, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.display_phone_number,
                         "phone_number_id": number.phone_number_id},
            "contacts": [{"profile": {"name": "Ada"}, "wa_id": customer}],
            "messages": [{"from": customer, "id": wamid, "timestamp": str(int(time.time())), **message}],
        }}]}],
    }
    return json.dumps(body)


def text(body: str) -> dict:
    return {"type": "text", "text": {"body": body}}


def tap(kind: str, option_id: str, title: str) -> dict:
    return {"type": "interactive", "interactive": {"type": kind, kind: {"id": option_id, "title": title}}}


def test_the_coffee_order_through_webhooks_and_the_simulator(shop, tenant_a, in_tenant, graph_simulator):
    number, webhook = shop

    def say(message: dict, *, times: int = 1) -> list[dict]:
        """POST the signed webhook (`times` times: Meta redelivers), process it, send the replies."""
        body = _envelope(number, message)
        before = len(graph_sends(graph_simulator, number))
        for _ in range(times):
            assert webhook.post(body).status_code == 200
            process_journal()
        drain(tenant_a)
        return [request["body"] for request in graph_sends(graph_simulator, number)[before:]]

    [menu] = say(text("Hi"))
    assert menu["to"] == CUSTOMER and menu["type"] == "interactive"
    assert [b["reply"]["title"] for b in menu["interactive"]["action"]["buttons"]] == [
        "Track Order", "Place Order", "Get Support"]

    [products] = say(tap("button_reply", "place_order", "Place Order"), times=2)  # a redelivered webhook
    rows = products["interactive"]["action"]["sections"][0]["rows"]
    coffee = next(row for row in rows if row["title"] == "Coffee")
    assert coffee["description"].startswith("120")

    [ask] = say(tap("list_reply", coffee["id"], "Coffee"))
    assert ask["text"]["body"] == "How many Coffee would you like?"
    [reprompt] = say(text("abc"))
    assert reprompt["text"]["body"].startswith("Please send a whole number")
    [summary] = say(text("2"), times=3)
    assert "Coffee x 2 = 240" in summary["interactive"]["body"]["text"]
    [confirmation] = say(tap("button_reply", "confirm", "Confirm"))

    with in_tenant(tenant_a):
        order = Order.objects.get()
        assert f"#{order.pk}" in confirmation["text"]["body"]
        assert str(order.total) == "240.00"
        assert not ConversationState.objects.filter(status="active").exists()
        outbound = Message.objects.filter(direction="out")
        assert outbound.count() == 6 and all(m.status == "sent" and m.wamid for m in outbound)
        assert AutomatedReply.objects.filter(outbound_message__in=outbound).count() == 6
        assert Message.objects.filter(direction="in").count() == 6  # the redeliveries were stored once


@pytest.mark.parametrize(
    "customer",
    [
        "15550100777",  # possible, but not assigned by libphonenumber's rules (Meta's test range)
        "5215512345678",  # Mexico's WhatsApp ids keep the old mobile 1: not even a possible number
    ],
)
def test_whatsapp_users_meta_names_get_the_menu_whatever_libphonenumber_thinks(
    shop, tenant_a, in_tenant, graph_simulator, customer
):
    number, webhook = shop

    assert webhook.post(_envelope(number, text("Hi"), customer=customer)).status_code == 200
    process_journal()
    drain(tenant_a)

    [menu] = [request["body"] for request in graph_sends(graph_simulator, number)]
    assert menu["to"] == customer and menu["type"] == "interactive"
    assert menu["interactive"]["body"]["text"] == "Hello! How can we help you today?"
    with in_tenant(tenant_a):
        reply = AutomatedReply.objects.get()
        assert reply.error_code == "" and reply.outbound_message.status == "sent"
