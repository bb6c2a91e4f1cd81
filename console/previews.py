"""Messages as a phone shows them: the shapes `console/_phone_preview.html` renders.

A preview is a plain dict: `header` (text), `header_media` (IMAGE, VIDEO, DOCUMENT...), `body`,
`footer`, `buttons` (their titles), `list_button` and `sections` (`title`, `rows` of `title` and
`description`) for lists, and `note` for what only exists when the message is sent. Placeholders
(`{name}`, `{{1}}`) are shown as they are stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Builds a renderer's message from today's data: (renderer name, the step's params) -> interactive.
SampleRenderer = Callable[[str, Mapping[str, Any]], dict[str, Any] | None]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text_preview(text: str) -> dict[str, Any]:
    return {"body": text}


def interactive_preview(interactive: Any) -> dict[str, Any]:
    """A preview of Meta's `interactive` object (reply buttons, list, Flow or call-to-action URL)."""
    interactive = _dict(interactive)
    header = _dict(interactive.get("header"))
    action = _dict(interactive.get("action"))
    parameters = _dict(action.get("parameters"))
    preview: dict[str, Any] = {
        "header": _text(header.get("text")),
        "header_media": "" if header.get("type") in (None, "text") else str(header.get("type")).upper(),
        "body": _text(_dict(interactive.get("body")).get("text")),
        "footer": _text(_dict(interactive.get("footer")).get("text")),
        "buttons": [],
        "sections": [],
        "list_button": "",
    }
    kind = interactive.get("type")
    if kind == "button":
        preview["buttons"] = [
            _text(_dict(_dict(b).get("reply")).get("title")) for b in _list(action.get("buttons"))
        ]
    elif kind == "list":
        preview["list_button"] = _text(action.get("button"))
        preview["sections"] = [
            {
                "title": _text(_dict(section).get("title")),
                "rows": [
                    {
                        "title": _text(_dict(row).get("title")),
                        "description": _text(_dict(row).get("description")),
                    }
                    for row in _list(_dict(section).get("rows"))
                ],
            }
            for section in _list(action.get("sections"))
        ]
    elif kind == "flow":
        preview["buttons"] = [_text(parameters.get("flow_cta")) or "Open"]
    elif kind == "cta_url":
        preview["buttons"] = [_text(parameters.get("display_text"))]
    return preview


def message_template_preview(components: Any) -> dict[str, Any]:
    """A preview of a Meta message template from its components (HEADER, BODY, FOOTER, BUTTONS)."""
    preview: dict[str, Any] = {
        "header": "",
        "header_media": "",
        "body": "",
        "footer": "",
        "buttons": [],
        "sections": [],
    }
    for component in _list(components):
        component = _dict(component)
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            media = str(component.get("format", "TEXT")).upper()
            if media == "TEXT":
                preview["header"] = _text(component.get("text"))
            else:
                preview["header_media"] = media
        elif kind == "BODY":
            preview["body"] = _text(component.get("text"))
        elif kind == "FOOTER":
            preview["footer"] = _text(component.get("text"))
        elif kind == "BUTTONS":
            preview["buttons"] = [
                _text(_dict(button).get("text")) for button in _list(component.get("buttons"))
            ]
    return preview


def workflow_step_previews(
    definition: Any, *, menus: Mapping[str, Any], render: SampleRenderer | None = None
) -> list[dict[str, Any]]:
    """Each step of a workflow that sends something, in the order a conversation meets them.

    `menus` maps workflow template names to their `structure`, for steps that send a template;
    `render` builds the message of a step that a renderer makes from live data (None: a note).
    """
    previews = []
    steps = _dict(_dict(definition).get("steps"))
    for name in _steps_in_order(steps, start=_dict(definition).get("start")):
        step = steps[name]
        send = _dict(_dict(step).get("send"))
        if not send:
            continue
        if send.get("text"):
            message = text_preview(_text(send["text"]))
        elif send.get("template"):
            structure = menus.get(str(send["template"]))
            message = (
                interactive_preview(structure)
                if structure is not None
                else {"note": f"Sends the menu {send['template']!r}, which does not exist."}
            )
        elif send.get("flow"):
            flow = _dict(send["flow"])
            message = {
                "body": _text(flow.get("body")),
                "buttons": [_text(flow.get("cta")) or "Open"],
                "note": f"Opens the WhatsApp Flow {flow.get('name')!r}.",
            }
        else:
            renderer = str(send.get("render"))
            sample = render(renderer, _dict(_dict(step).get("params"))) if render is not None else None
            message = interactive_preview(sample) if sample is not None else {}
            message["note"] = f"Built from live data when sent ({renderer})" + (
                "; shown with today's data." if sample else "."
            )
        previews.append(
            {"step": name, "is_start": name == _dict(definition).get("start"), "message": message}
        )
    return previews


def _steps_in_order(steps: Mapping[str, Any], *, start: Any) -> list[str]:
    """Step names from `start` on, each after the step that leads to it (breadth first); steps
    nothing leads to come last, by name."""
    ordered: list[str] = []
    queue = [start] if start in steps else []
    while queue:
        name = queue.pop(0)
        if name in ordered:
            continue
        ordered.append(name)
        step = _dict(steps[name])
        given = _dict(step.get("input"))
        targets = [
            step.get("next"),
            given.get("next"),
            *(_dict(c).get("next") for c in _list(given.get("choices"))),
        ]
        targets.append(step.get("on_error"))
        queue += [t for t in targets if isinstance(t, str) and t in steps and t not in ordered]
    return ordered + sorted(name for name in steps if name not in ordered)
