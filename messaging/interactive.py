"""Interactive reply-button and list messages: built from plain data, checked against Meta's limits.

`build_reply_buttons` and `build_list` return the `interactive` object of a
`POST /{phone_number_id}/messages` payload. `validate_interactive` applies the same rules to an
object that arrives already built (raw API input), and also knows flow messages.

Limits are counted in Python characters (code points). Nothing is shortened or dropped unless
the caller asks for `truncate=True`; even then duplicate ids, empty texts and over-long ids
are refused, never repaired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

from platform_core.errors import DomainError
from waba import meta

ELLIPSIS = "…"


@dataclass(frozen=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Section:
    title: str | None
    rows: Sequence[Row] = field(default_factory=tuple)


@dataclass(frozen=True)
class MenuProblem:
    """One thing wrong with an interactive message. `field` is a path inside the interactive object."""

    field: str
    message: str
    kind: str  # too_long, too_many, required, duplicate, invalid
    limit: int | None = None
    actual: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "kind": self.kind,
            "limit": self.limit,
            "actual": self.actual,
            "message": self.message,
        }


class MenuValidationError(DomainError):
    code = "invalid_interactive_message"
    status = 422
    retryable = False

    def __init__(self, problems: Sequence[MenuProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        summary = f"{count} problem{'s' if count != 1 else ''} in the interactive message"
        if self.problems:
            summary += f": {self.problems[0].field}: {self.problems[0].message}"
        super().__init__(summary, details=[problem.as_dict() for problem in self.problems])


# --- building ---------------------------------------------------------------------------------


def build_reply_buttons(
    *,
    body: str,
    buttons: Sequence[Button],
    header: str | Mapping[str, Any] | None = None,
    footer: str | None = None,
    truncate: bool = False,
) -> dict[str, Any]:
    """A reply-button message (`interactive.type = "button"`); `header` is text or a media object."""

    def build(body: str, buttons: Sequence[Button], header: Any, footer: str | None) -> dict[str, Any]:
        action = {"buttons": [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in buttons]}
        return _interactive("button", body=body, header=header, footer=footer, action=action)

    exact = build(body, buttons, header, footer)
    if not truncate:
        validate_interactive(exact)
        return exact
    shortened = build(
        _shorten(body, meta.INTERACTIVE_BODY_MAX_CHARS),
        [
            replace(button, title=_shorten(button.title, meta.REPLY_BUTTON_TITLE_MAX_CHARS))
            for button in buttons[: meta.REPLY_BUTTONS_MAX]
        ],
        _shorten(header, meta.INTERACTIVE_HEADER_TEXT_MAX_CHARS) if isinstance(header, str) else header,
        _shorten(footer, meta.INTERACTIVE_FOOTER_MAX_CHARS),
    )
    _raise_unfixable(exact, shortened)
    return shortened


def build_list(
    *,
    body: str,
    button_text: str,
    sections: Sequence[Section],
    header: str | None = None,
    footer: str | None = None,
    truncate: bool = False,
) -> dict[str, Any]:
    """A list message (`interactive.type = "list"`); at most 10 rows across all sections."""

    def build(
        body: str, button_text: str, sections: Sequence[Section], header: Any, footer: Any
    ) -> dict[str, Any]:
        action = {"button": button_text, "sections": [_section(section) for section in sections]}
        return _interactive("list", body=body, header=header, footer=footer, action=action)

    exact = build(body, button_text, sections, header, footer)
    if not truncate:
        validate_interactive(exact)
        return exact
    shortened = build(
        _shorten(body, meta.INTERACTIVE_BODY_MAX_CHARS),
        _shorten(button_text, meta.LIST_BUTTON_TEXT_MAX_CHARS),
        _shortened_sections(sections),
        _shorten(header, meta.INTERACTIVE_HEADER_TEXT_MAX_CHARS) if isinstance(header, str) else header,
        _shorten(footer, meta.INTERACTIVE_FOOTER_MAX_CHARS),
    )
    _raise_unfixable(exact, shortened)
    return shortened


def _interactive(kind: str, *, body: str, header: Any, footer: str | None, action: dict) -> dict[str, Any]:
    interactive: dict[str, Any] = {"type": kind}
    if header is not None:
        interactive["header"] = {"type": "text", "text": header} if isinstance(header, str) else dict(header)
    interactive["body"] = {"text": body}
    if footer is not None:
        interactive["footer"] = {"text": footer}
    interactive["action"] = action
    return interactive


def _section(section: Section) -> dict[str, Any]:
    built: dict[str, Any] = {"title": section.title} if section.title else {}
    built["rows"] = [_row(row) for row in section.rows]
    return built


def _row(row: Row) -> dict[str, str]:
    built = {"id": row.id, "title": row.title}
    if row.description:
        built["description"] = row.description
    return built


def _shortened_sections(sections: Sequence[Section]) -> list[Section]:
    """Keep the first 10 rows in reading order; drop sections that this leaves empty."""
    kept: list[Section] = []
    room = meta.LIST_ROWS_MAX_TOTAL
    for section in sections:
        if section.rows and room <= 0:
            continue
        rows = [
            replace(
                row,
                title=_shorten(row.title, meta.LIST_ROW_TITLE_MAX_CHARS),
                description=_shorten(row.description, meta.LIST_ROW_DESCRIPTION_MAX_CHARS),
            )
            for row in section.rows[:room]
        ]
        room -= len(rows)
        kept.append(Section(title=_shorten(section.title, meta.LIST_SECTION_TITLE_MAX_CHARS), rows=rows))
    return kept


@overload
def _shorten(text: str, limit: int) -> str: ...
@overload
def _shorten(text: None, limit: int) -> None: ...
@overload
def _shorten(text: str | None, limit: int) -> str | None: ...
def _shorten(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _raise_unfixable(exact: dict[str, Any], shortened: dict[str, Any]) -> None:
    """Truncation must not hide a duplicate id, even one that only a dropped item carried."""
    problems = interactive_problems(shortened)
    seen = {(problem.field, problem.kind) for problem in problems}
    for problem in interactive_problems(exact):
        if problem.kind == "duplicate" and (problem.field, problem.kind) not in seen:
            problems.append(problem)
    if problems:
        raise MenuValidationError(problems)


# --- validating -------------------------------------------------------------------------------


def validate_interactive(interactive: Mapping[str, Any]) -> None:
    """Raise MenuValidationError unless `interactive` is a valid button, list or flow object."""
    problems = interactive_problems(interactive)
    if problems:
        raise MenuValidationError(problems)


def interactive_problems(interactive: Any) -> list[MenuProblem]:
    check = _Checker()
    if not isinstance(interactive, Mapping):
        check.problem("", "the interactive object must be a JSON object", "invalid")
        return check.problems
    kind = interactive.get("type")
    if not isinstance(kind, str) or kind not in _ACTION_CHECKS:
        check.problem("type", f"type must be one of {', '.join(sorted(_ACTION_CHECKS))}", "invalid")
        return check.problems
    if "header" in interactive:
        check.header(interactive["header"], media_allowed=kind != "list")
    body = interactive.get("body")
    if body is not None and not isinstance(body, Mapping):
        check.problem("body", "body must be an object", "invalid")
    else:
        check.text("body.text", (body or {}).get("text"), meta.INTERACTIVE_BODY_MAX_CHARS)
    if "footer" in interactive:
        footer = check.child(interactive, "footer", "footer")
        check.text("footer.text", footer.get("text"), meta.INTERACTIVE_FOOTER_MAX_CHARS)
    action = check.child(interactive, "action", "action")
    if isinstance(interactive.get("action"), Mapping):
        _ACTION_CHECKS[kind](check, action)
    return check.problems


class _Checker:
    def __init__(self) -> None:
        self.problems: list[MenuProblem] = []

    def problem(
        self, path: str, message: str, kind: str, limit: int | None = None, actual: int | None = None
    ) -> None:
        self.problems.append(MenuProblem(field=path, message=message, kind=kind, limit=limit, actual=actual))

    def child(self, parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = parent.get(key)
        if value is None:
            self.problem(path, f"{key} is required", "required")
        elif not isinstance(value, Mapping):
            self.problem(path, f"{key} must be an object", "invalid")
        else:
            return value
        return {}

    def items(self, value: Any, path: str, what: str) -> list[Any]:
        if value is None or value == []:
            self.problem(path, f"at least one {what} is required", "required")
        elif not isinstance(value, list):
            self.problem(path, f"{path.rsplit('.', 1)[-1]} must be a list", "invalid")
        else:
            return value
        return []

    def text(self, path: str, value: Any, limit: int, *, required: bool = True) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required or value is not None:
                self.problem(path, "must not be empty", "required")
        elif not isinstance(value, str):
            self.problem(path, "must be a string", "invalid")
        elif len(value) > limit:
            message = f"at most {limit} characters allowed, got {len(value)}"
            self.problem(path, message, "too_long", limit=limit, actual=len(value))

    def unique_id(self, seen: dict[str, str], value: Any, path: str) -> None:
        if not isinstance(value, str) or not value:
            return
        if value in seen:
            self.problem(path, f"duplicate id {value!r} (also used at {seen[value]})", "duplicate")
        else:
            seen[value] = path

    def header(self, header: Any, *, media_allowed: bool) -> None:
        if not isinstance(header, Mapping):
            self.problem("header", "header must be an object", "invalid")
            return
        kind = header.get("type")
        if kind == "text":
            self.text("header.text", header.get("text"), meta.INTERACTIVE_HEADER_TEXT_MAX_CHARS)
        elif media_allowed and isinstance(kind, str) and kind in meta.INTERACTIVE_MEDIA_HEADER_TYPES:
            media = header.get(kind)
            if not isinstance(media, Mapping):
                media = {}
            sources = [key for key in ("id", "link") if media.get(key)]
            if len(sources) != 1 or not isinstance(media[sources[0]], str):
                self.problem(f"header.{kind}", f"{kind} needs exactly one of id or link", "invalid")
        else:
            allowed = ["text", *sorted(meta.INTERACTIVE_MEDIA_HEADER_TYPES)] if media_allowed else ["text"]
            self.problem("header.type", f"header type must be one of {', '.join(allowed)}", "invalid")


def _check_buttons(check: _Checker, action: Mapping[str, Any]) -> None:
    buttons = check.items(action.get("buttons"), "action.buttons", "button")
    if len(buttons) > meta.REPLY_BUTTONS_MAX:
        check.problem(
            f"action.buttons[{meta.REPLY_BUTTONS_MAX}]",
            f"at most {meta.REPLY_BUTTONS_MAX} reply buttons allowed, got {len(buttons)}",
            "too_many",
            limit=meta.REPLY_BUTTONS_MAX,
            actual=len(buttons),
        )
    seen_ids: dict[str, str] = {}
    for index, button in enumerate(buttons):
        path = f"action.buttons[{index}]"
        if not isinstance(button, Mapping):
            check.problem(path, "button must be an object", "invalid")
            continue
        if button.get("type") != "reply":
            check.problem(f"{path}.type", 'button type must be "reply"', "invalid")
        reply = check.child(button, "reply", f"{path}.reply")
        check.text(f"{path}.reply.id", reply.get("id"), meta.REPLY_BUTTON_ID_MAX_CHARS)
        check.text(f"{path}.reply.title", reply.get("title"), meta.REPLY_BUTTON_TITLE_MAX_CHARS)
        check.unique_id(seen_ids, reply.get("id"), f"{path}.reply.id")


def _check_list(check: _Checker, action: Mapping[str, Any]) -> None:
    check.text("action.button", action.get("button"), meta.LIST_BUTTON_TEXT_MAX_CHARS)
    sections = check.items(action.get("sections"), "action.sections", "section")
    if len(sections) > meta.LIST_SECTIONS_MAX:
        check.problem(
            f"action.sections[{meta.LIST_SECTIONS_MAX}]",
            f"at most {meta.LIST_SECTIONS_MAX} sections allowed, got {len(sections)}",
            "too_many",
            limit=meta.LIST_SECTIONS_MAX,
            actual=len(sections),
        )
    total_rows = sum(
        len(s["rows"]) for s in sections if isinstance(s, Mapping) and isinstance(s.get("rows"), list)
    )
    row_number = 0
    seen_ids: dict[str, str] = {}
    for index, section in enumerate(sections):
        path = f"action.sections[{index}]"
        if not isinstance(section, Mapping):
            check.problem(path, "section must be an object", "invalid")
            continue
        title = section.get("title")
        if len(sections) > 1 and (not isinstance(title, str) or not title.strip()):
            check.problem(f"{path}.title", "every section needs a title when a list has several", "required")
        elif title is not None:
            check.text(f"{path}.title", title, meta.LIST_SECTION_TITLE_MAX_CHARS)
        for row_index, row in enumerate(check.items(section.get("rows"), f"{path}.rows", "row")):
            row_path = f"{path}.rows[{row_index}]"
            row_number += 1
            if row_number == meta.LIST_ROWS_MAX_TOTAL + 1:
                check.problem(
                    row_path,
                    f"at most {meta.LIST_ROWS_MAX_TOTAL} rows allowed across all sections, got {total_rows}",
                    "too_many",
                    limit=meta.LIST_ROWS_MAX_TOTAL,
                    actual=total_rows,
                )
            if not isinstance(row, Mapping):
                check.problem(row_path, "row must be an object", "invalid")
                continue
            check.text(f"{row_path}.id", row.get("id"), meta.LIST_ROW_ID_MAX_CHARS)
            check.text(f"{row_path}.title", row.get("title"), meta.LIST_ROW_TITLE_MAX_CHARS)
            description = row.get("description")
            check.text(
                f"{row_path}.description", description, meta.LIST_ROW_DESCRIPTION_MAX_CHARS, required=False
            )
            check.unique_id(seen_ids, row.get("id"), f"{row_path}.id")


def _check_flow(check: _Checker, action: Mapping[str, Any]) -> None:
    if action.get("name") != "flow":
        check.problem("action.name", 'action name must be "flow"', "invalid")
    parameters = check.child(action, "parameters", "action.parameters")
    if not parameters:
        return
    path = "action.parameters"
    if parameters.get("flow_message_version") != meta.FLOW_MESSAGE_VERSION:
        check.problem(f"{path}.flow_message_version", f'must be "{meta.FLOW_MESSAGE_VERSION}"', "invalid")
    if bool(parameters.get("flow_id")) == bool(parameters.get("flow_name")):
        check.problem(f"{path}.flow_id", "exactly one of flow_id or flow_name is required", "invalid")
    token = parameters.get("flow_token")
    if "flow_token" in parameters and (not isinstance(token, str) or not token.strip()):
        check.problem(f"{path}.flow_token", "must be a non-empty string", "invalid")
    check.text(f"{path}.flow_cta", parameters.get("flow_cta"), meta.FLOW_CTA_MAX_CHARS)
    flow_action = parameters.get("flow_action", "navigate")
    if not isinstance(flow_action, str) or flow_action not in meta.FLOW_ACTIONS:
        check.problem(
            f"{path}.flow_action", f"must be one of {', '.join(sorted(meta.FLOW_ACTIONS))}", "invalid"
        )
    if "mode" in parameters and (not isinstance(parameters["mode"], str) or parameters["mode"] not in meta.FLOW_MODES):
        check.problem(f"{path}.mode", f"must be one of {', '.join(sorted(meta.FLOW_MODES))}", "invalid")
    payload = parameters.get("flow_action_payload")
    screen = payload.get("screen") if isinstance(payload, Mapping) else None
    if flow_action == "navigate" and payload is not None and not (isinstance(screen, str) and screen):
        check.problem(f"{path}.flow_action_payload.screen", "navigate needs a screen name", "required")


_ACTION_CHECKS = {"button": _check_buttons, "list": _check_list, "flow": _check_flow}
