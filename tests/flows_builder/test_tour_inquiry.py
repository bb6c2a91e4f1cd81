"""The built-in tour-inquiry Flow: installed through install-builtins, published and sent at the simulator,
and the customer's signed `nfm_reply` through the real webhook endpoint and worker into a TourInquiry."""

from __future__ import annotations

from datetime import date

import pytest

from automations.seeds import builtins_install
from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.links import flow_link_warnings
from flows_builder.models import FlowResponse, FlowToken, TourInquiry, WhatsAppFlow
from flows_builder.processors import ResponseInvalid
from flows_builder.processors.tour_inquiries import tour_inquiry_create
from flows_builder.sending import flow_send
from flows_builder.sync import flow_sync
from messaging.models import Message
from tests.factories import ConversationFactory
from tests.flows_builder.factories import WhatsAppFlowFactory
from tests.flows_builder.test_webhook_journey import flows_sim, nfm_reply_body  # noqa: F401  (fixture)
from tests.messaging.factories import FIXTURE_CUSTOMER
from tests.sending.helpers import drain, graph_sends
from tests.webhooks import conftest as webhook_fixtures
from tests.webhooks.conftest import process_journal

_fresh_app_cache = webhook_fixtures._fresh_app_cache
meta_app = webhook_fixtures.meta_app
public_client = webhook_fixtures.public_client
webhook = webhook_fixtures.webhook
number_a = webhook_fixtures.number_a

TOUR_ANSWERS = {
    "tour": "kilimanjaro_trek",
    "departure_date": "2026-09-01",
    "return_date": "2026-09-08",
    "travellers": "4",
    "budget": "over_3000",
    "full_name": "Kerry Fisher",
    "phone": "+1 631 555 1181",
    "email": "Kerry.Fisher@example.com",
    "notes": "Two of us are vegetarian.",
}


def test_the_tour_flow_is_installed_with_its_keywords_and_its_link_resolves(api_a, tenant_a, in_tenant,
                                                                            alpha_account):
    installed = api_a.post_json("/api/v1/flows/install-builtins", {"account_id": alpha_account.pk})

    assert installed.status_code == 201
    [tour] = [flow for flow in installed.json() if flow["name"] == "tour_inquiry"]
    with in_tenant(tenant_a):
        flow = WhatsAppFlow.objects.get(pk=tour["id"])
        assert (flow.friendly_name, flow.categories, flow.flow_definition_name) == (
            "Tour inquiry", ["LEAD_GENERATION"], "tour_inquiry")
        assert flow.trigger_keywords == ["tour", "tours", "book a tour"]
        assert flow.flow_json == BUILTIN_FLOWS["tour_inquiry"].flow_json
        assert flow_link_warnings(flow=flow) == ["linked conversational flow 'tour_inquiry' does not exist"]
        builtins_install()
        assert flow_link_warnings(flow=flow) == []


def test_the_tour_flow_asks_for_a_tour_dates_travellers_budget_and_contact():
    screens = BUILTIN_FLOWS["tour_inquiry"].flow_json["screens"]
    components = {c["name"]: c for screen in screens for c in screen["layout"]["children"] if "name" in c}

    assert [screen["id"] for screen in screens] == ["TOUR", "GROUP", "CONTACT"]
    assert [components[name]["type"] for name in ("departure_date", "return_date")] == ["DatePicker", "DatePicker"]
    assert {option["id"] for option in components["tour"]["data-source"]} == set(TourInquiry.Tour.values)
    assert {option["id"] for option in components["budget"]["data-source"]} == set(TourInquiry.Budget.values)
    assert components["travellers"]["input-type"] == "number"


def test_tour_journey_from_send_to_inquiry_through_the_webhook_endpoint(tenant_a, tenant_b, in_tenant, number_a,
                                                                        flows_sim, webhook):  # noqa: F811
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(account=number_a.account, definition="tour_inquiry")
        assert flow_sync(flow=flow, publish=True).published
        flow.refresh_from_db()
        contact = ConversationFactory(window_open=True, phone_number=number_a, contact__wa_id=FIXTURE_CUSTOMER,
                                      contact__profile_name="Kerry Fisher").contact
        queued = flow_send(flow=flow, contact=contact, phone_number=number_a, body="Plan your next trip with us.",
                           cta="Ask about a tour")
    drain(tenant_a)
    with in_tenant(tenant_a):
        sent = Message.objects.get(pk=queued.message.pk)
        token = FlowToken.objects.get(flow=flow, contact=contact).token
    [request] = graph_sends(flows_sim, number_a)
    assert request["body"]["interactive"]["action"]["parameters"]["flow_action_payload"] == {"screen": "TOUR"}

    reply = nfm_reply_body(flow_token=token, answers=TOUR_ANSWERS, context_wamid=sent.wamid)
    for _ in range(2):  # Meta delivers it twice
        assert webhook.post(reply).status_code == 200
        process_journal()

    with in_tenant(tenant_a):
        response = FlowResponse.objects.get()
        inquiry = TourInquiry.objects.get()
    assert response.processed and response.flow_id == flow.pk
    assert (inquiry.flow_response_id, inquiry.contact_id) == (response.pk, contact.pk)
    assert (inquiry.tour, inquiry.departure_date, inquiry.return_date, inquiry.travellers, inquiry.budget) == (
        "kilimanjaro_trek", date(2026, 9, 1), date(2026, 9, 8), 4, "over_3000")
    assert (inquiry.customer_name, inquiry.customer_phone, inquiry.customer_email, inquiry.notes) == (
        "Kerry Fisher", "+16315551181", "kerry.fisher@example.com", "Two of us are vegetarian.")
    with in_tenant(tenant_b):
        assert not TourInquiry.objects.exists()


def test_dates_from_older_date_pickers_come_as_epoch_milliseconds(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        inquiry = tour_inquiry_create(
            answers={**TOUR_ANSWERS, "departure_date": 1788220800000, "return_date": "1788825600000",
                     "email": None, "notes": None},
            contact=None,
        )
    assert (inquiry.departure_date, inquiry.return_date) == (date(2026, 9, 1), date(2026, 9, 8))
    assert (inquiry.customer_email, inquiry.notes) == ("", "")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"tour": "moon_landing"}, {"tour"}),
        ({"budget": "priceless", "travellers": "0"}, {"budget", "travellers"}),
        ({"return_date": "2026-08-31"}, {"return_date"}),
        ({"phone": "12", "full_name": ""}, {"phone", "full_name"}),
    ],
)
def test_answers_the_inquiry_cannot_hold_are_refused_by_field(tenant_a, in_tenant, changes, fields):
    with in_tenant(tenant_a), pytest.raises(ResponseInvalid) as refused:
        tour_inquiry_create(answers={**TOUR_ANSWERS, **changes}, contact=None)
    assert {error["field"] for error in refused.value.errors} == fields
    with in_tenant(tenant_a):
        assert not TourInquiry.objects.exists()
