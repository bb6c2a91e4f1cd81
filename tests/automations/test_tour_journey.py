"""The tour inquiry: "tour" sends the published tour-inquiry Flow, or runs its conversational flow while the
Flow is unpublished; replayed through the real webhook endpoint, the webhook worker, the send pipeline and
the Graph API simulator."""

from __future__ import annotations

from datetime import date

import pytest

from automations.models import AutomatedReply, ConversationState
from flows_builder.models import FlowToken, TourInquiry
from tests.automations.test_service_request_journey import _buttons_sent, chat  # noqa: F401  (fixture)
from tests.automations.test_webhook_journey import (
    CUSTOMER,
    _flow,
    _text_sent,
    _without_correlation,
    say,  # noqa: F401  (fixture)
    shop,  # noqa: F401  (fixture)
)

TOURS = [("serengeti_safari", "Serengeti safari, 5 days"), ("zanzibar_beach", "Zanzibar beach week"),
         ("kilimanjaro_trek", "Kilimanjaro trek, 7 days"), ("nairobi_city", "Nairobi city and parks"),
         ("custom", "Something else")]


def _tour_list_sent() -> dict:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER, "type": "interactive",
            "interactive": {"type": "list", "body": {"text": "Which tour would you like to know more about?"},
                            "action": {"button": "Tours", "sections": [
                                {"rows": [{"id": tour_id, "title": title} for tour_id, title in TOURS]}]}}}


@pytest.mark.parametrize("word", ["tour", "Tours", "I want to book a tour"])
def test_a_published_tour_flow_is_sent_for_its_keywords(shop, say, tenant_a, in_tenant, word):  # noqa: F811
    number, _ = shop
    with in_tenant(tenant_a):
        flow = _flow(number, "tour_inquiry", meta_flow_id="7100000000009", meta_status="PUBLISHED")

    [sent] = say(word)

    with in_tenant(tenant_a):
        token = FlowToken.objects.get(flow=flow)
        reply = AutomatedReply.objects.get()
        assert (reply.purpose, reply.step, reply.error_code) == ("menu", "flow:tour_inquiry", "")
        assert not TourInquiry.objects.exists()
    assert _without_correlation(sent) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "interactive",
        "interactive": {
            "type": "flow",
            "body": {"text": "Ask about a tour: destination, travel dates, travellers, budget and contact details."},
            "action": {"name": "flow", "parameters": {
                "flow_message_version": "3",
                "flow_token": token.token,
                "flow_id": "7100000000009",
                "flow_cta": "Start",
                "mode": "published",
                "flow_action": "navigate",
                "flow_action_payload": {"screen": "TOUR"},
            }},
        },
    }


def test_an_unpublished_tour_flow_records_the_inquiry_by_conversation(shop, chat, tenant_a, in_tenant):  # noqa: F811
    number, _ = shop
    with in_tenant(tenant_a):
        _flow(number, "tour_inquiry", meta_flow_id="7100000000009", meta_status="DRAFT")

    assert [_without_correlation(sent) for sent in chat("book a tour")] == [_tour_list_sent()]
    assert chat(("zanzibar_beach", "Zanzibar beach week")) == [
        _text_sent("When would you like to leave? For example 2026-07-01.")]
    assert chat("2026-08-03") == [_text_sent("And when would you come back?")]
    assert chat("10/08/2026") == [_text_sent("How many people are travelling?")]
    assert chat("two") == [_text_sent(
        'Please send a whole number greater than 0, for example 2.\n\nSend "menu" for the main menu or "cancel" to stop.')]
    assert chat("3") == [_buttons_sent("What is your budget per person?", ("under_1000", "Under 1,000 USD"),
                                       ("1000_3000", "1,000-3,000 USD"), ("over_3000", "Over 3,000 USD"))]
    assert chat(("1000_3000", "1,000-3,000 USD")) == [_text_sent("What is your full name?")]
    with in_tenant(tenant_a):
        assert not TourInquiry.objects.exists()

    [confirmation] = chat("Ada Lovelace")

    with in_tenant(tenant_a):
        inquiry = TourInquiry.objects.get()
        assert (inquiry.tour, inquiry.departure_date, inquiry.return_date) == (
            "zanzibar_beach", date(2026, 8, 3), date(2026, 8, 10))
        assert (inquiry.travellers, inquiry.budget, inquiry.status) == (3, "1000_3000", "new")
        assert (inquiry.customer_name, inquiry.customer_phone, inquiry.customer_email) == (
            "Ada Lovelace", f"+{CUSTOMER}", "")
        assert inquiry.contact.wa_id == CUSTOMER and inquiry.flow_response is None
        assert not FlowToken.objects.exists()
        assert not ConversationState.objects.filter(status="active").exists()
    assert confirmation == _text_sent(
        f"Thank you, Ada Lovelace! We received your inquiry #{inquiry.pk} about the Zanzibar beach week "
        "from 2026-08-03 to 2026-08-10 and will send you a quote here.")


def test_a_return_before_the_departure_is_named_and_nothing_is_recorded(shop, chat, tenant_a, in_tenant):  # noqa: F811
    number, _ = shop
    with in_tenant(tenant_a):
        _flow(number, "tour_inquiry")  # never synced: its keyword starts the conversational flow

    chat("tours")
    chat(("serengeti_safari", "Serengeti safari, 5 days"))
    chat("2026-08-10")
    chat("2026-08-03")
    chat("2")
    chat(("over_3000", "Over 3,000 USD"))

    [refused] = chat("Grace Hopper")

    assert refused == _text_sent("Sorry, I could not record it: please check the return date and start again.")
    with in_tenant(tenant_a):
        assert not TourInquiry.objects.exists()
