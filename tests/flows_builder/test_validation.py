"""Offline Flow JSON validation: every rule has a failing example, and real flows of several versions pass."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from flows_builder.validation import (
    COMPONENT_SPECS,
    SUPPORTED_VERSIONS,
    FlowValidationError,
    validate_flow_json,
)
from waba import meta

# --- builders ---------------------------------------------------------------------------------


def complete_footer(payload: dict[str, Any] | None = None, label: str = "Done") -> dict[str, Any]:
    return {
        "type": "Footer",
        "label": label,
        "on-click-action": {"name": "complete", "payload": payload or {}},
    }


def navigate_footer(
    target: str, payload: dict[str, Any] | None = None, label: str = "Next"
) -> dict[str, Any]:
    return {
        "type": "Footer",
        "label": label,
        "on-click-action": {
            "name": "navigate",
            "next": {"type": "screen", "name": target},
            "payload": payload or {},
        },
    }


def screen(
    screen_id: str, *children: dict[str, Any], terminal: bool = False, data: dict | None = None
) -> dict:
    result: dict[str, Any] = {"id": screen_id, "title": screen_id.title()}
    if terminal:
        result["terminal"] = True
    if data is not None:
        result["data"] = data
    result["layout"] = {"type": "SingleColumnLayout", "children": list(children)}
    return result


def flow(*screens: dict[str, Any], version: str = "7.1", **top: Any) -> dict[str, Any]:
    return {"version": version, **top, "screens": list(screens)}


def one_screen(*children: dict[str, Any], version: str = "7.1", data: dict | None = None) -> dict[str, Any]:
    """A terminal single-screen flow whose children end with a complete Footer."""
    return flow(screen("ONLY", *children, complete_footer(), terminal=True, data=data), version=version)


def declared(**examples: Any) -> dict[str, Any]:
    return {name: {"type": "string", "__example__": example} for name, example in examples.items()}


def codes(errors: list[FlowValidationError]) -> list[str]:
    return [str(error.error) for error in errors]


def only_error(errors: list[FlowValidationError]) -> FlowValidationError:
    assert len(errors) == 1, errors
    return errors[0]


def options(count: int) -> list[dict[str, str]]:
    return [{"id": f"opt_{index}", "title": f"Option {index}"} for index in range(count)]


# --- valid flows of several versions ----------------------------------------------------------

VALID_3_1 = {
    "version": "3.1",
    "screens": [
        {
            "id": "SIGN_UP",
            "title": "Sign up",
            "data": {},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {
                        "type": "Form",
                        "name": "form",
                        "children": [
                            {
                                "type": "TextInput",
                                "name": "first_name",
                                "label": "First name",
                                "required": True,
                            },
                            {"type": "TextInput", "name": "email", "label": "Email", "input-type": "email"},
                            {
                                "type": "RadioButtonsGroup",
                                "name": "plan",
                                "label": "Plan",
                                "data-source": [
                                    {"id": "basic", "title": "Basic"},
                                    {"id": "pro", "title": "Pro"},
                                ],
                            },
                            navigate_footer(
                                "CONFIRM",
                                {
                                    "first_name": "${form.first_name}",
                                    "email": "${form.email}",
                                    "plan": "${form.plan}",
                                },
                            ),
                        ],
                    }
                ],
            },
        },
        {
            "id": "CONFIRM",
            "title": "Confirm",
            "terminal": True,
            "data": declared(first_name="Ada", email="ada@example.com", plan="basic"),
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextHeading", "text": "Thanks ${data.first_name}"},
                    {
                        "type": "Form",
                        "name": "form",
                        "children": [
                            {"type": "OptIn", "name": "newsletter", "label": "Send me news"},
                            complete_footer(
                                {
                                    "first_name": "${data.first_name}",
                                    "plan": "${data.plan}",
                                    "news": "${form.newsletter}",
                                }
                            ),
                        ],
                    },
                ],
            },
        },
    ],
}

VALID_5_0 = flow(
    screen(
        "BOOKING",
        {"type": "TextHeading", "text": "Book a visit"},
        {"type": "DatePicker", "name": "day", "label": "Day", "required": True},
        {"type": "Dropdown", "name": "slot", "label": "Time", "data-source": options(3)},
        {
            "type": "CheckboxGroup",
            "name": "extras",
            "label": "Extras",
            "data-source": options(4),
            "max-selected-items": 2,
        },
        {
            "type": "If",
            "condition": "${form.day} != ''",
            "then": [{"type": "TextCaption", "text": "You picked ${form.day}"}],
            "else": [{"type": "TextCaption", "text": "Pick a day"}],
        },
        navigate_footer("DONE", {"day": "${form.day}", "slot": "${form.slot}", "extras": "${form.extras}"}),
        data={},
    ),
    screen(
        "DONE",
        {"type": "TextBody", "text": "Booked for ${data.day} (${screen.BOOKING.form.slot})"},
        {
            "type": "EmbeddedLink",
            "text": "Change the day",
            "on-click-action": {
                "name": "navigate",
                "next": {"type": "screen", "name": "BOOKING"},
                "payload": {},
            },
        },
        complete_footer(
            {"day": "${data.day}", "slot": "${data.slot}", "extras": "${screen.BOOKING.form.extras}"}
        ),
        terminal=True,
        data={
            "day": {"type": "string", "__example__": "2025-01-01"},
            "slot": {"type": "string", "__example__": "opt_0"},
            "extras": {"type": "array", "items": {"type": "string"}, "__example__": []},
        },
    ),
    version="5.0",
)

VALID_7_1 = flow(
    screen(
        "MENU",
        {"type": "TextHeading", "text": "${data.greeting}"},
        {
            "type": "NavigationList",
            "name": "topics",
            "list-items": [
                {
                    "id": "support",
                    "main-content": {"title": "Support"},
                    "on-click-action": {
                        "name": "navigate",
                        "next": {"type": "screen", "name": "SUPPORT"},
                        "payload": {},
                    },
                },
                {
                    "id": "sales",
                    "main-content": {"title": "Sales"},
                    "on-click-action": {
                        "name": "navigate",
                        "next": {"type": "screen", "name": "SALES"},
                        "payload": {},
                    },
                },
            ],
        },
        data=declared(greeting="Hello"),
    ),
    screen(
        "SUPPORT",
        {"type": "RichText", "text": ["# Support", "Tell us what happened."]},
        {"type": "TextArea", "name": "issue", "label": "Issue", "required": True},
        {
            "type": "ChipsSelector",
            "name": "areas",
            "label": "Areas",
            "data-source": options(3),
            "max-selected-items": 2,
        },
        {
            "type": "Switch",
            "value": "${form.areas}",
            "cases": {
                "opt_0": [{"type": "TextCaption", "text": "Billing team"}],
                "opt_1": [{"type": "TextCaption", "text": "Network team"}],
            },
        },
        complete_footer({"issue": "${form.issue}", "areas": "${form.areas}"}),
        terminal=True,
    ),
    screen(
        "SALES",
        {"type": "CalendarPicker", "name": "visit", "label": "Visit", "mode": "single"},
        {"type": "OptIn", "name": "consent", "label": "I agree to be contacted"},
        {
            "type": "If",
            "condition": "${form.consent}",
            "then": [complete_footer({"visit": "${form.visit}"}, label="Book")],
            "else": [complete_footer({"visit": "${form.visit}"}, label="Book without contact")],
        },
        terminal=True,
    ),
)

VALID_ENDPOINT = flow(
    screen(
        "START",
        {"type": "TextInput", "name": "zip", "label": "Postal code"},
        {
            "type": "Footer",
            "label": "Search",
            "on-click-action": {"name": "data_exchange", "payload": {"zip": "${form.zip}"}},
        },
    ),
    screen(
        "RESULTS",
        {"type": "Dropdown", "name": "store", "label": "Store", "data-source": "${data.stores}"},
        complete_footer({"store": "${form.store}"}),
        terminal=True,
        data={
            "stores": {
                "type": "array",
                "items": {"type": "object"},
                "__example__": [{"id": "1", "title": "A"}],
            }
        },
    ),
    data_api_version="3.0",
    routing_model={"START": ["RESULTS"], "RESULTS": []},
)


@pytest.mark.parametrize(
    "valid_flow",
    [VALID_3_1, VALID_5_0, VALID_7_1],
    ids=["3.1-with-forms", "5.0-if-global-refs", "7.1-navlist-switch"],
)
def test_real_flows_of_several_versions_pass(valid_flow):
    assert validate_flow_json(valid_flow) == []


def test_valid_flow_given_as_text_or_bytes_passes():
    assert validate_flow_json(json.dumps(VALID_7_1)) == []
    assert validate_flow_json(json.dumps(VALID_7_1).encode()) == []


def test_endpoint_flow_passes_with_data_api_version_and_routing_model():
    assert validate_flow_json(VALID_ENDPOINT) == []
    assert validate_flow_json(VALID_ENDPOINT, has_endpoint=True) == []


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_every_supported_version_accepts_a_minimal_flow(version):
    assert validate_flow_json(one_screen({"type": "TextBody", "text": "Hi"}, version=version)) == []


def test_component_specs_cover_every_component_meta_lists():
    assert meta.FLOW_COMPONENTS <= set(COMPONENT_SPECS)


# --- JSON, version, data API version ----------------------------------------------------------


def test_syntax_error_is_one_error_at_the_document_with_line_and_column():
    error = only_error(validate_flow_json('{\n  "version": "7.1",\n  "screens": [,]\n}'))
    assert (error.pointer, error.error, error.line, error.column) == ("", "INVALID_JSON", 3, 15)
    assert "line 3" in error.message
    assert error.as_meta_dict()["line_start"] == 3


def test_document_must_be_an_object():
    assert codes(validate_flow_json("[]")) == ["INVALID_PROPERTY_TYPE"]


@pytest.mark.parametrize("version", ["1.0", "2.0", "8.0", "7", 7.1, ""])
def test_unsupported_version(version):
    errors = validate_flow_json(one_screen({"type": "TextBody", "text": "Hi"}, version=version))
    assert only_error(errors).error == "UNSUPPORTED_VERSION"
    assert errors[0].pointer == "/version"


def test_missing_version():
    document = one_screen({"type": "TextBody", "text": "Hi"})
    del document["version"]
    assert only_error(validate_flow_json(document)).pointer == "/version"


def test_unsupported_data_api_version():
    document = copy.deepcopy(VALID_ENDPOINT)
    document["data_api_version"] = "2.0"
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("UNSUPPORTED_DATA_API_VERSION", "/data_api_version")


def test_flow_with_an_endpoint_needs_data_api_version():
    document = one_screen({"type": "TextBody", "text": "Hi"})
    document["routing_model"] = {"ONLY": []}
    error = only_error(validate_flow_json(document, has_endpoint=True))
    assert (error.error, error.pointer) == ("MISSING_REQUIRED_PROPERTY", "/data_api_version")


def test_data_channel_uri_is_refused_from_version_3():
    document = one_screen({"type": "TextBody", "text": "Hi"}, version="3.0")
    document["data_channel_uri"] = "https://example.com/flow"
    assert only_error(validate_flow_json(document)).pointer == "/data_channel_uri"
    document["version"] = "2.1"
    assert validate_flow_json(document) == []


# --- routing model -----------------------------------------------------------------------------


def test_routing_model_keys_must_be_existing_screens():
    document = copy.deepcopy(VALID_ENDPOINT)
    document["routing_model"]["GHOST"] = []
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("INVALID_ROUTING_MODEL", "/routing_model/GHOST")


def test_routing_model_targets_must_be_existing_screens():
    document = copy.deepcopy(VALID_ENDPOINT)
    document["routing_model"]["START"] = ["RESULTS", "NOWHERE"]
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("INVALID_ROUTING_MODEL", "/routing_model/START/1")


def test_routing_model_must_be_an_object_of_lists():
    document = copy.deepcopy(VALID_ENDPOINT)
    document["routing_model"] = {"START": "RESULTS", "RESULTS": []}
    assert "INVALID_PROPERTY_TYPE" in codes(validate_flow_json(document))


def test_endpoint_flow_needs_a_routing_model():
    document = copy.deepcopy(VALID_ENDPOINT)
    del document["routing_model"]
    assert ("MISSING_REQUIRED_PROPERTY", "/routing_model") in [
        (e.error, e.pointer) for e in validate_flow_json(document)
    ]


def test_navigation_must_follow_the_routing_model():
    document = copy.deepcopy(VALID_ENDPOINT)
    document["screens"].insert(
        1, screen("EXTRA", {"type": "TextBody", "text": "x"}, navigate_footer("RESULTS"))
    )
    document["screens"][0]["layout"]["children"][1] = navigate_footer("EXTRA")
    document["routing_model"] = {"START": ["RESULTS"], "EXTRA": ["RESULTS"], "RESULTS": []}
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == (
        "ROUTE_NOT_IN_ROUTING_MODEL",
        "/screens/0/layout/children/1/on-click-action/next/name",
    )


# --- screens -----------------------------------------------------------------------------------


def test_screens_are_required_and_must_be_a_non_empty_list():
    assert codes(validate_flow_json({"version": "7.1"})) == ["MISSING_REQUIRED_PROPERTY"]
    assert codes(validate_flow_json({"version": "7.1", "screens": {}})) == ["INVALID_PROPERTY_TYPE"]
    assert codes(validate_flow_json({"version": "7.1", "screens": []})) == ["NO_SCREENS"]


@pytest.mark.parametrize("bad_id", ["welcome", "STEP_1", "SCREEN-ONE", "Screen", "", 7])
def test_screen_id_uses_only_capitals_and_underscores(bad_id):
    document = one_screen({"type": "TextBody", "text": "Hi"})
    document["screens"][0]["id"] = bad_id
    errors = validate_flow_json(document)
    assert ("INVALID_SCREEN_ID", "/screens/0/id") in [(e.error, e.pointer) for e in errors]


def test_success_is_a_reserved_screen_id():
    document = one_screen({"type": "TextBody", "text": "Hi"})
    document["screens"][0]["id"] = "SUCCESS"
    assert only_error(validate_flow_json(document)).error == "RESERVED_SCREEN_ID"


def test_screen_ids_are_unique():
    document = flow(
        screen("FIRST", navigate_footer("SECOND")),
        screen("SECOND", complete_footer(), terminal=True),
        screen("SECOND", complete_footer(), terminal=True),
    )
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("DUPLICATE_SCREEN_ID", "/screens/2/id")


def test_every_screen_must_be_reachable_from_the_first():
    document = flow(
        screen("FIRST", navigate_footer("SECOND")),
        screen("SECOND", complete_footer(), terminal=True),
        screen("ORPHAN", complete_footer(), terminal=True),
    )
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("UNREACHABLE_SCREEN", "/screens/2/id")


def test_navigation_inside_if_and_switch_branches_makes_screens_reachable():
    document = flow(
        screen(
            "FIRST",
            {"type": "OptIn", "name": "vip", "label": "VIP"},
            {
                "type": "If",
                "condition": "${form.vip}",
                "then": [navigate_footer("VIP")],
                "else": [
                    {
                        "type": "Switch",
                        "value": "${form.vip}",
                        "cases": {"false": [navigate_footer("REGULAR")]},
                    }
                ],
            },
        ),
        screen("VIP", complete_footer(), terminal=True),
        screen("REGULAR", complete_footer(), terminal=True),
    )
    assert validate_flow_json(document) == []


def test_routing_model_makes_screens_reachable_for_endpoint_flows():
    assert validate_flow_json(VALID_ENDPOINT) == []  # RESULTS is reached only through the routing model
    document = copy.deepcopy(VALID_ENDPOINT)
    document["routing_model"]["START"] = []
    assert "UNREACHABLE_SCREEN" in codes(validate_flow_json(document))


def test_a_flow_needs_a_terminal_screen():
    document = flow(screen("FIRST", {"type": "TextBody", "text": "Hi"}))
    assert codes(validate_flow_json(document)) == ["NO_TERMINAL_SCREEN"]


def test_terminal_screen_needs_a_footer():
    document = flow(screen("FIRST", {"type": "TextBody", "text": "Hi"}, terminal=True))
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("TERMINAL_SCREEN_WITHOUT_FOOTER", "/screens/0")


def test_terminal_must_be_a_boolean():
    document = one_screen({"type": "TextBody", "text": "Hi"})
    document["screens"][0]["terminal"] = "yes"
    assert "INVALID_PROPERTY_TYPE" in codes(validate_flow_json(document))


def test_navigation_targets_must_exist():
    document = flow(
        screen("FIRST", navigate_footer("NOWHERE")), screen("LAST", complete_footer(), terminal=True)
    )
    errors = validate_flow_json(document)
    assert ("UNKNOWN_SCREEN", "/screens/0/layout/children/0/on-click-action/next/name") in [
        (e.error, e.pointer) for e in errors
    ]


def test_complete_only_on_terminal_screens():
    document = flow(screen("FIRST", complete_footer()), screen("LAST", complete_footer(), terminal=True))
    errors = [e for e in validate_flow_json(document) if e.error != "UNREACHABLE_SCREEN"]
    error = only_error(errors)
    assert (error.error, error.pointer) == (
        "COMPLETE_ON_NON_TERMINAL_SCREEN",
        "/screens/0/layout/children/0/on-click-action/name",
    )


def test_data_exchange_needs_an_endpoint():
    exchange = {"type": "Footer", "label": "Go", "on-click-action": {"name": "data_exchange", "payload": {}}}
    document = flow(screen("FIRST", exchange, terminal=True))
    assert codes(validate_flow_json(document)) == ["DATA_EXCHANGE_WITHOUT_ENDPOINT"]
    endpoint_flow = {**document, "data_api_version": "3.0", "routing_model": {"FIRST": []}}
    assert validate_flow_json(endpoint_flow) == []
    assert validate_flow_json(endpoint_flow, has_endpoint=True) == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"name": {"__example__": "x"}}, "INVALID_DATA_DECLARATION"),
        ({"name": {"type": "text", "__example__": "x"}}, "INVALID_DATA_DECLARATION"),
        ({"name": {"type": "string"}}, "INVALID_DATA_DECLARATION"),
        (["name"], "INVALID_PROPERTY_TYPE"),
    ],
)
def test_screen_data_declares_type_and_example(data, code):
    document = one_screen({"type": "TextBody", "text": "Hi"}, data=data)
    assert codes(validate_flow_json(document)) == [code]


# --- layout ------------------------------------------------------------------------------------


def test_layout_type_must_be_single_column():
    document = one_screen({"type": "TextBody", "text": "Hi"})
    document["screens"][0]["layout"]["type"] = "TwoColumnLayout"
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("INVALID_LAYOUT_TYPE", "/screens/0/layout/type")


def test_layout_is_required():
    document = one_screen({"type": "TextBody", "text": "Hi"})
    del document["screens"][0]["layout"]
    assert ("MISSING_REQUIRED_PROPERTY", "/screens/0/layout") in [
        (e.error, e.pointer) for e in validate_flow_json(document)
    ]


def test_at_most_fifty_components_counting_nested_ones():
    def document_with(body_count: int) -> dict:
        nested = {
            "type": "If",
            "condition": "${data.show}",
            "then": [{"type": "TextBody", "text": "x"}] * body_count,
        }
        # If + its bodies + the Footer.
        return one_screen(nested, data={"show": {"type": "boolean", "__example__": True}})

    assert validate_flow_json(document_with(48)) == []
    error = only_error(validate_flow_json(document_with(49)))
    assert (error.error, error.pointer) == ("TOO_MANY_COMPONENTS", "/screens/0/layout/children")


def test_at_most_one_footer_per_screen():
    document = one_screen(complete_footer())
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("MULTIPLE_FOOTERS", "/screens/0/layout/children")


def test_footer_in_each_if_branch_counts_once_but_not_beside_another():
    branches = {
        "type": "If",
        "condition": "${data.a}",
        "then": [complete_footer()],
        "else": [complete_footer()],
    }
    data = {"a": {"type": "boolean", "__example__": True}}
    assert validate_flow_json(flow(screen("ONLY", branches, terminal=True, data=data))) == []
    assert codes(validate_flow_json(one_screen(branches, data=data))) == ["MULTIPLE_FOOTERS"]


# --- components --------------------------------------------------------------------------------


def test_unknown_component_type():
    error = only_error(validate_flow_json(one_screen({"type": "Carousel", "text": "x"})))
    assert (error.error, error.pointer) == ("UNKNOWN_COMPONENT", "/screens/0/layout/children/0/type")


def test_component_must_be_an_object_with_a_type():
    assert codes(validate_flow_json(one_screen("TextBody"))) == ["INVALID_PROPERTY_TYPE"]
    assert codes(validate_flow_json(one_screen({"text": "x"}))) == ["MISSING_REQUIRED_PROPERTY"]


@pytest.mark.parametrize(
    ("component", "missing"),
    [
        ({"type": "TextHeading"}, "text"),
        ({"type": "TextSubheading"}, "text"),
        ({"type": "TextBody", "text": ""}, "text"),
        ({"type": "TextCaption"}, "text"),
        ({"type": "TextInput", "label": "Name"}, "name"),
        ({"type": "TextInput", "name": "n"}, "label"),
        ({"type": "TextArea", "name": "n"}, "label"),
        ({"type": "Dropdown", "name": "d", "label": "D"}, "data-source"),
        ({"type": "Dropdown", "name": "d", "data-source": options(1)}, "label"),
        ({"type": "RadioButtonsGroup", "label": "R", "data-source": options(1)}, "name"),
        ({"type": "CheckboxGroup", "name": "c", "label": "C"}, "data-source"),
        ({"type": "OptIn", "name": "o"}, "label"),
        ({"type": "OptIn", "label": "Agree"}, "name"),
        ({"type": "EmbeddedLink", "text": "More"}, "on-click-action"),
        ({"type": "DatePicker", "name": "d"}, "label"),
        ({"type": "Image"}, "src"),
        ({"type": "If", "then": []}, "condition"),
        ({"type": "If", "condition": "${data.a}"}, "then"),
    ],
)
def test_required_properties(component, missing):
    document = one_screen(component, data={"a": {"type": "boolean", "__example__": True}})
    errors = validate_flow_json(document)
    assert ("MISSING_REQUIRED_PROPERTY", f"/screens/0/layout/children/0/{missing}") in [
        (e.error, e.pointer) for e in errors
    ]


def test_footer_needs_label_and_action():
    document = flow(screen("ONLY", {"type": "Footer"}, terminal=True))
    pointers = [e.pointer for e in validate_flow_json(document) if e.error == "MISSING_REQUIRED_PROPERTY"]
    assert pointers == ["/screens/0/layout/children/0/label", "/screens/0/layout/children/0/on-click-action"]


@pytest.mark.parametrize(
    ("component", "prop", "limit"),
    [
        ({"type": "TextHeading"}, "text", 80),
        ({"type": "TextSubheading"}, "text", 80),
        ({"type": "TextBody"}, "text", 4096),
        ({"type": "TextCaption"}, "text", 4096),
        ({"type": "TextInput", "name": "n", "label": "L"}, "label", 20),
        ({"type": "TextInput", "name": "n", "label": "L"}, "helper-text", 80),
        ({"type": "TextArea", "name": "n", "label": "L"}, "label", 20),
        ({"type": "TextArea", "name": "n", "label": "L"}, "helper-text", 80),
        ({"type": "CheckboxGroup", "name": "n", "data-source": options(1)}, "label", 30),
        ({"type": "RadioButtonsGroup", "name": "n", "data-source": options(1)}, "label", 30),
        ({"type": "Dropdown", "name": "n", "data-source": options(1)}, "label", 30),
    ],
)
def test_text_limits(component, prop, limit):
    assert validate_flow_json(one_screen({**component, prop: "x" * limit})) == []
    error = only_error(validate_flow_json(one_screen({**component, prop: "x" * (limit + 1)})))
    assert (error.error, error.pointer) == ("TEXT_TOO_LONG", f"/screens/0/layout/children/0/{prop}")


def test_footer_label_limit():
    assert validate_flow_json(flow(screen("ONLY", complete_footer(label="x" * 35), terminal=True))) == []
    errors = validate_flow_json(flow(screen("ONLY", complete_footer(label="x" * 36), terminal=True)))
    assert (only_error(errors).error, errors[0].pointer) == (
        "TEXT_TOO_LONG",
        "/screens/0/layout/children/0/label",
    )


@pytest.mark.parametrize(("prop", "limit"), [("title", 30), ("description", 300)])
def test_option_text_limits(prop, limit):
    def radio(length: int) -> dict:
        option = {"id": "a", "title": "A", prop: "x" * length}
        return {"type": "RadioButtonsGroup", "name": "r", "label": "R", "data-source": [option]}

    assert validate_flow_json(one_screen(radio(limit))) == []
    error = only_error(validate_flow_json(one_screen(radio(limit + 1))))
    assert (error.error, error.pointer) == (
        "TEXT_TOO_LONG",
        f"/screens/0/layout/children/0/data-source/0/{prop}",
    )


def test_dynamic_values_are_not_measured():
    text = "${data.long_text}" + "x" * 80
    document = one_screen({"type": "TextHeading", "text": text}, data=declared(long_text="Hello"))
    assert validate_flow_json(document) == []


@pytest.mark.parametrize("input_type", ["text", "number", "email", "password", "passcode", "phone"])
def test_text_input_types_meta_accepts(input_type):
    assert (
        validate_flow_json(
            one_screen({"type": "TextInput", "name": "n", "label": "L", "input-type": input_type})
        )
        == []
    )


@pytest.mark.parametrize("input_type", ["url", "date", "Email"])
def test_text_input_type_must_be_known(input_type):
    document = one_screen({"type": "TextInput", "name": "n", "label": "L", "input-type": input_type})
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("INVALID_INPUT_TYPE", "/screens/0/layout/children/0/input-type")


@pytest.mark.parametrize(("count", "code"), [(0, "TOO_FEW_OPTIONS"), (201, "TOO_MANY_OPTIONS")])
def test_dropdown_has_one_to_two_hundred_options(count, code):
    assert (
        validate_flow_json(
            one_screen({"type": "Dropdown", "name": "d", "label": "D", "data-source": options(200)})
        )
        == []
    )
    document = one_screen({"type": "Dropdown", "name": "d", "label": "D", "data-source": options(count)})
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == (code, "/screens/0/layout/children/0/data-source")


def test_option_ids_are_unique():
    source = [{"id": "a", "title": "A"}, {"id": "a", "title": "Again"}]
    error = only_error(
        validate_flow_json(one_screen({"type": "RadioButtonsGroup", "name": "r", "data-source": source}))
    )
    assert (error.error, error.pointer) == (
        "DUPLICATE_OPTION_ID",
        "/screens/0/layout/children/0/data-source/1/id",
    )


def test_options_need_id_and_title():
    source = [{"title": "A"}, {"id": "b"}]
    errors = validate_flow_json(one_screen({"type": "CheckboxGroup", "name": "c", "data-source": source}))
    assert [(e.error, e.pointer.rsplit("/", 2)[-2:]) for e in errors] == [
        ("MISSING_REQUIRED_PROPERTY", ["0", "id"]),
        ("MISSING_REQUIRED_PROPERTY", ["1", "title"]),
    ]


def test_data_source_may_be_dynamic_but_not_plain_text():
    dynamic = {"type": "Dropdown", "name": "d", "label": "D", "data-source": "${data.choices}"}
    data = {"choices": {"type": "array", "items": {"type": "object"}, "__example__": []}}
    assert validate_flow_json(one_screen(dynamic, data=data)) == []
    plain = {**dynamic, "data-source": "choices"}
    assert codes(validate_flow_json(one_screen(plain, data=data))) == ["INVALID_PROPERTY_TYPE"]


def test_checkbox_group_selects_at_most_twenty():
    group = {"type": "CheckboxGroup", "name": "c", "data-source": options(25)}
    assert validate_flow_json(one_screen({**group, "max-selected-items": 20})) == []
    error = only_error(validate_flow_json(one_screen({**group, "max-selected-items": 21})))
    assert (error.error, error.pointer) == (
        "MAX_SELECTED_ITEMS_EXCEEDED",
        "/screens/0/layout/children/0/max-selected-items",
    )


def test_navigation_list_items_need_unique_ids_and_a_title():
    items = [{"id": "a", "main-content": {"title": "A"}}, {"id": "a", "main-content": {}}]
    document = one_screen({"type": "NavigationList", "name": "nav", "list-items": items})
    assert codes(validate_flow_json(document)) == ["DUPLICATE_OPTION_ID", "MISSING_REQUIRED_PROPERTY"]


@pytest.mark.parametrize(
    ("component", "version"),
    [
        ({"type": "If", "condition": "${data.a}", "then": []}, "3.1"),
        ({"type": "Switch", "value": "${data.a}", "cases": {}}, "3.1"),
        ({"type": "RichText", "text": "# Hi"}, "5.0"),
        ({"type": "CalendarPicker", "name": "c", "label": "C"}, "6.0"),
        ({"type": "NavigationList", "name": "n", "list-items": []}, "6.1"),
        ({"type": "ChipsSelector", "name": "c", "label": "C", "data-source": options(2)}, "6.2"),
    ],
)
def test_components_newer_than_the_flow_version(component, version):
    data = {"a": {"type": "boolean", "__example__": True}}
    if COMPONENT_SPECS[component["type"]].is_input and version < "4.0":
        component = {"type": "Form", "name": "form", "children": [component]}
    errors = validate_flow_json(one_screen(component, version=version, data=data))
    assert "NOT_SUPPORTED_IN_VERSION" in codes(errors)


def test_actions_newer_than_the_flow_version():
    link = {
        "type": "EmbeddedLink",
        "text": "Site",
        "on-click-action": {"name": "open_url", "url": "https://example.com"},
    }
    assert validate_flow_json(one_screen(link, version="6.0")) == []
    error = only_error(validate_flow_json(one_screen(link, version="5.1")))
    assert (error.error, error.pointer) == (
        "NOT_SUPPORTED_IN_VERSION",
        "/screens/0/layout/children/0/on-click-action/name",
    )


def test_before_version_4_inputs_live_in_a_form():
    document = one_screen({"type": "TextInput", "name": "n", "label": "Name"}, version="3.1")
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("INPUT_OUTSIDE_FORM", "/screens/0/layout/children/0")


@pytest.mark.parametrize(
    ("component", "pointer_tail"),
    [
        (
            {"type": "EmbeddedLink", "text": "x", "on-click-action": {"name": "complete", "payload": {}}},
            "name",
        ),
        ({"type": "EmbeddedLink", "text": "x", "on-click-action": {"name": "teleport"}}, "name"),
        ({"type": "EmbeddedLink", "text": "x", "on-click-action": "navigate"}, ""),
    ],
)
def test_actions_must_be_known_and_allowed_where_used(component, pointer_tail):
    error = only_error(validate_flow_json(one_screen(component)))
    expected = "/screens/0/layout/children/0/on-click-action" + (f"/{pointer_tail}" if pointer_tail else "")
    assert (error.error, error.pointer) == ("INVALID_ACTION", expected)


def test_navigate_needs_a_next_screen():
    footer = {"type": "Footer", "label": "Go", "on-click-action": {"name": "navigate", "payload": {}}}
    document = flow(screen("FIRST", footer), screen("LAST", complete_footer(), terminal=True))
    assert ("MISSING_REQUIRED_PROPERTY", "/screens/0/layout/children/0/on-click-action/next") in [
        (e.error, e.pointer) for e in validate_flow_json(document)
    ]


# --- dynamic references ------------------------------------------------------------------------


def test_data_reference_must_be_declared():
    document = one_screen({"type": "TextBody", "text": "Hi ${data.name}"}, data=declared(nickname="Al"))
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("UNDECLARED_DATA_REFERENCE", "/screens/0/layout/children/0/text")


def test_deeper_data_paths_only_need_their_first_field_declared():
    data = {"address": {"type": "object", "properties": {}, "__example__": {"city": "Nairobi"}}}
    assert (
        validate_flow_json(one_screen({"type": "TextBody", "text": "${data.address.city}"}, data=data)) == []
    )


def test_form_reference_must_name_an_input_on_the_screen():
    document = flow(
        screen(
            "ONLY",
            {"type": "TextInput", "name": "first_name", "label": "Name"},
            complete_footer({"name": "${form.first}"}),
            terminal=True,
        )
    )
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == (
        "UNDECLARED_FORM_REFERENCE",
        "/screens/0/layout/children/1/on-click-action/payload/name",
    )


def test_form_references_see_inputs_nested_in_forms_and_branches():
    assert validate_flow_json(VALID_3_1) == []
    document = one_screen(
        {"type": "OptIn", "name": "agree", "label": "Agree"},
        {
            "type": "If",
            "condition": "${form.agree}",
            "then": [{"type": "TextInput", "name": "reason", "label": "Why"}],
        },
        {"type": "TextCaption", "text": "${form.reason}"},
    )
    assert validate_flow_json(document) == []


def test_references_in_navigate_payloads_are_checked():
    document = flow(
        screen(
            "FIRST",
            {"type": "TextInput", "name": "n", "label": "N"},
            navigate_footer("LAST", {"n": "${form.nope}"}),
        ),
        screen("LAST", complete_footer(), terminal=True),
    )
    error = only_error(validate_flow_json(document))
    assert error.pointer == "/screens/0/layout/children/1/on-click-action/payload/n"


def test_global_references_resolve_against_the_named_screen():
    assert validate_flow_json(VALID_5_0) == []
    for bad, code in [
        ("${screen.NOWHERE.form.day}", "INVALID_DYNAMIC_REFERENCE"),
        ("${screen.BOOKING.form.month}", "UNDECLARED_FORM_REFERENCE"),
        ("${screen.BOOKING.data.day}", "UNDECLARED_DATA_REFERENCE"),
    ]:
        document = copy.deepcopy(VALID_5_0)
        document["screens"][1]["layout"]["children"][0]["text"] = bad
        assert codes(validate_flow_json(document)) == [code], bad


def test_global_references_need_version_4():
    document = copy.deepcopy(VALID_3_1)
    document["screens"][1]["layout"]["children"][0]["text"] = "${screen.SIGN_UP.form.first_name}"
    assert codes(validate_flow_json(document)) == ["NOT_SUPPORTED_IN_VERSION"]


def test_reference_roots_are_data_form_or_screen():
    error = only_error(validate_flow_json(one_screen({"type": "TextBody", "text": "${user.name}"})))
    assert error.error == "INVALID_DYNAMIC_REFERENCE"


def test_duplicate_input_names_on_a_screen():
    document = one_screen(
        {"type": "TextInput", "name": "email", "label": "Email"},
        {"type": "TextArea", "name": "email", "label": "Email again"},
    )
    error = only_error(validate_flow_json(document))
    assert (error.error, error.pointer) == ("DUPLICATE_INPUT_NAME", "/screens/0/layout/children/0/name")


# --- error values ------------------------------------------------------------------------------


def test_errors_render_like_metas_validation_errors():
    error = only_error(validate_flow_json(one_screen({"type": "TextHeading", "text": "x" * 81})))
    assert error.as_meta_dict() == {
        "error": "TEXT_TOO_LONG",
        "error_type": "JSON_SCHEMA_ERROR",
        "message": error.message,
        "pointers": [{"path": "screens[0].layout.children[0].text"}],
    }
    with pytest.raises(AttributeError):
        error.pointer = "/"


def test_pointer_tokens_are_escaped():
    document = one_screen(
        {
            "type": "Switch",
            "value": "${data.a}",
            "cases": {"a/b": [{"type": "Carousel"}]},
        },
        data=declared(a="a/b"),
    )
    error = only_error(validate_flow_json(document))
    assert error.pointer == "/screens/0/layout/children/0/cases/a~1b/0/type"


# --- hostile input: errors, never exceptions -------------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_text_nested_deeper_than_the_parser_allows_is_an_error(text):
    error = only_error(validate_flow_json(text))

    assert (error.error, error.pointer, error.error_type) == ("NESTED_TOO_DEEPLY", "", "JSON_SYNTAX_ERROR")


def test_a_document_nested_deeper_than_any_flow_is_an_error_at_the_deep_value():
    deep: Any = {"type": "TextBody", "text": "x"}
    for _ in range(200):
        deep = {"type": "Form", "name": "f", "children": [deep]}

    error = only_error(validate_flow_json(one_screen(deep)))

    assert error.error == "NESTED_TOO_DEEPLY"
    assert error.pointer.startswith("/screens/0/layout/children/0/children/0/children/0")


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ({"version": ["7.1"], "screens": []}, "UNSUPPORTED_VERSION"),
        (flow(screen("ONLY", complete_footer(), terminal=True), data_api_version={"v": 3}), "UNSUPPORTED_DATA_API_VERSION"),
        (flow({"id": "ONLY", "terminal": True, "layout": {"type": ["SingleColumnLayout"], "children": []}}),
         "INVALID_LAYOUT_TYPE"),
        (one_screen({"type": "TextInput", "name": "n", "label": "N", "input-type": ["text"]}), "INVALID_INPUT_TYPE"),
        (one_screen({"type": "Footer", "label": "Go", "on-click-action": {"name": ["complete"]}}), "INVALID_ACTION"),
        (one_screen(data={"d": {"type": ["string"], "__example__": "x"}}), "INVALID_DATA_DECLARATION"),
    ],
)
def test_a_list_where_a_name_belongs_is_an_error_not_a_crash(document, code):
    assert code in codes(validate_flow_json(document))


def test_a_list_as_a_component_type_or_routing_target_is_an_error_not_a_crash():
    document = one_screen({"type": "TextBody", "text": "${data.x}"})
    document["screens"][0]["layout"]["children"][0]["type"] = ["Form"]
    document["routing_model"] = {"ONLY": [["ONLY"]]}

    assert {"UNKNOWN_COMPONENT", "INVALID_ROUTING_MODEL"} <= set(codes(validate_flow_json(document)))
