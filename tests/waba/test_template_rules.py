"""Meta's template rules, checked offline: each rule's failing example and the field it names."""

from __future__ import annotations

import copy

import pytest

from waba.template_rules import parameter_format, template_errors

BODY = {
    "type": "BODY",
    "text": "Hi {{1}}, your order {{2}} is ready.",
    "example": {"body_text": [["Ana", "A-1"]]},
}


def errors_of(components=None, *, name="order_ready", language="en_US", category="UTILITY"):
    return {
        e["field"]: e["message"]
        for e in template_errors(
            name=name, language=language, category=category, components=components or [BODY]
        )
    }


def with_body(text, example=None):
    body = {"type": "BODY", "text": text}
    if example is not None:
        body["example"] = example
    return [body]


def with_buttons(*buttons):
    return [copy.deepcopy(BODY), {"type": "BUTTONS", "buttons": list(buttons)}]


def test_a_good_template_passes():
    assert errors_of() == {}
    full = [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["A-1"]}},
        copy.deepcopy(BODY),
        {"type": "FOOTER", "text": "Alpha Coffee"},
        {
            "type": "BUTTONS",
            "buttons": [
                {
                    "type": "URL",
                    "text": "Track",
                    "url": "https://a.example/t/{{1}}",
                    "example": ["https://a.example/t/1"],
                },
                {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550100001"},
                {"type": "COPY_CODE", "example": "SAVE10"},
            ],
        },
    ]
    assert errors_of(full) == {}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Order Ready"}, "name"),
        ({"name": "x" * 513}, "name"),
        ({"language": "english"}, "language"),
        ({"language": "xx_YY"}, "language"),
        ({"category": "PROMO"}, "category"),
    ],
)
def test_name_language_and_category(kwargs, field):
    assert field in errors_of(**kwargs)


@pytest.mark.parametrize(
    ("components", "field", "words"),
    [
        ([{"type": "FOOTER", "text": "f"}], "components", "BODY component is required"),
        ([BODY, {"type": "BODY", "text": "again"}], "components[1].type", "Only one BODY"),
        ([BODY, {"type": "CAROUSEL"}], "components[1].type", "Must be one of"),
        (with_body(""), "components[0].text", "required"),
        (with_body("x" * 1025), "components[0].text", "At most 1024"),
        (with_body("Hi {{1}} and {{3}}.", {"body_text": [["a", "b"]]}), "components[0].text", "without gaps"),
        (with_body("Hi {{2}} there.", {"body_text": [["a"]]}), "components[0].text", "starting at 1"),
        (with_body("Hi {{1}} and {{name}}.", {"body_text": [["a", "b"]]}), "components[0].text", "not both"),
        (with_body("Hi {{First}} there."), "components[0].text", "lowercase"),
        (
            with_body("{{1}}, your order is ready.", {"body_text": [["Ana"]]}),
            "components[0].text",
            "first or last",
        ),
        (
            with_body("Your order is ready, {{1}}", {"body_text": [["Ana"]]}),
            "components[0].text",
            "first or last",
        ),
        (
            with_body("Hi {{1}} {{2}} ready.", {"body_text": [["a", "b"]]}),
            "components[0].text",
            "next to each other",
        ),
        (with_body("Hi {{1}}, order {{2}} ready."), "components[0].example.body_text", "2 needed"),
        (
            with_body("Hi {{1}}, order {{2}} ready.", {"body_text": [["a"]]}),
            "components[0].example.body_text",
            "2 needed",
        ),
        (
            with_body("Hi {{1}}, order {{2}} ready.", {"body_text": [["a", " "]]}),
            "components[0].example.body_text",
            "sample",
        ),
        (
            with_body(
                "Hi {{first_name}}, ready.",
                {"body_text_named_params": [{"param_name": "other", "example": "x"}]},
            ),
            "components[0].example.body_text_named_params",
            "{{first_name}}",
        ),
    ],
)
def test_body_rules(components, field, words):
    found = errors_of(components)
    assert field in found, found
    assert words in found[field]


@pytest.mark.parametrize(
    ("header", "field", "words"),
    [
        ({"type": "HEADER", "format": "GIF"}, "components[0].format", "Must be one of"),
        ({"type": "HEADER", "format": "TEXT"}, "components[0].text", "needs text"),
        ({"type": "HEADER", "format": "TEXT", "text": "x" * 61}, "components[0].text", "At most 60"),
        (
            {"type": "HEADER", "format": "TEXT", "text": "{{1}} and {{2}}"},
            "components[0].text",
            "one variable",
        ),
        (
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
            "components[0].example.header_text",
            "sample",
        ),
        (
            {"type": "HEADER", "format": "IMAGE"},
            "components[0].example.header_handle",
            "image header needs a sample",
        ),
        (
            {"type": "HEADER", "format": "VIDEO", "example": {"header_handle": []}},
            "components[0].example.header_handle",
            "video",
        ),
        (
            {"type": "HEADER", "format": "DOCUMENT", "example": {}},
            "components[0].example.header_handle",
            "document",
        ),
    ],
)
def test_header_rules(header, field, words):
    found = errors_of([header, copy.deepcopy(BODY)])
    assert field in found, found
    assert words in found[field]


def test_header_formats_that_pass():
    assert errors_of([{"type": "HEADER", "format": "LOCATION"}, BODY]) == {}
    assert (
        errors_of([{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1n"]}}, BODY])
        == {}
    )
    named = {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Order {{order_id}}",
        "example": {"header_text_named_params": [{"param_name": "order_id", "example": "A-1"}]},
    }
    assert errors_of([named, BODY]) == {}


@pytest.mark.parametrize(
    ("footer", "words"),
    [
        ({"type": "FOOTER"}, "needs text"),
        ({"type": "FOOTER", "text": "x" * 61}, "At most 60"),
        ({"type": "FOOTER", "text": "Hi {{1}}"}, "cannot hold variables"),
    ],
)
def test_footer_rules(footer, words):
    assert words in errors_of([BODY, footer])["components[1].text"]


QUICK = {"type": "QUICK_REPLY", "text": "Yes"}
URL = {"type": "URL", "text": "Open", "url": "https://a.example/"}
PHONE = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550100001"}


@pytest.mark.parametrize(
    ("buttons", "field", "words"),
    [
        ([], "components[1].buttons", "1 to 10"),
        ([QUICK] * 11, "components[1].buttons", "1 to 10"),
        ([{"type": "SMS", "text": "x"}], "components[1].buttons[0].type", "Must be one of"),
        ([URL, URL, URL], "components[1].buttons[2].type", "At most 2 URL"),
        ([PHONE, PHONE], "components[1].buttons[1].type", "At most 1 PHONE_NUMBER"),
        (
            [{"type": "COPY_CODE", "example": "A"}, {"type": "COPY_CODE", "example": "B"}],
            "components[1].buttons[1].type",
            "At most 1 COPY_CODE",
        ),
        ([{"type": "QUICK_REPLY"}], "components[1].buttons[0].text", "label"),
        ([{"type": "QUICK_REPLY", "text": "x" * 26}], "components[1].buttons[0].text", "At most 25"),
        (
            [{"type": "URL", "text": "Open", "url": "ftp://a.example"}],
            "components[1].buttons[0].url",
            "http(s)",
        ),
        (
            [{"type": "URL", "text": "Open", "url": "https://a.example/{{1}}/x"}],
            "components[1].buttons[0].url",
            "at its end",
        ),
        (
            [{"type": "URL", "text": "Open", "url": "https://a.example/{{1}}{{2}}"}],
            "components[1].buttons[0].url",
            "one variable",
        ),
        (
            [{"type": "URL", "text": "Open", "url": "https://a.example/{{1}}"}],
            "components[1].buttons[0].example",
            "sample URL",
        ),
        (
            [{"type": "PHONE_NUMBER", "text": "Call", "phone_number": "call me"}],
            "components[1].buttons[0].phone_number",
            "country code",
        ),
        ([{"type": "COPY_CODE"}], "components[1].buttons[0].example", "sample code"),
        ([{"type": "COPY_CODE", "example": "x" * 16}], "components[1].buttons[0].example", "At most 15"),
        ([{"type": "FLOW", "text": "Book"}], "components[1].buttons[0].flow_id", "flow"),
    ],
)
def test_button_rules(buttons, field, words):
    found = errors_of(with_buttons(*buttons))
    assert field in found, found
    assert words in found[field]


def test_ten_quick_replies_are_allowed():
    assert errors_of(with_buttons(*[{"type": "QUICK_REPLY", "text": f"Option {n}"} for n in range(10)])) == {}


def test_authentication_templates_have_metas_own_text():
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ]
    assert errors_of(components, category="AUTHENTICATION") == {}


def test_parameter_format_follows_the_variables():
    assert parameter_format([BODY]) == "POSITIONAL"
    assert parameter_format(with_body("Hi {{first_name}}!")) == "NAMED"
