"""The engine's rules: tenants apart, commands that always work, re-prompts and escalation, handoff,
the tracking and support workflows, resuming an old menu, refused sends and failing actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from automations import registry
from automations.models import (
    AutomatedReply,
    AutomationRun,
    CatalogueItem,
    ConversationState,
    HumanHandoff,
    Order,
    SupportTicket,
    Workflow,
)
from automations.seeds import EARLIER_WORKFLOW_DEFINITIONS, builtins_install
from automations.services import (
    handoff_close,
    order_create,
    workflow_create,
    workflow_template_create,
    workflow_update,
)
from messaging.models import Message
from tests.automations.factories import Customer
from tests.messaging.factories import ContactFactory
from waba.models import WhatsAppAccount


def _button_ids(reply) -> list[str]:
    return [b["reply"]["id"] for b in reply.content["interactive"]["action"]["buttons"]]


def _coffee(products) -> str:
    rows = products.content["interactive"]["action"]["sections"][0]["rows"]
    return next(row["id"] for row in rows if row["title"] == "Coffee")


@pytest.fixture
def at_quantity(customer_a, builtins_a):
    """The customer has chosen Coffee and is asked for the quantity."""
    customer_a.says("Hi")
    [products] = customer_a.taps("place_order", "Place Order")
    customer_a.taps(_coffee(products), "Coffee", row=True)
    return customer_a


def test_two_tenants_with_the_same_keyword_each_get_their_own_menu(
    tenant_a, tenant_b, in_tenant, builtins_a, customer_a, number_b, clock
):
    solar_menu = {"type": "button", "body": {"text": "Welcome to Beta Solar!"},
                  "action": {"buttons": [{"type": "reply", "reply": {"id": "quote", "title": "Get a quote"}}]}}
    with in_tenant(tenant_b):
        workflow_template_create(template_name="solar_menu", type="button", structure=solar_menu,
                                 trigger_keywords=["hi"])
        contact_b = ContactFactory(wa_id="4915112345678")  # the same person writes to both businesses
    customer_b = Customer(tenant=tenant_b, number=number_b, contact=contact_b, clock=clock)

    [alpha] = customer_a.says("Hi")
    [beta] = customer_b.says("Hi")

    assert alpha.text == "Hello! How can we help you today?" and alpha.workflow == "main_menu"
    assert beta.text == "Welcome to Beta Solar!" and beta.step == "template:solar_menu"
    with in_tenant(tenant_a):
        assert [m.request_payload["interactive"]["body"]["text"] for m in Message.objects.filter(direction="out")] \
            == ["Hello! How can we help you today?"]
    with in_tenant(tenant_b):
        assert [m.request_payload["interactive"]["body"]["text"] for m in Message.objects.filter(direction="out")] \
            == ["Welcome to Beta Solar!"]
        assert not ConversationState.objects.exists()


def test_typing_an_option_title_works_like_tapping_it(customer_a, builtins_a):
    customer_a.says("hello")
    [products] = customer_a.says("place order")
    assert products.step == "choose_product"
    [ask] = customer_a.says("COFFEE")
    assert ask.text == "How many Coffee would you like?"


def test_cancel_always_works(tenant_a, in_tenant, at_quantity):
    [reply] = at_quantity.says("Cancel")
    assert reply.purpose == "cancelled" and reply.text.startswith("Cancelled.")
    with in_tenant(tenant_a):
        assert ConversationState.objects.get(workflow_name="new_order").status == "cancelled"
        assert not ConversationState.objects.filter(status="active").exists()
    [nothing] = at_quantity.says("cancel")
    assert nothing.text.startswith("There is nothing to cancel")


def test_menu_always_works(tenant_a, in_tenant, at_quantity):
    [menu] = at_quantity.says("menu")
    assert menu.workflow == "main_menu" and _button_ids(menu) == ["track_order", "place_order", "get_support"]
    with in_tenant(tenant_a):
        assert ConversationState.objects.get(status="active").workflow_name == "main_menu"
        assert ConversationState.objects.get(workflow_name="new_order").status == "replaced"


def test_a_keyword_wins_over_an_answer_the_step_cannot_use(at_quantity):
    [menu] = at_quantity.says("hi again")
    assert menu.workflow == "main_menu"


def test_three_misses_offer_the_main_menu_or_a_human(tenant_a, in_tenant, at_quantity):
    first = at_quantity.says("lots")
    second = at_quantity.says("many")
    [offer] = at_quantity.says("???")

    assert [r.purpose for r in first + second] == ["reprompt", "reprompt"]
    assert offer.purpose == "escalation"
    assert _button_ids(offer) == ["menu", "human"]
    with in_tenant(tenant_a):
        state = ConversationState.objects.get(status="active")
        assert (state.current_step, state.failed_attempts) == ("ask_quantity", 0)

    [cart] = at_quantity.says("3")  # a good answer still works
    assert "Coffee × 3 = 360" in cart.text


def test_a_choice_step_reprompts_with_its_options(customer_a, builtins_a):
    customer_a.says("Hi")
    explanation, options = customer_a.says("pizza")
    assert explanation.purpose == options.purpose == "reprompt"
    assert explanation.text.startswith("Please choose one of the options.")
    assert _button_ids(options) == ["track_order", "place_order", "get_support"]


def test_a_human_takes_over_until_the_handoff_is_closed(tenant_a, in_tenant, at_quantity):
    at_quantity.says("no idea")
    at_quantity.says("no idea")
    at_quantity.says("no idea")
    [handed] = at_quantity.taps("human", "Talk to a human")

    assert handed.purpose == "handoff"
    with in_tenant(tenant_a):
        handoff = HumanHandoff.objects.get()
        assert handoff.is_open and handoff.opened_by == "contact"
        assert ConversationState.objects.get(workflow_name="new_order").status == "handed_off"
    assert at_quantity.says("Hi") == []
    assert at_quantity.says("menu") == []
    with in_tenant(tenant_a):
        assert AutomationRun.objects.filter(outcome="handoff_open").count() == 2
        handoff_close(handoff=handoff, closed_by="agent")

    [menu] = at_quantity.says("Hi")
    assert menu.workflow == "main_menu"


def test_tracking_answers_only_for_the_contacts_own_orders(tenant_a, in_tenant, customer_a, builtins_a):
    with in_tenant(tenant_a):
        coffee = CatalogueItem.objects.get(name="Coffee")
        mine = order_create(contact=customer_a.contact, phone_number=customer_a.number, lines=[(coffee, 1)])
        someone_else = order_create(contact=ContactFactory(), phone_number=customer_a.number, lines=[(coffee, 1)])

    customer_a.says("Hi")
    [ask] = customer_a.taps("track_order", "Track Order")
    assert ask.text.startswith("Please send your order number")

    not_found, ask_again = customer_a.says(someone_else.number)
    assert not_found.text == f"I could not find order {someone_else.number} for your number."
    assert ask_again.step == "ask_order_id"

    [status] = customer_a.says(mine.number.removeprefix("ORD-"))  # the digits alone name it too
    assert status.text == f"Order {mine.number}: Confirmed."
    assert _button_ids(status) == ["track_again", "menu"]

    [again] = customer_a.taps("track_again", "Track Again")
    assert again.step == "ask_order_id"


def test_support_opens_a_ticket(tenant_a, in_tenant, customer_a, builtins_a):
    customer_a.says("Hi")
    [types] = customer_a.taps("get_support", "Get Support")
    assert _button_ids(types) == ["order_problem", "payment", "other"]
    [ask] = customer_a.taps("payment", "Payment")
    assert ask.text == "Please describe the problem in one message."
    [done] = customer_a.says("I was charged twice for order 7")

    with in_tenant(tenant_a):
        ticket = SupportTicket.objects.get()
        assert (ticket.issue_type, ticket.description, ticket.contact_id, ticket.status) == (
            "Payment", "I was charged twice for order 7", customer_a.contact.pk, "open")
        assert not ConversationState.objects.filter(status="active").exists()
    assert done.text == f"Thank you. We opened ticket #{ticket.pk} and will answer you here."


def test_edit_goes_back_to_the_products_with_an_empty_cart(tenant_a, in_tenant, at_quantity):
    at_quantity.says("2")
    at_quantity.taps("checkout", "Checkout")
    [products] = at_quantity.taps("edit", "Edit")
    assert products.step == "choose_product"
    with in_tenant(tenant_a):
        assert ConversationState.objects.get(status="active").context["cart"] == []


def test_a_button_of_an_old_menu_resumes_it(tenant_a, in_tenant, customer_a, builtins_a, clock):
    customer_a.says("Hi")
    with in_tenant(tenant_a):
        menu_message = Message.objects.get(direction="out")
        Message.objects.filter(pk=menu_message.pk).update(wamid="wamid.menu-sent-earlier")

    clock.advance(hours=3)  # the state is long gone
    [products] = customer_a.taps("place_order", "Place Order", reply_to="wamid.menu-sent-earlier")

    assert products.workflow == "new_order" and products.step == "choose_product"
    with in_tenant(tenant_a):
        assert AutomationRun.objects.filter(outcome="resumed").count() == 1


def test_greeting_once_on_the_first_message(tenant_a, in_tenant, customer_a, builtins_a):
    account = customer_a.number.account
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=account.pk).update(auto_reply_enabled=True,
                                                             greeting_message="Welcome to Alpha Coffee!")

    greeting, menu = customer_a.says("Hi")
    assert (greeting.purpose, greeting.text) == ("greeting", "Welcome to Alpha Coffee!")
    assert menu.workflow == "main_menu"
    assert [r.purpose for r in customer_a.says("Hi")] == ["step"]


def test_out_of_hours_reply_once_per_closed_period(tenant_a, in_tenant, customer_a, clock):
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    account = customer_a.number.account
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=account.pk).update(
            auto_reply_enabled=True, out_of_hours_message="We are closed; we answer from 9:00.",
            business_hours_start=time(9), business_hours_end=time(17), timezone="Europe/Berlin",
        )
    # Near today (the send pipeline's 24-hour window is checked against the real clock).
    today = clock.now.astimezone(berlin).date()
    clock.now = datetime.combine(today, time(18, 30), tzinfo=berlin)  # closed

    assert [r.purpose for r in customer_a.says("hello?")] == ["out_of_hours"]
    clock.advance(hours=6)
    assert customer_a.says("anyone?") == []  # the same night
    clock.now = datetime.combine(today + timedelta(days=1), time(10), tzinfo=berlin)  # open
    assert customer_a.says("good morning") == []
    clock.now = datetime.combine(today + timedelta(days=1), time(17, 5), tzinfo=berlin)  # closed again
    assert [r.purpose for r in customer_a.says("still there?")] == ["out_of_hours"]


def test_fallback_at_most_once_a_day(tenant_a, in_tenant, customer_a, clock):
    account = customer_a.number.account
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=account.pk).update(
            auto_reply_enabled=True, fallback_message='Sorry, I did not understand. Send "menu".')
    customer_a.message(text="earlier message")  # not the first message: no greeting question

    [fallback] = customer_a.says("blah")
    assert (fallback.purpose, fallback.text) == ("fallback", 'Sorry, I did not understand. Send "menu".')
    clock.advance(hours=23)
    assert customer_a.says("blah blah") == []
    clock.advance(hours=1, seconds=1)
    assert [r.purpose for r in customer_a.says("blah")] == ["fallback"]


def test_without_auto_reply_unknown_text_gets_nothing(customer_a, builtins_a):
    assert customer_a.says("what is the weather") == []


def test_a_refused_reply_shows_on_its_conversation_with_the_reason_and_the_conversation_still_moves(
    tenant_a, in_tenant, customer_a, builtins_a, api_a, caplog
):
    account = customer_a.number.account
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=account.pk).update(status="suspended")

    [menu] = customer_a.says("Hi")

    with in_tenant(tenant_a):
        record = AutomatedReply.objects.get()
        failed = Message.objects.get(direction="out")
        assert (record.outbound_message, record.error_code, record.step) == (failed, "account_not_active", "menu")
        assert (failed.status, failed.wamid, failed.request_payload) == ("failed", None, None)
        assert ConversationState.objects.get(status="active").current_step == "menu"
    thread = api_a.get(f"/api/v1/messages?conversation_id={failed.conversation_id}").json()["items"]
    assert [(m["direction"], m["status"]) for m in thread] == [("out", "failed"), ("in", "received")]
    shown = thread[0]
    assert shown["type"] == "interactive" and shown["body"] == "Hello! How can we help you today?"
    assert shown["content"]["body"]["text"] == "Hello! How can we help you today?"
    assert shown["failed_at"] is not None
    assert shown["error"]["reason"] == "account_not_active" and shown["error"]["code"] is None
    assert shown["error"]["title"] == "Not sent: refused before reaching Meta"
    assert shown["error"]["details"].startswith("The WhatsApp account is suspended.")
    conversation = api_a.get(f"/api/v1/conversations/{failed.conversation_id}").json()
    assert conversation["message_count"] == 2
    assert "account_not_active" in caplog.text and f"failed message {failed.pk}" in caplog.text


def test_a_reply_meta_would_refuse_is_kept_failed_with_the_problem(tenant_a, in_tenant, customer_a, api_a):
    from automations.replies import OutboundReply, reply_send

    message = customer_a.message(text="hello")
    reply = OutboundReply.text_message("x" * 5000, purpose="fallback")
    with in_tenant(tenant_a):
        record = reply_send(reply=reply, message=message, workflow="", step="")

    assert record.error_code == "invalid_message"
    shown = api_a.get(f"/api/v1/messages/{record.outbound_message_id}").json()
    assert (shown["direction"], shown["status"], shown["type"]) == ("out", "failed", "text")
    assert shown["error"]["reason"] == "invalid_message"
    assert "text.body: at most 4096 characters allowed, got 5000" in shown["error"]["details"]


def test_an_order_begun_on_the_earlier_single_product_workflow_is_placed_after_the_upgrade(
    tenant_a, in_tenant, customer_a, builtins_a
):
    with in_tenant(tenant_a):
        workflow_update(workflow=Workflow.objects.get(name="new_order"),
                        definition=EARLIER_WORKFLOW_DEFINITIONS["new_order"][0])
    customer_a.says("Hi")
    [products] = customer_a.taps("place_order", "Place Order")
    customer_a.taps(_coffee(products), "Coffee", row=True)
    [summary] = customer_a.says("2")
    assert summary.text == "Your order:\nCoffee × 2 = 240\nTotal: 240\n\nShall we place it?"
    with in_tenant(tenant_a):
        assert builtins_install().upgraded == ["workflow:new_order"]

    [confirmation] = customer_a.taps("confirm", "Confirm")

    with in_tenant(tenant_a):
        order = Order.objects.get()
        assert [(line.name, line.quantity) for line in order.items.all()] == [("Coffee", 2)]
    assert confirmation.text.startswith(f"Thank you! Your order {order.number} is placed.\nCoffee × 2 = 240\n")


def test_a_crashing_action_leaves_no_half_order(tenant_a, in_tenant, customer_a, builtins_a, monkeypatch):
    def explode(run):
        Order.objects.create(contact=run.contact, total=Decimal("1"))
        raise RuntimeError("bug")

    monkeypatch.setitem(registry.WORKFLOW_ACTIONS, "create_order", explode)
    customer_a.says("Hi")
    [products] = customer_a.taps("place_order", "Place Order")
    customer_a.taps(_coffee(products), "Coffee", row=True)
    customer_a.says("1")
    customer_a.taps("checkout", "Checkout")

    replies = customer_a.taps("confirm", "Confirm")

    assert replies[0].purpose == "error" and replies[0].text.startswith("Sorry, something went wrong")
    with in_tenant(tenant_a):
        assert not Order.objects.exists()


def test_a_custom_workflow_with_validators_and_context(tenant_a, in_tenant, customer_a):
    definition = {
        "start": "email",
        "steps": {
            "email": {"send": {"text": "Your email?"},
                      "input": {"type": "text", "validator": "email", "save_as": "email", "next": "day"}},
            "day": {"send": {"text": "Which day?"},
                    "input": {"type": "text", "validator": "date", "save_as": "day", "next": "phone"}},
            "phone": {"send": {"text": "Your phone?"},
                      "input": {"type": "text", "validator": "phone_number", "save_as": "phone", "next": "done"}},
            "done": {"set": {"source": "whatsapp"},
                     "send": {"text": "Booked {day} for {email}, we call {phone}."}},
        },
    }
    with in_tenant(tenant_a):
        workflow = workflow_create(name="booking", definition=definition)
        workflow_template_create(
            template_name="book", type="button", trigger_keywords=["book"], match_mode="exact", workflow=workflow,
            structure={"type": "button", "body": {"text": "Book?"},
                       "action": {"buttons": [{"type": "reply", "reply": {"id": "x", "title": "X"}}]}},
        )

    assert [r.text for r in customer_a.says("Book")] == ["Your email?"]
    assert customer_a.says("not an email")[0].text.startswith("Please send an email address")
    assert [r.text for r in customer_a.says("Ada@Example.com")] == ["Which day?"]
    assert customer_a.says("tomorrow")[0].text.startswith("Please send a date")
    assert [r.text for r in customer_a.says("30/06/2025")] == ["Your phone?"]
    assert [r.text for r in customer_a.says("+49 151 1234 5678")] == [
        "Booked 2025-06-30 for ada@example.com, we call +4915112345678."]


def test_a_button_of_an_old_menu_works_in_the_middle_of_another_workflow(tenant_a, in_tenant, at_quantity):
    with in_tenant(tenant_a):
        menu_message = Message.objects.filter(direction="out").order_by("id").first()
        Message.objects.filter(pk=menu_message.pk).update(wamid="wamid.first-menu")

    [types] = at_quantity.taps("get_support", "Get Support", reply_to="wamid.first-menu")

    assert types.workflow == "support" and types.step == "issue_type"
    with in_tenant(tenant_a):
        assert ConversationState.objects.get(status="active").workflow_name == "support"
        assert ConversationState.objects.get(workflow_name="new_order").status == "replaced"


def test_reply_send_queues_a_reply_once_per_message_and_position(tenant_a, in_tenant, customer_a):
    from automations.replies import OutboundReply, reply_send

    message = customer_a.message(text="hello")
    reply = OutboundReply.text_message("Hello!", purpose="fallback")
    with in_tenant(tenant_a):
        first = reply_send(reply=reply, message=message, workflow="", step="")
        again = reply_send(reply=reply, message=message, workflow="", step="")
        assert first.pk == again.pk and first.outbound_message_id == again.outbound_message_id
        sent = Message.objects.get(direction="out")
        assert sent.idempotency_key == f"menus:{message.pk}:0"
        assert (sent.request_payload["to"], sent.request_payload["text"]["body"]) == ("4915112345678", "Hello!")
