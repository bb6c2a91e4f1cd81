"""The entry point: parse, check the document's top level, then its screens, components and graph."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .components import check_component
from .context import FlowContext
from .errors import ErrorCode, FlowValidationError, join_pointer
from .errors import flow_error as _error
from .navigation import check_actions, check_routing_model, check_screen_graph
from .references import check_references
from .screens import check_screen_budgets, collect_screens
from .specs import (
    DATA_CHANNEL_URI_REMOVED_IN,
    SUPPORTED_DATA_API_VERSIONS,
    SUPPORTED_VERSIONS,
    Version,
    one_of,
    parse_version,
)

# Real flows nest a few levels (screens, layout, Form, If/Switch branches); no flow needs this many.
MAX_NESTING = 100


def validate_flow_json(
    flow: Mapping[str, Any] | str | bytes, *, has_endpoint: bool = False
) -> list[FlowValidationError]:
    """Every problem Meta would report for this Flow JSON that can be found offline; [] when none.

    `has_endpoint` says the flow is configured with a data endpoint. A flow that declares
    `data_api_version` is treated as an endpoint flow too, so `data_exchange` actions are accepted when
    either is true (and such a flow must then carry a routing model). Pure: no I/O, no Django.
    """
    document, parse_errors = _parse(flow)
    if parse_errors:
        return parse_errors
    if not isinstance(document, dict):
        return [_error("", ErrorCode.INVALID_PROPERTY_TYPE, "Flow JSON must be an object.")]
    too_deep = _too_deep_pointer(document)
    if too_deep is not None:
        return [
            _error(too_deep, ErrorCode.NESTED_TOO_DEEPLY, f"Flow JSON may nest at most {MAX_NESTING} levels deep.")
        ]

    version, errors = _check_versions(document, has_endpoint=has_endpoint)
    ctx = FlowContext(version=version, endpoint_enabled=has_endpoint or "data_api_version" in document)
    errors += collect_screens(document, ctx)
    errors += check_routing_model(document, ctx)
    for screen in ctx.screens:
        errors += check_screen_budgets(screen)
        for node in screen.components:
            errors += check_component(node, ctx)
        errors += check_actions(screen, ctx)
        errors += check_references(screen, ctx)
    errors += check_screen_graph(ctx)
    return errors


def _parse(flow: Mapping[str, Any] | str | bytes) -> tuple[Any, list[FlowValidationError]]:
    if isinstance(flow, bytes):
        try:
            flow = flow.decode("utf-8")
        except UnicodeDecodeError:
            return None, [_error("", ErrorCode.INVALID_JSON, "Flow JSON must be UTF-8 text.")]
    if not isinstance(flow, str):
        return flow, []
    try:
        return json.loads(flow), []
    except RecursionError:
        return None, [_error("", ErrorCode.NESTED_TOO_DEEPLY, f"Flow JSON may nest at most {MAX_NESTING} levels deep.")]
    except json.JSONDecodeError as exc:
        return None, [
            FlowValidationError(
                pointer="",
                error=ErrorCode.INVALID_JSON,
                message=f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
                line=exc.lineno,
                column=exc.colno,
            )
        ]


def _too_deep_pointer(document: dict[str, Any]) -> str | None:
    """The pointer of a value nested deeper than MAX_NESTING, or None when there is none.

    The checks walk components and values recursively; this bound keeps them far from Python's
    recursion limit whatever the input (the JSON decoder alone accepts about a thousand levels).
    """
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack:
        value, pointer, depth = stack.pop()
        if depth > MAX_NESTING:
            return pointer
        if isinstance(value, dict):
            stack.extend((child, join_pointer(pointer, key), depth + 1) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, join_pointer(pointer, index), depth + 1) for index, child in enumerate(value))
    return None


def _check_versions(
    document: dict[str, Any], *, has_endpoint: bool
) -> tuple[Version | None, list[FlowValidationError]]:
    errors: list[FlowValidationError] = []
    version: Version | None = None
    if "version" not in document:
        errors.append(_error("/version", ErrorCode.MISSING_REQUIRED_PROPERTY, "The flow has no 'version'."))
    elif not one_of(document["version"], SUPPORTED_VERSIONS):
        errors.append(
            _error(
                "/version",
                ErrorCode.UNSUPPORTED_VERSION,
                f"Flow JSON version {document['version']!r} is not supported; use one of {', '.join(SUPPORTED_VERSIONS)}.",
            )
        )
    else:
        version = parse_version(document["version"])

    if "data_api_version" in document:
        if not one_of(document["data_api_version"], SUPPORTED_DATA_API_VERSIONS):
            errors.append(
                _error(
                    "/data_api_version",
                    ErrorCode.UNSUPPORTED_DATA_API_VERSION,
                    f"data_api_version {document['data_api_version']!r} is not supported; "
                    f"use {', '.join(SUPPORTED_DATA_API_VERSIONS)}.",
                )
            )
    elif has_endpoint:
        errors.append(
            _error(
                "/data_api_version",
                ErrorCode.MISSING_REQUIRED_PROPERTY,
                "Flows with a data endpoint need a 'data_api_version'.",
            )
        )

    if "data_channel_uri" in document and (version is None or version >= DATA_CHANNEL_URI_REMOVED_IN):
        errors.append(
            _error(
                "/data_channel_uri",
                ErrorCode.INVALID_PROPERTY,
                "From Flow JSON 3.0 the endpoint URI is set on the flow, not in 'data_channel_uri'.",
            )
        )
    return version, errors
