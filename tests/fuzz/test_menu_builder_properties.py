"""Property tests of the menu builders: messaging/interactive.py (reply buttons, lists, the checks of a
raw interactive object) and the automations' workflow templates and definitions built on them.

Whatever the input, the only exception is the declared one (`MenuValidationError`, a 422), and
whatever the builders return passes their own checks.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from automations.definitions import definition_parse
from automations.models import WorkflowTemplate
from automations.services.templates import (
    placeholders_of,
    workflow_template_problems,
    workflow_template_render,
)
from messaging.interactive import (
    Button,
    MenuValidationError,
    Row,
    Section,
    build_list,
    build_reply_buttons,
    interactive_problems,
)
from tests.fuzz.strategies import hostile_text, json_values, mutated, pure_function_settings

BUTTONS = {"type": "button", "body": {"text": "What can we do for you, {name}?"}, "action": {"buttons": [
    {"type": "reply", "reply": {"id": "order", "title": "Order"}},
    {"type": "reply", "reply": {"id": "track", "title": "Track {order}"}},
]}}
LIST = {"type": "list", "header": {"type": "text", "text": "Menu"}, "body": {"text": "Pick one"},
        "footer": {"text": "Thanks"}, "action": {"button": "Choose", "sections": [
            {"title": "Coffee", "rows": [{"id": "espresso", "title": "Espresso", "description": "{price}"}]},
            {"title": "Tea", "rows": [{"id": "green", "title": "Green tea"}]}]}}
FLOW = {"type": "flow", "body": {"text": "Book"}, "action": {"name": "flow", "parameters": {
    "flow_message_version": "3", "flow_name": "booking", "flow_cta": "Book now", "flow_action": "navigate",
    "flow_action_payload": {"screen": "START"}}}}
MENUS = [BUTTONS, LIST, FLOW]

buttons = st.lists(st.builds(Button, id=hostile_text, title=hostile_text), max_size=5)
rows = st.lists(st.builds(Row, id=hostile_text, title=hostile_text, description=hostile_text), max_size=6)
sections = st.lists(st.builds(Section, title=hostile_text | st.none(), rows=rows), max_size=4)


def _built_or_declared_error(build, **kwargs):
    try:
        interactive = build(**kwargs)
    except MenuValidationError as error:
        assert error.problems
        return None
    assert interactive_problems(interactive) == []
    return interactive


@pure_function_settings()
@given(body=hostile_text, buttons=buttons, header=hostile_text | st.none() | st.dictionaries(hostile_text, json_values),
       footer=hostile_text | st.none(),
       truncate=st.booleans())
def test_reply_buttons_are_valid_or_refused_with_the_declared_error(body, buttons, header, footer, truncate):
    _built_or_declared_error(build_reply_buttons, body=body, buttons=buttons, header=header, footer=footer,
                             truncate=truncate)


@pure_function_settings()
@given(body=hostile_text, button_text=hostile_text, sections=sections, header=hostile_text | st.none(),
       footer=hostile_text | st.none(), truncate=st.booleans())
def test_lists_are_valid_or_refused_with_the_declared_error(body, button_text, sections, header, footer, truncate):
    _built_or_declared_error(build_list, body=body, button_text=button_text, sections=sections, header=header,
                             footer=footer, truncate=truncate)


@pure_function_settings()
@given(mutated(MENUS, max_mutations=3) | json_values)
def test_any_interactive_object_gives_problems_not_exceptions(interactive):
    problems = interactive_problems(interactive)
    assert all(problem.as_dict()["field"] is not None for problem in problems)


@pure_function_settings()
@given(structure=mutated(MENUS, max_mutations=3) | json_values, context=st.dictionaries(hostile_text, json_values),
       template_type=st.sampled_from(["button", "list", "flow"]) | hostile_text,
       keywords=json_values, match_mode=st.sampled_from(["exact", "contains", "starts_with", "regex"]) | hostile_text)
def test_workflow_templates_give_problems_not_exceptions(structure, context, template_type, keywords, match_mode):
    workflow_template_problems(template_name="menu", type=template_type, structure=structure,
                               trigger_keywords=keywords, match_mode=match_mode)
    placeholders_of(structure)
    workflow_template_render(template=WorkflowTemplate(structure=structure), context=context)


@pure_function_settings()
@given(json_values | st.fixed_dictionaries({"start": hostile_text, "steps": st.dictionaries(hostile_text, json_values)}))
def test_workflow_definitions_give_problems_not_exceptions(data):
    definition, problems = definition_parse(data)
    assert (definition is None) == bool(problems) or definition is not None
