"""Interactive menu builder: Meta's exact shape, every limit at and past its boundary, truncate mode."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from messaging.interactive import (
    Button,
    MenuValidationError,
    Row,
    Section,
    build_list,
    build_reply_buttons,
    validate_interactive,
)
from waba import meta


def buttons(count: int) -> list[Button]:
    return [Button(id=f"b{i}", title=f"Option {i}") for i in range(count)]


def rows(count: int, prefix: str = "r") -> list[Row]:
    return [Row(id=f"{prefix}{i}", title=f"Row {i}") for i in range(count)]


def problems_of(excinfo: pytest.ExceptionInfo[MenuValidationError]) -> dict[str, tuple]:
    return {
        problem.field: (problem.kind, problem.limit, problem.actual) for problem in excinfo.value.problems
    }


def a_list(**overrides) -> dict:
    arguments: dict[str, Any] = {"body": "Pick one", "button_text": "Menu", "sections": [Section(None, rows(3))]}
    arguments.update(overrides)
    return build_list(**arguments)


# --- Meta's shape -------------------------------------------------------------------------------


def test_reply_buttons_payload_matches_meta_shape():
    built = build_reply_buttons(
        body="How can we help?",
        buttons=[Button("track", "Track order"), Button("agent", "Talk to us")],
        header="Acme support",
        footer="Replies within 1 h",
    )
    assert built == {
        "type": "button",
        "header": {"type": "text", "text": "Acme support"},
        "body": {"text": "How can we help?"},
        "footer": {"text": "Replies within 1 h"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "track", "title": "Track order"}},
                {"type": "reply", "reply": {"id": "agent", "title": "Talk to us"}},
            ]
        },
    }


def test_reply_buttons_without_header_or_footer_leave_them_out():
    built = build_reply_buttons(body="Yes?", buttons=[Button("y", "Yes")])
    assert list(built) == ["type", "body", "action"]


def test_reply_buttons_accept_a_media_header():
    header = {"type": "image", "image": {"link": "https://example.com/a.jpg"}}
    built = build_reply_buttons(body="Look", buttons=buttons(1), header=header)
    assert built["header"] == header


def test_list_payload_matches_meta_shape():
    built = build_list(
        body="Our menu",
        button_text="See options",
        header="Acme",
        footer="Tap to choose",
        sections=[
            Section("Coffee", [Row("espresso", "Espresso", "Short and strong"), Row("latte", "Latte")]),
            Section("Tea", [Row("green", "Green tea")]),
        ],
    )
    assert built == {
        "type": "list",
        "header": {"type": "text", "text": "Acme"},
        "body": {"text": "Our menu"},
        "footer": {"text": "Tap to choose"},
        "action": {
            "button": "See options",
            "sections": [
                {
                    "title": "Coffee",
                    "rows": [
                        {"id": "espresso", "title": "Espresso", "description": "Short and strong"},
                        {"id": "latte", "title": "Latte"},
                    ],
                },
                {"title": "Tea", "rows": [{"id": "green", "title": "Green tea"}]},
            ],
        },
    }


def test_a_single_section_needs_no_title():
    built = a_list(sections=[Section(None, rows(2))])
    assert built["action"]["sections"] == [
        {"rows": [{"id": "r0", "title": "Row 0"}, {"id": "r1", "title": "Row 1"}]}
    ]


# --- reply-button limits ------------------------------------------------------------------------


def test_exactly_three_buttons_pass_and_a_fourth_is_refused():
    assert len(build_reply_buttons(body="x", buttons=buttons(3))["action"]["buttons"]) == 3
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="x", buttons=buttons(4))
    assert problems_of(caught) == {"action.buttons[3]": ("too_many", 3, 4)}


def test_no_buttons_is_refused():
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="x", buttons=[])
    assert problems_of(caught) == {"action.buttons": ("required", None, None)}


def test_button_title_of_20_characters_passes_and_21_is_refused():
    build_reply_buttons(body="x", buttons=[Button("a", "t" * 20)])
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="x", buttons=[Button("a", "ok"), Button("b", "t" * 21)])
    assert problems_of(caught) == {"action.buttons[1].reply.title": ("too_long", 20, 21)}
    assert caught.value.problems[0].message == "at most 20 characters allowed, got 21"


def test_button_id_limit():
    build_reply_buttons(body="x", buttons=[Button("i" * 256, "ok")])
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="x", buttons=[Button("i" * 257, "ok")])
    assert problems_of(caught) == {"action.buttons[0].reply.id": ("too_long", 256, 257)}


def test_empty_button_title_and_id_are_refused():
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="x", buttons=[Button("", " ")])
    assert problems_of(caught) == {
        "action.buttons[0].reply.id": ("required", None, None),
        "action.buttons[0].reply.title": ("required", None, None),
    }


def test_duplicate_button_ids_are_refused():
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(
            body="x", buttons=[Button("same", "One"), Button("other", "Two"), Button("same", "Three")]
        )
    assert problems_of(caught) == {"action.buttons[2].reply.id": ("duplicate", None, None)}
    assert "action.buttons[0].reply.id" in caught.value.problems[0].message


@pytest.mark.parametrize("body", ["", "   "])
def test_empty_body_is_refused(body):
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body=body, buttons=buttons(1))
    assert problems_of(caught) == {"body.text": ("required", None, None)}


def test_body_header_and_footer_limits():
    build_reply_buttons(body="b" * 1024, header="h" * 60, footer="f" * 60, buttons=buttons(1))
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="b" * 1025, header="h" * 61, footer="f" * 61, buttons=buttons(1))
    assert problems_of(caught) == {
        "body.text": ("too_long", 1024, 1025),
        "header.text": ("too_long", 60, 61),
        "footer.text": ("too_long", 60, 61),
    }


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ({"type": "image", "image": {}}, "header.image"),
        ({"type": "video", "video": {"id": "1", "link": "https://x"}}, "header.video"),
        ({"type": "audio", "audio": {"id": "1"}}, "header.type"),
        ("", "header.text"),
    ],
)
def test_bad_headers_are_refused(header, field):
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="x", buttons=buttons(1), header=header)
    assert list(problems_of(caught)) == [field]


# --- list limits --------------------------------------------------------------------------------


def test_exactly_ten_rows_over_two_sections_pass():
    built = a_list(sections=[Section("First", rows(6, "a")), Section("Second", rows(4, "b"))])
    assert sum(len(section["rows"]) for section in built["action"]["sections"]) == 10


def test_an_eleventh_row_is_refused_even_spread_over_sections():
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=[Section("First", rows(6, "a")), Section("Second", rows(5, "b"))])
    assert problems_of(caught) == {"action.sections[1].rows[4]": ("too_many", 10, 11)}
    assert "across all sections" in caught.value.problems[0].message


def test_more_than_ten_sections_are_refused():
    sections = [Section(f"S{i}", [Row(f"r{i}", "Row")]) for i in range(11)]
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=sections)
    assert problems_of(caught) == {
        "action.sections[10]": ("too_many", 10, 11),
        "action.sections[10].rows[0]": ("too_many", 10, 11),
    }


def test_ten_sections_pass():
    a_list(sections=[Section(f"S{i}", [Row(f"r{i}", "Row")]) for i in range(10)])


def test_no_sections_and_empty_sections_are_refused():
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=[])
    assert problems_of(caught) == {"action.sections": ("required", None, None)}
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=[Section("Full", rows(2)), Section("Empty", [])])
    assert problems_of(caught) == {"action.sections[1].rows": ("required", None, None)}


def test_section_titles_are_required_when_there_are_several():
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=[Section("Coffee", rows(1, "a")), Section(None, rows(1, "b"))])
    assert problems_of(caught) == {"action.sections[1].title": ("required", None, None)}


def test_duplicate_row_ids_across_sections_are_refused():
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=[Section("A", [Row("x", "One")]), Section("B", [Row("y", "Two"), Row("x", "Three")])])
    assert problems_of(caught) == {"action.sections[1].rows[1].id": ("duplicate", None, None)}


def test_list_text_limits_at_the_boundary_pass():
    a_list(
        button_text="m" * 20,
        sections=[
            Section("s" * 24, [Row("i" * 200, "t" * 24, "d" * 72)]),
            Section("Other", [Row("other", "Other")]),
        ],
    )


def test_list_text_limits_past_the_boundary_are_refused():
    with pytest.raises(MenuValidationError) as caught:
        a_list(
            button_text="m" * 21,
            sections=[
                Section("Fine", rows(1)),
                Section("s" * 25, [Row("i" * 201, "t" * 25, "d" * 73)]),
            ],
        )
    assert problems_of(caught) == {
        "action.button": ("too_long", 20, 21),
        "action.sections[1].title": ("too_long", 24, 25),
        "action.sections[1].rows[0].id": ("too_long", 200, 201),
        "action.sections[1].rows[0].title": ("too_long", 24, 25),
        "action.sections[1].rows[0].description": ("too_long", 72, 73),
    }


def test_list_refuses_an_empty_button_text_and_media_header():
    with pytest.raises(MenuValidationError) as caught:
        a_list(button_text="")
    assert problems_of(caught) == {"action.button": ("required", None, None)}
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive({**a_list(), "header": {"type": "image", "image": {"id": "1"}}})
    assert problems_of(caught) == {"header.type": ("invalid", None, None)}


# --- the error ----------------------------------------------------------------------------------


def test_the_error_carries_a_stable_code_and_per_field_details():
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="", buttons=[Button("a", "t" * 21)])
    error = caught.value
    assert error.code == "invalid_interactive_message"
    assert error.status == 422
    assert error.retryable is False
    assert error.details == [
        {
            "field": "body.text",
            "kind": "required",
            "limit": None,
            "actual": None,
            "message": "must not be empty",
        },
        {
            "field": "action.buttons[0].reply.title",
            "kind": "too_long",
            "limit": 20,
            "actual": 21,
            "message": "at most 20 characters allowed, got 21",
        },
    ]
    assert str(error).startswith("2 problems in the interactive message: body.text")


# --- truncate mode ------------------------------------------------------------------------------


def test_truncate_shortens_texts_with_an_ellipsis_that_fits():
    built = build_reply_buttons(
        body="b" * 1100,
        header="h" * 70,
        footer="f" * 61,
        buttons=[Button("a", "A very long button title indeed")],
        truncate=True,
    )
    assert built["body"]["text"] == "b" * 1023 + "…"
    assert built["header"]["text"] == "h" * 59 + "…"
    assert built["footer"]["text"] == "f" * 59 + "…"
    assert built["action"]["buttons"][0]["reply"]["title"] == "A very long button…"
    assert len(built["action"]["buttons"][0]["reply"]["title"]) <= 20


def test_truncate_leaves_texts_that_fit_alone():
    exact = build_reply_buttons(body="hi", buttons=buttons(3))
    assert build_reply_buttons(body="hi", buttons=buttons(3), truncate=True) == exact


def test_truncate_drops_surplus_buttons():
    built = build_reply_buttons(body="x", buttons=buttons(5), truncate=True)
    assert [button["reply"]["id"] for button in built["action"]["buttons"]] == ["b0", "b1", "b2"]


def test_truncate_keeps_the_first_ten_rows_and_drops_emptied_sections():
    sections = [
        Section("First", rows(6, "a")),
        Section("Second", [Row("b0", "r" * 30, "d" * 80), *rows(5, "c")]),
        Section("Third", rows(2, "d")),
    ]
    built = a_list(sections=sections, truncate=True)
    kept = built["action"]["sections"]
    assert [section["title"] for section in kept] == ["First", "Second"]
    assert [len(section["rows"]) for section in kept] == [6, 4]
    assert kept[1]["rows"][0] == {"id": "b0", "title": "r" * 23 + "…", "description": "d" * 71 + "…"}


def test_truncate_never_fixes_duplicates_even_in_dropped_rows():
    sections = [Section("A", rows(10, "r")), Section("B", [Row("r0", "dup")])]
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=sections, truncate=True)
    assert problems_of(caught) == {"action.sections[1].rows[0].id": ("duplicate", None, None)}


def test_truncate_never_fixes_empty_bodies_long_ids_or_missing_titles():
    with pytest.raises(MenuValidationError) as caught:
        build_reply_buttons(body="", buttons=[Button("i" * 300, "ok")], truncate=True)
    assert problems_of(caught) == {
        "body.text": ("required", None, None),
        "action.buttons[0].reply.id": ("too_long", 256, 300),
    }
    with pytest.raises(MenuValidationError) as caught:
        a_list(sections=[Section("A", rows(1, "a")), Section(None, rows(1, "b"))], truncate=True)
    assert list(problems_of(caught)) == ["action.sections[1].title"]


# --- validate_interactive on raw input ----------------------------------------------------------


def test_validate_accepts_what_the_builders_build():
    validate_interactive(build_reply_buttons(body="x", buttons=buttons(3)))
    validate_interactive(a_list())


def test_validate_rejects_unknown_types_and_non_objects():
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive({"type": "carousel"})
    assert list(problems_of(caught)) == ["type"]
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive(["not", "an", "object"])
    assert list(problems_of(caught)) == [""]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": ["button"], "body": {"text": "x"}}, "type"),
        ({"type": "button", "header": {"type": ["image"]}, "body": {"text": "x"},
          "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}, "header.type"),
    ],
)
def test_a_list_or_object_where_a_name_belongs_is_a_problem_not_a_crash(raw, field):
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive(raw)
    assert list(problems_of(caught)) == [field]


def test_validate_reports_malformed_raw_input_without_crashing():
    raw = {
        "type": "list",
        "body": "not an object",
        "action": {"button": 7, "sections": [{"title": "A", "rows": "nope"}, "junk", {"rows": [None]}]},
    }
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive(raw)
    assert problems_of(caught) == {
        "body": ("invalid", None, None),
        "action.button": ("invalid", None, None),
        "action.sections[0].rows": ("invalid", None, None),
        "action.sections[1]": ("invalid", None, None),
        "action.sections[2].title": ("required", None, None),
        "action.sections[2].rows[0]": ("invalid", None, None),
    }


def test_validate_checks_button_type_and_missing_action():
    raw = build_reply_buttons(body="x", buttons=buttons(1))
    broken = copy.deepcopy(raw)
    broken["action"]["buttons"][0]["type"] = "url"
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive(broken)
    assert list(problems_of(caught)) == ["action.buttons[0].type"]
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive({"type": "button", "body": {"text": "x"}})
    assert problems_of(caught) == {"action": ("required", None, None)}
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive({"type": "list", "body": {"text": "x"}, "action": {}})
    assert problems_of(caught) == {
        "action.button": ("required", None, None),
        "action.sections": ("required", None, None),
    }


def flow_message(**parameters) -> dict:
    base = {
        "flow_message_version": "3",
        "flow_token": "tok-1",
        "flow_id": "1234",
        "flow_cta": "Book now",
        "flow_action": "navigate",
        "flow_action_payload": {"screen": "WELCOME", "data": {}},
    }
    base.update(parameters)
    return {"type": "flow", "body": {"text": "Book a visit"}, "action": {"name": "flow", "parameters": base}}


def test_validate_accepts_a_flow_message():
    validate_interactive(flow_message())
    validate_interactive(flow_message(flow_cta="c" * meta.FLOW_CTA_MAX_CHARS, mode="draft"))


@pytest.mark.parametrize(
    ("parameters", "field", "kind"),
    [
        ({"flow_cta": "c" * 21}, "action.parameters.flow_cta", "too_long"),
        ({"flow_cta": ""}, "action.parameters.flow_cta", "required"),
        ({"flow_message_version": "2"}, "action.parameters.flow_message_version", "invalid"),
        ({"flow_id": None}, "action.parameters.flow_id", "invalid"),
        ({"flow_name": "booking"}, "action.parameters.flow_id", "invalid"),
        ({"flow_action": "teleport"}, "action.parameters.flow_action", "invalid"),
        ({"mode": "final"}, "action.parameters.mode", "invalid"),
        ({"flow_action_payload": {"data": {}}}, "action.parameters.flow_action_payload.screen", "required"),
        ({"flow_action": ["navigate"], "flow_action_payload": None}, "action.parameters.flow_action", "invalid"),
        ({"mode": {"draft": True}}, "action.parameters.mode", "invalid"),
    ],
)
def test_validate_refuses_bad_flow_parameters(parameters, field, kind):
    with pytest.raises(MenuValidationError) as caught:
        validate_interactive(flow_message(**parameters))
    assert [(problem.field, problem.kind) for problem in caught.value.problems] == [(field, kind)]
