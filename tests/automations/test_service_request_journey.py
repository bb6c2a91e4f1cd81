"""The built-in conversational flows that stand in for unpublished WhatsApp Flows, replayed through the
real webhook endpoint, the webhook worker, the send pipeline and the Graph API simulator."""

from __future__ import annotations

from datetime import date

import pytest

from automations.models import ConversationState
from automations.seeds import builtins_install
from flows_builder.models import CleaningRequest, FlowToken, InstallationRequest
from tests.automations.test_webhook_journey import (
    CUSTOMER,
    _envelope,
    _flow,
    _text_sent,
    _without_correlation,
    shop,  # noqa: F401  (fixture)
    tap,
    text,
)
from tests.sending.helpers import drain, graph_sends
from tests.webhooks.conftest import process_journal


@pytest.fixture
def chat(shop, tenant_a, graph_simulator):  # noqa: F811  (the imported fixture)
    """POST one signed webhook from CUSTOMER (a text, or a tapped button), process it, send the replies."""
    number, webhook = shop

    def send(said: str | tuple[str, str]) -> list[dict]:
        message = text(said) if isinstance(said, str) else tap("button_reply", *said)
        before = len(graph_sends(graph_simulator, number))
        assert webhook.post(_envelope(number, message)).status_code == 200
        process_journal()
        drain(tenant_a)
        return [_without_correlation(request["body"]) for request in graph_sends(graph_simulator, number)[before:]]

    return send


def _buttons_sent(body: str, *buttons: tuple[str, str]) -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER, "type": "interactive",
            "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": button_id, "title": title}} for button_id, title in buttons]}}}


TIME_SLOTS = (("morning", "Morning (8-12)"), ("afternoon", "Afternoon (12-16)"), ("evening", "Evening (16-19)"))


def test_starlink_on_an_unpublished_flow_books_the_installation_by_conversation(shop, chat, tenant_a, in_tenant):  # noqa: F811
    number, _ = shop
    with in_tenant(tenant_a):
        _flow(number, "starlink_installation", meta_flow_id="7100000000001", meta_status="DRAFT")

    assert chat("starlink") == [_text_sent("Let's book your Starlink installation. What is your full name?")]
    assert chat("Ada Lovelace") == [_buttons_sent(
        "Which Starlink kit do you have?", ("standard", "Standard"), ("mini", "Mini"),
        ("flat_high_performance", "Flat High Perf."))]
    assert chat(("mini", "Mini")) == [_buttons_sent(
        "Where should the dish be mounted?", ("roof", "Roof"), ("wall", "Wall"), ("pole", "Pole"))]
    assert chat(("roof", "Roof")) == [
        _text_sent("Which date suits you for the installation? For example 2026-06-30.")]
    assert chat("next tuesday") == [_text_sent(
        'Please send a date such as 2025-06-30 or 30/06/2025.\n\nSend "menu" for the main menu or "cancel" to stop.')]
    assert chat("30/06/2026") == [_buttons_sent("Which time of day suits you best?", *TIME_SLOTS)]
    assert chat(("afternoon", "Afternoon (12-16)")) == [_text_sent("What is the street and house number?")]
    assert chat("Hauptstrasse 1") == [_text_sent("Which city?")]
    assert chat("Potsdam") == [_text_sent("Which region or state?")]
    with in_tenant(tenant_a):
        assert not InstallationRequest.objects.exists()

    [confirmation] = chat("Brandenburg")

    with in_tenant(tenant_a):
        request = InstallationRequest.objects.get()
        assert (request.kind, request.kit_type, request.mount_location) == ("starlink", "mini", "roof")
        assert (request.customer_name, request.customer_phone, request.customer_email) == (
            "Ada Lovelace", f"+{CUSTOMER}", "")
        assert (request.preferred_date, request.time_slot) == (date(2026, 6, 30), "afternoon")
        assert (request.street, request.city, request.region) == ("Hauptstrasse 1", "Potsdam", "Brandenburg")
        assert request.contact.wa_id == CUSTOMER and request.flow_response is None
        assert request.status == "new"
        assert not FlowToken.objects.exists()
        assert not ConversationState.objects.filter(status="active").exists()
    assert confirmation == _text_sent(
        f"Thank you, Ada Lovelace! Your Starlink installation request #{request.pk} is booked for 2026-06-30, "
        "Afternoon (12-16). We will confirm it here.")


def test_solar_cleaning_on_an_unpublished_flow_books_a_cleaning_request(shop, chat, tenant_a, in_tenant):  # noqa: F811
    number, _ = shop
    with in_tenant(tenant_a):
        _flow(number, "solar_panel_cleaning", meta_flow_id="7100000000002", meta_status="DRAFT")

    assert chat("clean my panels") == [_text_sent("Let's book your solar panel cleaning. What is your full name?")]
    chat("Grace Hopper")
    chat(("flat", "Flat roof"))
    assert chat(("unknown", "Not sure")) == [_text_sent("How many panels are there?")]
    chat("12")
    chat("2026-07-01")
    chat(("morning", "Morning (8-12)"))
    chat("Seestrasse 5")
    chat("Berlin")

    [confirmation] = chat("Berlin")

    with in_tenant(tenant_a):
        request = CleaningRequest.objects.get()
        assert (request.roof_type, request.panel_type, request.panel_count) == ("flat", "unknown", 12)
        assert (request.customer_name, request.customer_phone) == ("Grace Hopper", f"+{CUSTOMER}")
        assert (request.preferred_date, request.time_slot, request.city) == (date(2026, 7, 1), "morning", "Berlin")
    assert confirmation == _text_sent(
        f"Thank you, Grace Hopper! Your cleaning request #{request.pk} is booked for 2026-07-01, "
        "Morning (8-12). We will confirm it here.")


def test_an_answer_the_request_refuses_is_named_and_nothing_is_booked(shop, chat, tenant_a, in_tenant):  # noqa: F811
    number, _ = shop
    with in_tenant(tenant_a):
        _flow(number, "solar_installation")  # never synced: its keyword starts the conversational flow

    assert chat("install solar") == [_buttons_sent(
        "What kind of installation is it?", ("residential", "Residential"), ("commercial", "Commercial"),
        ("off_grid", "Off-grid"))]
    assert chat(("off_grid", "Off-grid")) == [_text_sent("What is your order number?")]
    chat("X" * 65)  # longer than an order number may be
    chat("Ada Lovelace")
    chat("2026-06-30")
    chat(("evening", "Evening (16-19)"))
    chat("Hauptstrasse 1")
    chat("Potsdam")

    [refused] = chat("Brandenburg")

    assert refused == _text_sent("Sorry, I could not book it: please check the order number and start again.")
    with in_tenant(tenant_a):
        assert not InstallationRequest.objects.exists()


def test_installing_again_keeps_the_conversational_flows(tenant_a, in_tenant, number_a):
    with in_tenant(tenant_a):
        first = builtins_install()
        again = builtins_install()

    assert {"starlink_installation", "solar_cleaning", "solar_installation"} <= set(first.created_workflows)
    assert again.created_workflows == []
    assert {"workflow:starlink_installation", "workflow:solar_cleaning", "workflow:solar_installation"} <= set(
        again.kept)
