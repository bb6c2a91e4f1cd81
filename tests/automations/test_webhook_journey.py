"""The coffee order replayed through the real webhook endpoint (signed payloads), the webhook worker,
the dispatch hook, the send pipeline and the Graph API simulator."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from automations.models import AutomatedReply, AutomationRun, ConversationState, Order
from automations.seeds import builtins_install
from automations.services import workflow_create
from flows_builder.models import FlowToken
from messaging.models import Message
from tests.conftest import ApiClient
from tests.factories import ContactFactory
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


@pytest.fixture
def say(shop, tenant_a, graph_simulator):
    """Send one signed text webhook from CUSTOMER, process it, send the replies: the Graph bodies sent."""
    number, webhook = shop

    def send(body: str) -> list[dict]:
        before = len(graph_sends(graph_simulator, number))
        assert webhook.post(_envelope(number, text(body))).status_code == 200
        process_journal()
        drain(tenant_a)
        return [request["body"] for request in graph_sends(graph_simulator, number)[before:]]

    return send


MAIN_MENU_BODY = "Hello! How can we help you today?"


def _without_correlation(sent: dict) -> dict:
    """A Graph request body without the pipeline's own correlation id."""
    return {key: value for key, value in sent.items() if key != "biz_opaque_callback_data"}


def _text_sent(body: str) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER, "type": "text",
            "text": {"body": body, "preview_url": False}}


@pytest.mark.parametrize("word", ["help", "HELP", "Help!", "hi", "Hello", "menu", "START"])
def test_help_and_the_other_greetings_open_the_main_menu(say, word):
    [menu] = say(word)

    assert menu["to"] == CUSTOMER and menu["type"] == "interactive"
    assert menu["interactive"]["body"]["text"] == MAIN_MENU_BODY
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in menu["interactive"]["action"]["buttons"]] == [
        ("track_order", "Track Order"), ("place_order", "Place Order"), ("get_support", "Get Support")]


def test_help_in_the_middle_of_a_workflow_goes_back_to_the_main_menu(say, tenant_a, in_tenant):
    [menu] = say("hi")
    [products] = say("Place Order")
    assert products["interactive"]["type"] == "list"

    [again] = say("help")

    assert again["interactive"]["body"]["text"] == MAIN_MENU_BODY
    with in_tenant(tenant_a):
        assert ConversationState.objects.get(status="active").workflow_name == "main_menu"


def _flow(number, definition: str, **fields):
    from flows_builder.definitions import BUILTIN_FLOWS
    from tests.flows_builder.factories import WhatsAppFlowFactory

    return WhatsAppFlowFactory(account=number.account, definition=definition,
                               description=BUILTIN_FLOWS[definition].description,
                               trigger_keywords=list(BUILTIN_FLOWS[definition].trigger_keywords), **fields)


def test_a_published_flows_trigger_keyword_sends_that_flow(shop, say, tenant_a, in_tenant):
    number, _ = shop
    with in_tenant(tenant_a):
        flow = _flow(number, "starlink_installation", meta_flow_id="7100000000001", meta_status="PUBLISHED")

    [sent] = say("Starlink")

    with in_tenant(tenant_a):
        token = FlowToken.objects.get(flow=flow)
        assert token.contact.wa_id == CUSTOMER
        reply = AutomatedReply.objects.get()
        assert (reply.purpose, reply.step, reply.error_code) == ("menu", "flow:starlink_installation", "")
    assert _without_correlation(sent) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "interactive",
        "interactive": {
            "type": "flow",
            "body": {"text": "Book a Starlink installation: contact details, kit and mount, date and address."},
            "action": {"name": "flow", "parameters": {
                "flow_message_version": "3",
                "flow_token": token.token,
                "flow_id": "7100000000001",
                "flow_cta": "Start",
                "mode": "published",
                "flow_action": "navigate",
                "flow_action_payload": {"screen": "CUSTOMER_INFO"},
            }},
        },
    }


def test_an_unpublished_flows_keyword_starts_its_linked_conversational_flow_or_nothing(
    shop, say, tenant_a, in_tenant
):
    number, _ = shop
    with in_tenant(tenant_a):
        _flow(number, "solar_panel_cleaning", meta_flow_id="7100000000002", meta_status="DRAFT")
        _flow(number, "solar_installation")  # never synced, and no conversational flow of its name
        workflow_create(name="solar_cleaning", definition={"start": "ask", "steps": {"ask": {
            "send": {"text": "Which town are your panels in?"},
            "input": {"type": "text", "validator": "any_text", "save_as": "town", "next": "done"}},
            "done": {"send": {"text": "Thank you, we will call you about {town}."}}}})

    [question] = say("I need solar cleaning")

    assert _without_correlation(question) == _text_sent("Which town are your panels in?")
    [done] = say("Potsdam")
    assert done["text"]["body"] == "Thank you, we will call you about Potsdam."
    assert say("solar installation") == []
    with in_tenant(tenant_a):
        assert not FlowToken.objects.exists()
        assert AutomationRun.objects.order_by("-pk").first().outcome == "no_match"


def test_track_order_in_one_message_answers_with_the_callers_own_order_only(shop, say, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        mine = Order.objects.create(contact=ContactFactory(wa_id=CUSTOMER), customer_wa_id=CUSTOMER,
                                    status=Order.Status.PREPARING)
        theirs = Order.objects.create(contact=ContactFactory(wa_id="4915100000999"), customer_wa_id="4915100000999",
                                      status=Order.Status.SHIPPED)
        unknown = theirs.pk + 1000

    [status] = say(f"track ORD-{mine.pk}")

    assert status["to"] == CUSTOMER and status["type"] == "interactive"
    assert status["interactive"]["body"]["text"] == f"Order #{mine.pk}: Being prepared."
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in status["interactive"]["action"]["buttons"]] == [
        ("track_again", "Track Again"), ("menu", "Main Menu")]
    [same] = say(f"TRACK #{mine.pk}")
    assert same["interactive"]["body"]["text"] == f"Order #{mine.pk}: Being prepared."

    [other] = say(f"Track ord-{theirs.pk}")
    [missing] = say(f"track ORD-{unknown}")

    assert _without_correlation(other) == _text_sent(f"I could not find order #{theirs.pk} for your number.")
    assert _without_correlation(missing) == _text_sent(f"I could not find order #{unknown} for your number.")
    with in_tenant(tenant_a):
        assert not ConversationState.objects.filter(status="active").exists()


def test_track_again_after_a_one_message_answer_asks_for_the_next_number(shop, say, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        mine = Order.objects.create(contact=ContactFactory(wa_id=CUSTOMER), customer_wa_id=CUSTOMER)
    say(f"track ORD-{mine.pk}")

    [ask] = say("Track Again")

    assert ask["text"]["body"] == "Please send your order number, for example 42."
    [answer] = say(str(mine.pk))
    assert answer["interactive"]["body"]["text"] == f"Order #{mine.pk}: Confirmed."
