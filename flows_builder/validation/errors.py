"""Validation errors as values, shaped after the `validation_errors` Meta returns for a Flow JSON asset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Stable machine codes. Callers may compare them with plain strings."""

    INVALID_JSON = "INVALID_JSON"
    NESTED_TOO_DEEPLY = "NESTED_TOO_DEEPLY"
    INVALID_PROPERTY_TYPE = "INVALID_PROPERTY_TYPE"
    INVALID_PROPERTY_VALUE = "INVALID_PROPERTY_VALUE"
    INVALID_PROPERTY = "INVALID_PROPERTY"
    MISSING_REQUIRED_PROPERTY = "MISSING_REQUIRED_PROPERTY"
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    UNSUPPORTED_DATA_API_VERSION = "UNSUPPORTED_DATA_API_VERSION"
    NOT_SUPPORTED_IN_VERSION = "NOT_SUPPORTED_IN_VERSION"
    INVALID_ROUTING_MODEL = "INVALID_ROUTING_MODEL"
    ROUTE_NOT_IN_ROUTING_MODEL = "ROUTE_NOT_IN_ROUTING_MODEL"
    NO_SCREENS = "NO_SCREENS"
    INVALID_SCREEN_ID = "INVALID_SCREEN_ID"
    RESERVED_SCREEN_ID = "RESERVED_SCREEN_ID"
    DUPLICATE_SCREEN_ID = "DUPLICATE_SCREEN_ID"
    UNKNOWN_SCREEN = "UNKNOWN_SCREEN"
    UNREACHABLE_SCREEN = "UNREACHABLE_SCREEN"
    NO_TERMINAL_SCREEN = "NO_TERMINAL_SCREEN"
    TERMINAL_SCREEN_WITHOUT_FOOTER = "TERMINAL_SCREEN_WITHOUT_FOOTER"
    COMPLETE_ON_NON_TERMINAL_SCREEN = "COMPLETE_ON_NON_TERMINAL_SCREEN"
    DATA_EXCHANGE_WITHOUT_ENDPOINT = "DATA_EXCHANGE_WITHOUT_ENDPOINT"
    INVALID_DATA_DECLARATION = "INVALID_DATA_DECLARATION"
    INVALID_LAYOUT_TYPE = "INVALID_LAYOUT_TYPE"
    TOO_MANY_COMPONENTS = "TOO_MANY_COMPONENTS"
    MULTIPLE_FOOTERS = "MULTIPLE_FOOTERS"
    UNKNOWN_COMPONENT = "UNKNOWN_COMPONENT"
    INPUT_OUTSIDE_FORM = "INPUT_OUTSIDE_FORM"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    INVALID_INPUT_TYPE = "INVALID_INPUT_TYPE"
    TOO_FEW_OPTIONS = "TOO_FEW_OPTIONS"
    TOO_MANY_OPTIONS = "TOO_MANY_OPTIONS"
    DUPLICATE_OPTION_ID = "DUPLICATE_OPTION_ID"
    MAX_SELECTED_ITEMS_EXCEEDED = "MAX_SELECTED_ITEMS_EXCEEDED"
    DUPLICATE_INPUT_NAME = "DUPLICATE_INPUT_NAME"
    INVALID_ACTION = "INVALID_ACTION"
    INVALID_DYNAMIC_REFERENCE = "INVALID_DYNAMIC_REFERENCE"
    UNDECLARED_DATA_REFERENCE = "UNDECLARED_DATA_REFERENCE"
    UNDECLARED_FORM_REFERENCE = "UNDECLARED_FORM_REFERENCE"


# Meta groups its errors by `error_type`; these three groups are our approximation of that field.
_SYNTAX_CODES = frozenset({ErrorCode.INVALID_JSON, ErrorCode.NESTED_TOO_DEEPLY})
_SCHEMA_CODES = frozenset(
    {
        ErrorCode.INVALID_PROPERTY_TYPE,
        ErrorCode.INVALID_PROPERTY_VALUE,
        ErrorCode.INVALID_PROPERTY,
        ErrorCode.MISSING_REQUIRED_PROPERTY,
        ErrorCode.UNKNOWN_COMPONENT,
        ErrorCode.TEXT_TOO_LONG,
        ErrorCode.INVALID_INPUT_TYPE,
        ErrorCode.INVALID_LAYOUT_TYPE,
        ErrorCode.INVALID_SCREEN_ID,
    }
)


@dataclass(frozen=True, slots=True)
class FlowValidationError:
    """One problem in a Flow JSON document.

    `pointer` is an RFC 6901 JSON pointer into the document ("" is the document itself). `line` and
    `column` are only known for syntax errors, where there is no document to point into.
    """

    pointer: str
    error: str
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def error_type(self) -> str:
        if self.error in _SYNTAX_CODES:
            return "JSON_SYNTAX_ERROR"
        if self.error in _SCHEMA_CODES:
            return "JSON_SCHEMA_ERROR"
        return "FLOW_JSON_ERROR"

    def as_meta_dict(self) -> dict[str, Any]:
        """The error in the shape of one item of Meta's `validation_errors`.

        Meta's pointer paths are dotted (`screens[0].layout.children[2]`), so the JSON pointer is
        translated; line and column appear only when known.
        """
        location: dict[str, Any] = {}
        if self.line is not None and self.column is not None:
            location = {
                "line_start": self.line,
                "line_end": self.line,
                "column_start": self.column,
                "column_end": self.column,
            }
        return {
            "error": str(self.error),
            "error_type": self.error_type,
            "message": self.message,
            **location,
            "pointers": [{**location, "path": meta_path(self.pointer)}],
        }


def join_pointer(base: str, *parts: str | int) -> str:
    """Append reference tokens to a JSON pointer, escaping `~` and `/` as RFC 6901 requires."""
    tokens = [str(part).replace("~", "~0").replace("/", "~1") for part in parts]
    return "/".join([base, *tokens]) if tokens else base


def meta_path(pointer: str) -> str:
    """`/screens/0/layout/children/2` -> `screens[0].layout.children[2]`."""
    path = ""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if re.fullmatch(r"\d+", token):
            path += f"[{token}]"
        else:
            path += f".{token}" if path else token
    return path


def flow_error(pointer: str, code: ErrorCode, message: str) -> FlowValidationError:
    return FlowValidationError(pointer=pointer, error=code, message=message)
