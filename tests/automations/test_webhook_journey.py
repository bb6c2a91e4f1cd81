"""The coffee order replayed through the real webhook endpoint (signed payloads), the webhook worker,
the dispatch hook, the send pipeline and the Graph API simulator."""

from __future__ import annotations

import itertools
import json
import re
import time

import pytest
from django.db import IntegrityError, transaction

from automations.models import AutomatedReply, AutomationRun, ConversationState, Order
from automations.seeds import builtins_install
from automations.services import workflow_create
from automations.services.catalogue import catalogue_item_create
from automations.services.orders import order_create
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
    [cart] = say(text("2"), times=3)
    assert "Coffee × 2 = 240" in cart["interactive"]["body"]["text"]
    [summary] = say(tap("button_reply", "checkout", "Checkout"))
    assert "Coffee × 2 = 240" in summary["interactive"]["body"]["text"]
    [confirmation] = say(tap("button_reply", "confirm", "Confirm"))

    with in_tenant(tenant_a):
        order = Order.objects.get()
        assert f"Your order {order.number} is placed." in confirmation["text"]["body"]
        assert str(order.total) == "240.00"
        assert not ConversationState.objects.filter(status="active").exists()
        outbound = Message.objects.filter(direction="out")
        assert outbound.count() == 7 and all(m.status == "sent" and m.wamid for m in outbound)
        assert AutomatedReply.objects.filter(outbound_message__in=outbound).count() == 7
        assert Message.objects.filter(direction="in").count() == 7  # the redeliveries were stored once


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
        _flow(number, "solar_panel_cleaning", meta_flow_id="7100000000002", meta_status="DRAFT",
              flow_definition_name="panel_town")
        _flow(number, "solar_installation", flow_definition_name="survey")  # never synced, no such workflow
        workflow_create(name="panel_town", definition={"start": "ask", "steps": {"ask": {
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

    digits = mine.number.removeprefix("ORD-")
    theirs_digits = theirs.number.removeprefix("ORD-")
    unknown = next(f"{n}" for n in range(1000, 10000) if f"ORD-{n}" not in (mine.number, theirs.number))

    [status] = say(f"track {mine.number}")

    assert status["to"] == CUSTOMER and status["type"] == "interactive"
    assert status["interactive"]["body"]["text"] == f"Order {mine.number}: Being prepared."
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in status["interactive"]["action"]["buttons"]] == [
        ("track_again", "Track Again"), ("menu", "Main Menu")]
    [same] = say(f"TRACK #{digits}")
    assert same["interactive"]["body"]["text"] == f"Order {mine.number}: Being prepared."

    [other] = say(f"Track ord-{theirs_digits}")
    [missing] = say(f"track ORD-{unknown}")

    assert _without_correlation(other) == _text_sent(f"I could not find order {theirs.number} for your number.")
    assert _without_correlation(missing) == _text_sent(f"I could not find order ORD-{unknown} for your number.")
    with in_tenant(tenant_a):
        assert not ConversationState.objects.filter(status="active").exists()


def test_track_again_after_a_one_message_answer_asks_for_the_next_number(shop, say, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        mine = Order.objects.create(contact=ContactFactory(wa_id=CUSTOMER), customer_wa_id=CUSTOMER)
    say(f"track {mine.number}")

    [ask] = say("Track Again")

    assert ask["text"]["body"] == "Please send your order number, for example ORD-1234."
    [answer] = say(mine.number.lower())
    assert answer["interactive"]["body"]["text"] == f"Order {mine.number}: Confirmed."


def _sections(sent: dict) -> list[tuple[str | None, list[str]]]:
    return [(section.get("title"), [row["title"] for row in section["rows"]])
            for section in sent["interactive"]["action"]["sections"]]


def _row_id(sent: dict, title: str) -> str:
    return next(row["id"] for section in sent["interactive"]["action"]["sections"] for row in section["rows"]
                if row["title"] == title)


def test_the_catalogue_lists_categories_as_sections_and_pages_with_more(shop, tenant_a, in_tenant, graph_simulator):
    number, webhook = shop
    with in_tenant(tenant_a):
        for n in range(1, 10):
            catalogue_item_create(name=f"Cake {n}", price=200 + n, category="Cakes", position=10 + n)

    def send(message: dict) -> list[dict]:
        before = len(graph_sends(graph_simulator, number))
        assert webhook.post(_envelope(number, message)).status_code == 200
        process_journal()
        drain(tenant_a)
        return [request["body"] for request in graph_sends(graph_simulator, number)[before:]]

    send(text("Hi"))
    [first] = send(tap("button_reply", "place_order", "Place Order"))

    assert first["interactive"]["type"] == "list"
    assert _sections(first) == [
        ("Drinks", ["Coffee", "Tea"]), ("Bakery", ["Croissant"]),
        ("Cakes", ["Cake 1", "Cake 2", "Cake 3", "Cake 4", "Cake 5", "Cake 6"]), ("More", ["More"])]
    assert first["interactive"]["action"]["sections"][-1]["rows"] == [
        {"id": "catalogue:more", "title": "More", "description": "Page 2 of 2"}]

    [second] = send(tap("list_reply", "catalogue:more", "More"))
    assert _sections(second) == [("Cakes", ["Cake 7", "Cake 8", "Cake 9"])]
    with in_tenant(tenant_a):
        state = ConversationState.objects.get(status="active")
        assert (state.current_step, state.context["catalogue_page"]) == ("choose_product", 1)

    [ask] = send(tap("list_reply", _row_id(second, "Cake 8"), "Cake 8"))
    assert ask["text"]["body"] == "How many Cake 8 would you like?"
    [cart] = send(text("1"))
    assert cart["interactive"]["body"]["text"] == "Added Cake 8 × 1.\n\nYour cart:\nCake 8 × 1 = 208\nTotal: 208"
    [again] = send(tap("button_reply", "add_more", "Add another"))
    assert _sections(again) == _sections(first)  # back on the first page


def test_a_three_item_order_is_placed_then_tracked_by_its_number_in_one_message(
    shop, say, tenant_a, in_tenant, graph_simulator
):
    number, webhook = shop

    def send(message: dict) -> list[dict]:
        before = len(graph_sends(graph_simulator, number))
        assert webhook.post(_envelope(number, message)).status_code == 200
        process_journal()
        drain(tenant_a)
        return [_without_correlation(request["body"]) for request in graph_sends(graph_simulator, number)[before:]]

    send(text("Hi"))
    [products] = send(tap("button_reply", "place_order", "Place Order"))
    send(tap("list_reply", _row_id(products, "Coffee"), "Coffee"))
    send(text("2"))
    [products] = send(tap("button_reply", "add_more", "Add another"))
    send(tap("list_reply", _row_id(products, "Tea"), "Tea"))
    send(text("1"))
    [products] = send(tap("button_reply", "add_more", "Add another"))
    send(tap("list_reply", _row_id(products, "Croissant"), "Croissant"))
    [cart] = send(text("3"))
    assert cart == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER, "type": "interactive",
        "interactive": {"type": "button", "body": {"text": (
            "Added Croissant × 3.\n\nYour cart:\nCoffee × 2 = 240\nTea × 1 = 90\nCroissant × 3 = 450\nTotal: 780")},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "add_more", "title": "Add another"}},
                {"type": "reply", "reply": {"id": "checkout", "title": "Checkout"}},
                {"type": "reply", "reply": {"id": "cancel", "title": "Cancel"}}]}},
    }
    [summary] = send(tap("button_reply", "checkout", "Checkout"))
    assert summary["interactive"]["body"]["text"] == (
        "Your order:\nCoffee × 2 = 240\nTea × 1 = 90\nCroissant × 3 = 450\nTotal: 780\n\nShall we place it?")
    [confirmation] = send(tap("button_reply", "confirm", "Confirm"))

    with in_tenant(tenant_a):
        order = Order.objects.get()
        lines = [(line.name, line.quantity, str(line.line_total)) for line in order.items.all()]
    assert lines == [("Coffee", 2, "240.00"), ("Tea", 1, "90.00"), ("Croissant", 3, "450.00")]
    assert str(order.total) == "780.00"
    assert re.fullmatch(r"ORD-\d{4}", order.number)
    assert confirmation == _text_sent(
        f"Thank you! Your order {order.number} is placed.\nCoffee × 2 = 240\nTea × 1 = 90\nCroissant × 3 = 450\n"
        f"Total: 780\n\nSend \"track {order.number}\" to follow it.")

    [status] = say(f"track {order.number}")
    assert status["interactive"]["body"]["text"] == f"Order {order.number}: Confirmed."


def test_order_numbers_are_unique_and_a_taken_one_is_drawn_again(tenant_a, in_tenant, monkeypatch):
    with in_tenant(tenant_a):
        coffee = catalogue_item_create(name="Coffee", price=120)
        contact = ContactFactory(wa_id=CUSTOMER)
        first = order_create(contact=contact, phone_number=None, lines=[(coffee, 1)])
        with pytest.raises(IntegrityError), transaction.atomic():
            Order.objects.create(contact=contact, number=first.number)
        free = "ORD-5555" if first.number != "ORD-5555" else "ORD-5556"
        drawn = iter([first.number, free])  # a concurrent order took the first draw
        monkeypatch.setattr(Order, "save", _save_drawing(Order.save, drawn))
        second = order_create(contact=contact, phone_number=None, lines=[(coffee, 2)])
        assert second.number == free
        assert Order.objects.count() == 2 and second.items.get().quantity == 2


def _save_drawing(save, drawn):
    def numbered(self, *args, **kwargs):
        if not self.number:
            self.number = next(drawn)
        save(self, *args, **kwargs)

    return numbered
