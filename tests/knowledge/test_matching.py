"""The search that decides: which entry is closest to a customer's text, and whether it is close enough."""

from __future__ import annotations

import pytest
from django.conf import settings

from knowledge.errors import FaqEntryInvalid
from knowledge.languages import search_config_for
from knowledge.models import FaqEntry
from knowledge.selectors import faq_candidates
from knowledge.services import faq_entry_create, faq_entry_update, knowledge_match

# (customer's text, the entry's index in conftest.FAQ) that must be answered ...
ANSWERED = [
    ("what time do you open?", 0),
    ("opening hours", 0),
    ("When do you open on saturday", 0),
    ("are you open on sunday", 0),
    ("do you deliver to my house", 1),
    ("can I pay by card", 2),
    ("whats your address", 3),
    ("a que hora abren", 4),
    ("Hola, cuál es el horario?", 4),
]
# ... and texts that must go to a person (near misses included: a price is not an opening hour).
HANDED_OFF = [
    "purple elephant banana",
    "hi",
    "thanks",
    "I want to complain about my order 1234",
    "my card was charged twice",
    "is the coffee organic",
    "what are your prices",
    "can I book a table for tomorrow",
    "where is the shop",
    "deliverry?",
]


@pytest.mark.parametrize(("text", "index"), ANSWERED)
def test_questions_of_the_faq_are_answered_by_their_entry(faq_a, tenant_a, in_tenant, text, index):
    with in_tenant(tenant_a):
        match, candidates = knowledge_match(text=text)
    assert match is not None, candidates
    assert match.entry_id == faq_a[index].pk
    assert match.answer == faq_a[index].answer
    assert match.score >= settings.KNOWLEDGE_MATCH_THRESHOLD


@pytest.mark.parametrize("text", HANDED_OFF)
def test_other_texts_are_not_answered(faq_a, tenant_a, in_tenant, text):
    with in_tenant(tenant_a):
        match, candidates = knowledge_match(text=text)
    assert match is None
    assert candidates[0].score < settings.KNOWLEDGE_MATCH_THRESHOLD


def test_the_threshold_leaves_a_margin_on_both_sides(faq_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        lowest_answered = min(faq_candidates(text=text)[0].score for text, _ in ANSWERED)
        highest_refused = max(faq_candidates(text=text)[0].score for text in HANDED_OFF)
    assert highest_refused + 0.1 < settings.KNOWLEDGE_MATCH_THRESHOLD <= lowest_answered


def test_an_inactive_entry_never_answers(faq_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        faq_entry_update(entry=faq_a[0], is_active=False)
        match, candidates = knowledge_match(text="opening hours")
    assert match is None
    assert faq_a[0].pk not in [candidate.entry_id for candidate in candidates]


def test_an_edit_is_searched_at_once(faq_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        faq_entry_update(entry=faq_a[3], variants=["Where is the shop?"])
        match, _ = knowledge_match(text="where is the shop")
    assert match is not None and match.entry_id == faq_a[3].pk


def test_an_empty_base_answers_nothing(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        assert knowledge_match(text="opening hours") == (None, [])
        assert faq_candidates(text="   ") == []


def test_another_tenants_entries_are_not_searched(faq_a, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        assert knowledge_match(text="opening hours") == (None, [])


@pytest.mark.parametrize(
    ("language", "config"),
    [
        ("en", "english"),
        ("en_US", "english"),
        ("pt-BR", "portuguese"),
        ("ES", "spanish"),
        ("xh", "simple"),
    ],
)
def test_each_language_reads_with_its_configuration(language, config):
    assert search_config_for(language) == config


def test_an_unknown_language_still_matches_word_for_word(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        entry = faq_entry_create(question="Ninivula nini?", answer="Sivula ngo-8.", language="xh")
        assert FaqEntry.objects.get(pk=entry.pk).search_config == "simple"
        match, _ = knowledge_match(text="ninivula nini")
    assert match is not None and match.entry_id == entry.pk


def test_bad_entries_are_refused_with_every_problem(tenant_a, in_tenant):
    with in_tenant(tenant_a), pytest.raises(FaqEntryInvalid) as refused:
        faq_entry_create(question=" ", answer="x" * 4097, language="english!")
    assert refused.value.code == "invalid_faq_entry"
    assert refused.value.details["problems"] == [
        "The question is empty.",
        "The answer is longer than 4096 characters (one WhatsApp message).",
        "'english!' is not a language code such as en, es or pt_BR.",
    ]
