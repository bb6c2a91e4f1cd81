"""The knowledge base on the real inbound path: a signed webhook, the webhook worker, the automation
engine, the send pipeline and the Graph API simulator, which receives exactly the FAQ's answer."""

from __future__ import annotations

import pytest

from automations.conf import HANDOFF_TEXT
from automations.models import HumanHandoff
from knowledge.models import KnowledgeAnswer
from knowledge.services import faq_entry_create, knowledge_settings_update
from messaging.models import Message
from tests.automations.test_webhook_journey import CUSTOMER, _envelope, text
from tests.conftest import ApiClient
from tests.messaging.factories import PhoneNumberFactory, meta_app_create, route_claim
from tests.sending.factories import simulator_seed_for
from tests.sending.helpers import drain, graph_sends
from tests.webhooks.conftest import APP_ID, APP_SECRET, VERIFY_TOKEN, WebhookPoster, process_journal

ANSWER = "We are open Monday to Saturday, 8:00 to 18:00."


@pytest.fixture
def shop(tenant_a, in_tenant, graph_simulator, settings):
    """Alpha's routed number, known to the simulator, with one FAQ entry and the knowledge base on."""
    settings.PAIR_RATE_INTERVAL_S = 0.01
    meta_app_create(app_id=APP_ID, secret=APP_SECRET, verify_token=VERIFY_TOKEN)
    with in_tenant(tenant_a):
        number = PhoneNumberFactory()
        faq_entry_create(
            question="What are your opening hours?",
            variants=["When are you open?", "opening times"],
            answer=ANSWER,
        )
        knowledge_settings_update(enabled=True)
    route_claim(tenant=tenant_a, waba_id=number.account.waba_id, phone_number_ids=[number.phone_number_id])
    simulator_seed_for(graph_simulator, number)
    return number, WebhookPoster(ApiClient("localhost"))


def _say(shop, tenant, simulator, body: str, *, times: int = 1) -> list[dict]:
    number, webhook = shop
    envelope = _envelope(number, text(body))
    before = len(graph_sends(simulator, number))
    for _ in range(times):
        assert webhook.post(envelope).status_code == 200
        process_journal()
    drain(tenant)
    return [request["body"] for request in graph_sends(simulator, number)[before:]]


def test_a_faq_question_gets_its_answer_from_the_simulator(shop, tenant_a, in_tenant, graph_simulator):
    [sent] = _say(shop, tenant_a, graph_simulator, "what time do you open?", times=2)  # Meta redelivers

    assert (sent["to"], sent["type"], sent["text"]) == (
        CUSTOMER,
        "text",
        {"body": ANSWER, "preview_url": False},
    )
    with in_tenant(tenant_a):
        reply = Message.objects.get(direction="out")
        assert reply.status == "sent" and reply.wamid
        assert KnowledgeAnswer.objects.get().outcome == "answered"  # once, for the redelivered webhook


def test_a_nonsense_question_is_handed_to_a_person(shop, tenant_a, in_tenant, graph_simulator):
    [sent] = _say(shop, tenant_a, graph_simulator, "purple elephant banana")

    assert sent["text"]["body"] == HANDOFF_TEXT
    with in_tenant(tenant_a):
        assert HumanHandoff.objects.get().reason == "No confident answer in the knowledge base."
        assert KnowledgeAnswer.objects.get().outcome == "handed_off"
