"""A basic structural check of Flow JSON, reporting errors in Meta's `validation_errors` shape.

Deliberately shallow (the platform's flows_builder owns the full rules): JSON parses, `version`
present, `screens` a non-empty list, screen ids in capitals and underscores, unique, not `SUCCESS`.
"""

from __future__ import annotations

import json
from typing import Any

from graph_simulator.constants import FLOW_RESERVED_SCREEN_ID, FLOW_SCREEN_ID_PATTERN

FlowJsonCheck = tuple[str, list[dict[str, Any]], str | None, str | None]


def flow_json_validate(flow_json: str | bytes | dict[str, Any]) -> FlowJsonCheck:
    """(normalised text, validation errors, json version, data_api_version) of a Flow JSON document."""
    if isinstance(flow_json, dict):
        text = json.dumps(flow_json, indent=2)
    elif isinstance(flow_json, bytes):
        text = flow_json.decode("utf-8", errors="replace")
    else:
        text = str(flow_json)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        issue = _issue("INVALID_JSON", f"Invalid JSON: {error.msg}.", text, None)
        issue.update(
            line_start=error.lineno, line_end=error.lineno, column_start=error.colno, column_end=error.colno
        )
        return text, [issue], None, None
    if not isinstance(document, dict):
        return (
            text,
            [_issue("INVALID_PROPERTY_VALUE", "Flow JSON must be an object.", text, None)],
            None,
            None,
        )
    errors: list[dict[str, Any]] = []
    version = document.get("version")
    if not isinstance(version, str) or not version:
        errors.append(_issue("MISSING_REQUIRED_PROPERTY", "Missing required property 'version'.", text, None))
        version = None
    data_api_version = document.get("data_api_version")
    screens = document.get("screens")
    if not isinstance(screens, list) or not screens:
        errors.append(
            _issue(
                "MISSING_REQUIRED_PROPERTY",
                "Property 'screens' must be a non-empty array.",
                text,
                '"screens"',
            )
        )
        return text, errors, version, data_api_version
    seen: set[str] = set()
    for index, screen in enumerate(screens):
        screen_id = screen.get("id") if isinstance(screen, dict) else None
        if not isinstance(screen_id, str) or not screen_id:
            errors.append(
                _issue(
                    "MISSING_REQUIRED_PROPERTY",
                    f"screens[{index}] is missing required property 'id'.",
                    text,
                    None,
                    path=f"screens[{index}]",
                )
            )
            continue
        token = f'"{screen_id}"'
        if screen_id == FLOW_RESERVED_SCREEN_ID:
            errors.append(
                _issue(
                    "INVALID_PROPERTY_VALUE",
                    f"Screen id '{screen_id}' is reserved.",
                    text,
                    token,
                    path=f"screens[{index}].id",
                )
            )
        elif not FLOW_SCREEN_ID_PATTERN.match(screen_id):
            errors.append(
                _issue(
                    "INVALID_PROPERTY_VALUE",
                    (
                        f"Invalid value found for property 'id' of screens[{index}]: "
                        f"'{screen_id}' must contain only capital letters and underscores."
                    ),
                    text,
                    token,
                    path=f"screens[{index}].id",
                )
            )
        if screen_id in seen:
            errors.append(
                _issue(
                    "DUPLICATE_SCREEN_ID",
                    f"Duplicate screen id '{screen_id}'.",
                    text,
                    token,
                    path=f"screens[{index}].id",
                    occurrence=2,
                )
            )
        seen.add(screen_id)
    return text, errors, version, data_api_version if isinstance(data_api_version, str) else None


def _issue(
    error: str, message: str, text: str, token: str | None, *, path: str | None = None, occurrence: int = 1
) -> dict[str, Any]:
    line, column = _locate(text, token, occurrence)
    end_column = column + (len(token) if token else 1)
    pointer: dict[str, Any] = {"line_start": line, "line_end": line, "column_start": column, "column_end": end_column}
    if path:
        pointer["path"] = path
    return {
        "error": error,
        "error_type": "FLOW_JSON_ERROR",
        "message": message,
        "line_start": line,
        "line_end": line,
        "column_start": column,
        "column_end": end_column,
        "pointers": [pointer],
    }


def _locate(text: str, token: str | None, occurrence: int) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of `token`, or (1, 1) when it is not found."""
    if not token:
        return 1, 1
    position = -1
    for _ in range(occurrence):
        position = text.find(token, position + 1)
        if position < 0:
            return 1, 1
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column
