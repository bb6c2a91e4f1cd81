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


# --- regular expressions run on RE2: linear time, no backtracking --------------------------------


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?<=order)\s+\d+", r"(?=hi)hi", r"(?P<x>a)(?P=x)"])
def test_patterns_re2_cannot_run_are_refused_at_save_naming_the_field(api_a, pattern):
    response = api_a.post_json("/api/v1/workflow-templates", {
        "template_name": "rx", "type": "button", "structure": BUTTONS,
        "trigger_keywords": ["order", pattern], "match_mode": "regex",
    })

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_workflow_template"
    assert [detail["field"] for detail in error["details"]] == ["trigger_keywords[1]"]
    assert "regular expression" in error["details"][0]["message"]


def test_a_stored_pattern_re2_cannot_run_matches_nothing_and_is_logged(tenant_a, in_tenant, caplog):
    """A pattern saved before patterns were checked with RE2 never reaches a backtracking engine."""
    from automations.models import WorkflowTemplate

    with in_tenant(tenant_a):
        template = workflow_template_create(template_name="legacy", type="button", structure=BUTTONS,
                                            trigger_keywords=["x"], match_mode="regex")
        WorkflowTemplate.objects.filter(pk=template.pk).update(trigger_keywords=[r"^(a)\1$"])

        assert workflow_template_matching(text="aa") is None
    assert any("cannot be used" in record.getMessage() for record in caplog.records)


def test_only_the_first_4096_characters_of_a_message_are_matched():
    text = "x " * 2048 + "refund"  # Meta's text body holds at most 4,096 characters

    assert keyword_matches(text, "refund", "contains") is False
    assert keyword_matches(text, "refund", "regex") is False
    assert keyword_matches(text[-200:], "refund", "contains") is True


def test_the_match_endpoint_refuses_a_text_longer_than_a_whatsapp_message(api_a):
    response = api_a.post_json("/api/v1/workflow-templates/match", {"text": "a" * 4097})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.payload.text"
    assert api_a.post_json("/api/v1/workflow-templates/match", {"text": "a" * 4096}).status_code == 200


def test_menus_and_flows_are_ranked_by_one_rule_and_only_flows_that_can_act_take_part(
    tenant_a, in_tenant, number_a, builtins_a
):
    from automations.selectors import keyword_trigger_matching
    from tests.flows_builder.factories import WhatsAppFlowFactory

    with in_tenant(tenant_a):
        starlink = WhatsAppFlowFactory(account=number_a.account, meta_flow_id="7200000000001",
                                       meta_status="PUBLISHED", trigger_keywords=["starlink"])
        WhatsAppFlowFactory(definition="solar_installation", account=number_a.account, flow_definition_name="survey",
                            trigger_keywords=["solar installation"])  # unpublished, no workflow of its name

        def matched(text: str) -> object:
            trigger = keyword_trigger_matching(text=text, account_id=number_a.account_id)
            if trigger is None:
                return None
            return trigger.flow.name if trigger.flow else trigger.workflow.name if trigger.workflow else None

        assert matched("STARLINK!") == "starlink_installation"
        assert matched("hi, starlink please") == "starlink_installation"  # the longer keyword wins
        assert matched("hi") == "main_menu"
        assert matched("help") == "main_menu"
        assert matched("track ORD-12") == "track_order_quick"
        assert matched("track my parcel") is None
        assert matched("solar installation") is None
        assert keyword_trigger_matching(text="starlink", account_id=number_a.account_id + 1000) is None
        starlink.is_active = False
        starlink.save()
        assert matched("starlink") is None
