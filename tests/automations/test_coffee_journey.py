"""The coffee order, end to end at the engine: inbound messages in, queued outbound messages out."""

from __future__ import annotations

from decimal import Decimal

from automations.models import AutomatedReply, AutomationRun, ConversationState, Order
from messaging.models import Message


def _buttons(reply) -> list[tuple[str, str]]:
    return [(b["reply"]["id"], b["reply"]["title"]) for b in reply.content["interactive"]["action"]["buttons"]]


def _rows(reply) -> list[tuple[str, str]]:
    sections = reply.content["interactive"]["action"]["sections"]
    return [(row["id"], row["title"]) for section in sections for row in section["rows"]]


def test_hi_to_confirmed_order(tenant_a, in_tenant, builtins_a, customer_a, number_a):
    [menu] = customer_a.says("Hi")
    assert menu.kind == "interactive"
    assert _buttons(menu) == [("track_order", "Track Order"), ("place_order", "Place Order"),
                              ("get_support", "Get Support")]

    [products] = customer_a.taps("place_order", "Place Order")
    coffee_id = dict((title, option_id) for option_id, title in _rows(products))["Coffee"]

    [ask] = customer_a.taps(coffee_id, "Coffee", row=True)
    assert ask.text == "How many Coffee would you like?"

    [reprompt] = customer_a.says("abc")
    assert reprompt.purpose == "reprompt"
    assert reprompt.text.startswith("Please send a whole number greater than 0")
    assert '"menu"' in reprompt.text and '"cancel"' in reprompt.text

    [cart] = customer_a.says("2")
    assert cart.text == "Added Coffee × 2.\n\nYour cart:\nCoffee × 2 = 240\nTotal: 240"
    assert _buttons(cart) == [("add_more", "Add another"), ("checkout", "Checkout"), ("cancel", "Cancel")]

    [summary] = customer_a.taps("checkout", "Checkout")
    assert summary.text == "Your order:\nCoffee × 2 = 240\nTotal: 240\n\nShall we place it?"
    assert _buttons(summary) == [("confirm", "Confirm"), ("cancel", "Cancel"), ("edit", "Edit")]

    [confirmation] = customer_a.taps("confirm", "Confirm")

    with in_tenant(tenant_a):
        order = Order.objects.get()
        assert (order.contact_id, order.phone_number_id, order.status) == (
            customer_a.contact.pk, number_a.pk, "confirmed")
        assert order.total == Decimal("240")
        [line] = order.items.all()
        assert (line.name, line.quantity, line.unit_price, line.line_total) == (
            "Coffee", 2, Decimal("120.00"), Decimal("240.00"))
        assert confirmation.text == (f"Thank you! Your order {order.number} is placed.\nCoffee × 2 = 240\n"
                                     f"Total: 240\n\nSend \"track {order.number}\" to follow it.")
        assert not ConversationState.objects.filter(status="active").exists()
        assert ConversationState.objects.get(workflow_name="new_order").status == "completed"

        # Every reply is a queued outbound message with the exact Graph body, linked to its step.
        outbound = list(Message.objects.filter(direction="out").order_by("id"))
        assert len(outbound) == 7
        assert all(m.status == "queued" and m.contact_id == customer_a.contact.pk for m in outbound)
        assert outbound[0].request_payload["interactive"] == menu.content["interactive"]
        assert outbound[0].request_payload["to"] == "4915112345678"
        assert outbound[-1].request_payload["text"]["body"] == confirmation.text
        links = [(r.workflow_name, r.step, r.purpose)
                 for r in AutomatedReply.objects.filter(outbound_message__in=outbound).order_by("outbound_message_id")]
        assert links == [
            ("main_menu", "menu", "step"),
            ("new_order", "choose_product", "step"),
            ("new_order", "ask_quantity", "step"),
            ("new_order", "ask_quantity", "reprompt"),
            ("new_order", "add_to_cart", "step"),
            ("new_order", "summary", "step"),
            ("new_order", "place", "step"),
        ]
        assert AutomationRun.objects.count() == 7


def test_a_duplicated_message_does_not_advance_twice(tenant_a, in_tenant, builtins_a, customer_a):
    customer_a.says("Hi")
    [products] = customer_a.taps("place_order", "Place Order")
    coffee_id = dict((title, option_id) for option_id, title in _rows(products))["Coffee"]
    coffee = customer_a.message(row=(coffee_id, "Coffee"))

    first = customer_a.handle(coffee)
    again = customer_a.handle(coffee)

    assert [r.text for r in first] == ["How many Coffee would you like?"]
    assert again == []
    with in_tenant(tenant_a):
        state = ConversationState.objects.get(status="active")
        assert state.current_step == "ask_quantity"
        assert state.last_processed_wamid == coffee.wamid
        assert Message.objects.filter(direction="out").count() == 3
        assert AutomationRun.objects.filter(message=coffee).count() == 1
