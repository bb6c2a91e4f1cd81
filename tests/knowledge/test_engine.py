"""The knowledge base in the automation engine: it answers what no keyword or workflow took, hands the
rest to a person, stays out of the way when off, and a keyword always goes first."""

from __future__ import annotations

import pytest

from automations.conf import HANDOFF_TEXT
from automations.models import AutomatedReply, AutomationRun, HumanHandoff
from automations.seeds import builtins_install
from knowledge.models import KnowledgeAnswer
from knowledge.providers import ProviderAnswer
from knowledge.services import faq_entry_create, knowledge_settings_update
from tests.knowledge.conftest import FAQ
from waba.models import WhatsAppAccount


def _texts(replies) -> list[str]:
    return [reply.content["text"]["body"] for reply in replies if reply.content.get("type") == "text"]


def test_a_question_of_the_faq_gets_its_answer(faq_a, customer_a, tenant_a, in_tenant):
    replies = customer_a.says("What time do you open?")

    assert _texts(replies) == [FAQ[0]["answer"]]
    with in_tenant(tenant_a):
        assert AutomatedReply.objects.get().purpose == AutomatedReply.Purpose.KNOWLEDGE
        assert AutomationRun.objects.get().outcome == "knowledge_answered"
        logged = KnowledgeAnswer.objects.get()
        assert not HumanHandoff.objects.exists()
    assert (logged.outcome, logged.source, logged.entry_id) == ("answered", "search", faq_a[0].pk)
    assert logged.question == "What time do you open?" and logged.score >= 0.4


def test_a_question_without_a_confident_answer_goes_to_a_person(faq_a, customer_a, tenant_a, in_tenant):
    replies = customer_a.says("My card was charged twice")

    assert _texts(replies) == [HANDOFF_TEXT]
    with in_tenant(tenant_a):
        handoff = HumanHandoff.objects.get()
        logged = KnowledgeAnswer.objects.get()
        assert AutomationRun.objects.get().outcome == "knowledge_handoff"
    assert handoff.opened_by == "automation" and handoff.closed_at is None
    assert handoff.reason == "No confident answer in the knowledge base."
    assert (logged.outcome, logged.source) == ("handed_off", "none")
    # The person has the conversation now: the bot stays silent, and asks the base nothing more.
    assert customer_a.says("opening hours") == []
    with in_tenant(tenant_a):
        assert KnowledgeAnswer.objects.count() == 1


def test_a_disabled_knowledge_base_does_nothing(faq_a, customer_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        knowledge_settings_update(enabled=False)

    assert customer_a.says("What time do you open?") == []
    assert customer_a.says("purple elephant banana") == []
    with in_tenant(tenant_a):
        assert not KnowledgeAnswer.objects.exists()
        assert not HumanHandoff.objects.exists()


def test_the_base_is_off_until_the_business_turns_it_on(customer_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        faq_entry_create(question="What are your opening hours?", answer="8 to 18.")
    assert customer_a.says("opening hours") == []


def test_a_keyword_goes_before_the_knowledge_base(faq_a, customer_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        builtins_install()
        faq_entry_create(question="Hello", variants=["hi"], answer="Hello from the FAQ.")

    [menu] = customer_a.says("hello")

    assert menu.content["type"] == "interactive" and menu.workflow == "main_menu"
    with in_tenant(tenant_a):
        assert not KnowledgeAnswer.objects.exists()


def test_a_workflow_waiting_for_an_answer_takes_the_text(faq_a, customer_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        builtins_install()
    customer_a.says("Hi")
    customer_a.taps("track_order", "Track Order")  # the workflow now asks for an order number

    replies = customer_a.says("opening hours")

    assert FAQ[0]["answer"] not in _texts(replies)
    with in_tenant(tenant_a):
        assert not KnowledgeAnswer.objects.exists()


def test_a_first_message_that_asks_a_question_gets_the_greeting_and_the_answer(
    faq_a, customer_a, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=customer_a.number.account_id).update(
            auto_reply_enabled=True, greeting_message="Welcome to Alpha Coffee!"
        )

    replies = customer_a.says("What time do you open?")

    assert _texts(replies) == ["Welcome to Alpha Coffee!", FAQ[0]["answer"]]
    with in_tenant(tenant_a):
        assert AutomationRun.objects.get().outcome == "knowledge_answered"


def test_after_a_greeting_text_without_an_answer_goes_to_nobody(faq_a, customer_a, tenant_a, in_tenant):
    """The greeting answered the customer's first message: no person is called for it."""
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=customer_a.number.account_id).update(
            auto_reply_enabled=True, greeting_message="Welcome to Alpha Coffee!"
        )

    assert _texts(customer_a.says("purple elephant banana")) == ["Welcome to Alpha Coffee!"]
    with in_tenant(tenant_a):
        assert not HumanHandoff.objects.exists()
        assert not KnowledgeAnswer.objects.exists()


def test_a_question_typed_while_a_menu_waits_is_answered_and_the_menu_still_waits(
    faq_a, customer_a, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        builtins_install()
    [menu] = customer_a.says("Hi")
    assert menu.workflow == "main_menu"

    assert _texts(customer_a.says("What time do you open?")) == [FAQ[0]["answer"]]
    # Text the base cannot answer still re-prompts the menu, and hands nothing to a person.
    reprompt = customer_a.says("purple elephant banana")
    assert {reply.workflow for reply in reprompt} == {"main_menu"}
    assert FAQ[0]["answer"] not in _texts(reprompt)
    next_step = customer_a.taps("track_order", "Track Order")
    assert {reply.workflow for reply in next_step} == {"order_tracking"}
    with in_tenant(tenant_a):
        assert not HumanHandoff.objects.exists()
        assert list(KnowledgeAnswer.objects.values_list("outcome", flat=True)) == ["answered"]


class FakeProvider:
    """Answers what it is asked about delivery, from the closest entry; nothing else."""

    calls: list[dict] = []

    def answer(self, *, question, language, candidates):
        FakeProvider.calls.append({"question": question, "candidates": [c.question for c in candidates]})
        if "courier" in question.lower():
            return ProviderAnswer(
                text="Yes, our courier delivers within 5 km.", entry_id=candidates[0].entry_id
            )
        return None


class BrokenProvider:
    def answer(self, *, question, language, candidates):
        raise TimeoutError("the model took too long")


@pytest.fixture
def fake_provider(settings):
    settings.KNOWLEDGE_ANSWER_PROVIDER = "tests.knowledge.test_engine.FakeProvider"
    FakeProvider.calls = []
    return FakeProvider


def test_a_provider_answers_what_the_search_could_not(faq_a, customer_a, tenant_a, in_tenant, fake_provider):
    replies = customer_a.says("Does your courier come to Matosinhos?")

    assert _texts(replies) == ["Yes, our courier delivers within 5 km."]
    assert fake_provider.calls[0]["question"] == "Does your courier come to Matosinhos?"
    assert len(fake_provider.calls[0]["candidates"]) == 3
    with in_tenant(tenant_a):
        logged = KnowledgeAnswer.objects.get()
    assert (logged.outcome, logged.source) == ("answered", "provider")


def test_a_confident_search_never_asks_the_provider(faq_a, customer_a, fake_provider):
    assert _texts(customer_a.says("opening hours")) == [FAQ[0]["answer"]]
    assert fake_provider.calls == []


def test_a_provider_without_an_answer_leaves_it_to_a_person(
    faq_a, customer_a, tenant_a, in_tenant, fake_provider
):
    assert _texts(customer_a.says("purple elephant banana")) == [HANDOFF_TEXT]
    with in_tenant(tenant_a):
        assert HumanHandoff.objects.exists()


def test_a_failing_provider_leaves_it_to_a_person(faq_a, customer_a, tenant_a, in_tenant, settings):
    settings.KNOWLEDGE_ANSWER_PROVIDER = "tests.knowledge.test_engine.BrokenProvider"

    assert _texts(customer_a.says("purple elephant banana")) == [HANDOFF_TEXT]
    with in_tenant(tenant_a):
        assert KnowledgeAnswer.objects.get().outcome == "handed_off"
