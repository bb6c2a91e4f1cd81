"""Keyword matching: case- and accent-insensitive, whole words, four modes, a defined priority."""

from __future__ import annotations

import pytest

from automations.keywords import Candidate, best_match, keyword_matches, normalise
from automations.selectors import workflow_template_matching
from automations.services import workflow_template_create
from tests.automations.test_templates import BUTTONS


def test_normal_form_drops_case_accents_and_punctuation():
    assert normalise("  Café   CRÈME!! ") == "cafe creme"
    assert normalise("¿Qué tal?") == "que tal"


@pytest.mark.parametrize(("text", "keyword", "mode", "expected"), [
    ("Hi", "hi", "exact", True),
    ("hi!", "HI", "exact", True),
    ("hi there", "hi", "exact", False),
    ("Hi there", "hi", "contains", True),
    ("oh, hi", "hi", "contains", True),
    ("this", "hi", "contains", False),  # whole words only
    ("chip", "hi", "contains", False),
    ("I want to track my order", "track my order", "contains", True),
    ("track the order", "track my order", "contains", False),
    ("Café au lait please", "cafe", "starts_with", True),
    ("a cafe please", "cafe", "starts_with", False),
    ("ORDER 42", r"^order\s+\d+$", "regex", True),
    ("Órder 42", r"^order\s+\d+$", "regex", True),  # accents folded before the search
    ("reorder 42", r"^order\s+\d+$", "regex", False),
    ("", "hi", "contains", False),
])
def test_modes(text, keyword, mode, expected):
    assert keyword_matches(text, keyword, mode) is expected


def test_ties_break_by_priority_then_mode_then_length_then_age():
    def candidate(key, keywords, mode="contains", priority=0, order=0):
        return Candidate(key=key, keywords=keywords, mode=mode, priority=priority, created_order=order)

    assert best_match("hi order", [candidate("a", ["hi"], order=1), candidate("b", ["order"], priority=5, order=2)]).key == "b"
    assert best_match("order", [candidate("a", ["order"], order=1),
                                candidate("b", ["order"], mode="exact", order=2)]).key == "b"
    assert best_match("track my order", [candidate("a", ["order"], order=1),
                                         candidate("b", ["my order"], order=2)]).key == "b"
    assert best_match("order", [candidate("a", ["order"], order=2), candidate("b", ["order"], order=1)]).key == "b"
    assert best_match("nothing here", [candidate("a", ["order"])]) is None


def test_the_engine_picks_the_active_template_with_the_best_match(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        general = workflow_template_create(template_name="general", type="button", structure=BUTTONS,
                                           trigger_keywords=["order"], match_mode="contains")
        specific = workflow_template_create(template_name="specific", type="button", structure=BUTTONS,
                                            trigger_keywords=["track order"], match_mode="contains")
        urgent = workflow_template_create(template_name="urgent", type="button", structure=BUTTONS,
                                          trigger_keywords=["help"], priority=10, is_active=False)

        assert workflow_template_matching(text="I want to TRACK ORDER 12") == specific
        assert workflow_template_matching(text="new order") == general
        assert workflow_template_matching(text="help with my order") == general  # `urgent` is inactive
        urgent.is_active = True
        urgent.save()
        assert workflow_template_matching(text="help with my order") == urgent
        assert workflow_template_matching(text="good morning") is None
