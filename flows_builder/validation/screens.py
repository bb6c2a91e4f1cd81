"""Screens one by one: ids, layout, the data they declare, and per-screen component budgets."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .context import FlowContext, ScreenInfo
from .errors import ErrorCode, FlowValidationError, join_pointer
from .errors import flow_error as _error
from .specs import (
    COMPONENT_SPECS,
    DATA_TYPES,
    LAYOUT_TYPES,
    MAX_COMPONENTS_PER_SCREEN,
    MAX_FOOTERS_PER_SCREEN,
    RESERVED_SCREEN_IDS,
    SCREEN_ID_PATTERN,
    one_of,
)
from .tree import iter_actions, iter_components, max_footers_on_a_path


def collect_screens(flow: dict[str, Any], ctx: FlowContext) -> list[FlowValidationError]:
    """Check each screen's own shape and record what it declares in `ctx.screens`."""
    if "screens" not in flow:
        return [_error("/screens", ErrorCode.MISSING_REQUIRED_PROPERTY, "The flow has no 'screens'.")]
    screens = flow["screens"]
    if not isinstance(screens, list):
        return [_error("/screens", ErrorCode.INVALID_PROPERTY_TYPE, "'screens' must be a list.")]
    if not screens:
        return [_error("/screens", ErrorCode.NO_SCREENS, "A flow needs at least one screen.")]

    errors: list[FlowValidationError] = []
    seen_ids: set[str] = set()
    for index, raw in enumerate(screens):
        pointer = join_pointer("/screens", index)
        if not isinstance(raw, dict):
            errors.append(_error(pointer, ErrorCode.INVALID_PROPERTY_TYPE, "A screen must be an object."))
            continue
        errors += _check_screen_id(raw, pointer, seen_ids)
        screen_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        if screen_id:
            seen_ids.add(screen_id)

        terminal = raw.get("terminal", False)
        if not isinstance(terminal, bool):
            errors.append(
                _error(
                    join_pointer(pointer, "terminal"),
                    ErrorCode.INVALID_PROPERTY_TYPE,
                    "'terminal' must be a boolean.",
                )
            )
            terminal = False

        children, layout_errors = _layout_children(raw, pointer)
        errors += layout_errors
        data_fields, data_errors = _data_declaration(raw, pointer)
        errors += data_errors

        components = list(iter_components(children, join_pointer(pointer, "layout", "children")))
        ctx.screens.append(
            ScreenInfo(
                index=index,
                pointer=pointer,
                raw=raw,
                id=screen_id,
                terminal=terminal,
                components=components,
                actions=[action for node in components for action in iter_actions(node)],
                input_names=frozenset(_input_names(components)),
                data_fields=data_fields,
            )
        )
    return errors


def check_screen_budgets(screen: ScreenInfo) -> list[FlowValidationError]:
    """Component count, Footer count and input-name uniqueness within one screen."""
    errors: list[FlowValidationError] = []
    children_pointer = join_pointer(screen.pointer, "layout", "children")
    if len(screen.components) > MAX_COMPONENTS_PER_SCREEN:
        errors.append(
            _error(
                children_pointer,
                ErrorCode.TOO_MANY_COMPONENTS,
                f"Screen has {len(screen.components)} components (nested ones included); "
                f"at most {MAX_COMPONENTS_PER_SCREEN} are allowed.",
            )
        )
    layout = screen.raw.get("layout")
    footers = max_footers_on_a_path(layout.get("children") if isinstance(layout, dict) else None)
    if footers > MAX_FOOTERS_PER_SCREEN:
        errors.append(
            _error(
                children_pointer,
                ErrorCode.MULTIPLE_FOOTERS,
                f"Screen shows {footers} Footers on one path; at most {MAX_FOOTERS_PER_SCREEN} is allowed.",
            )
        )
    names = Counter(name for name, _ in _input_names_with_pointers(screen))
    reported: set[str] = set()
    for name, pointer in _input_names_with_pointers(screen):
        if names[name] > 1 and name not in reported:
            reported.add(name)
            errors.append(
                _error(
                    pointer, ErrorCode.DUPLICATE_INPUT_NAME, f"Input name '{name}' is used more than once."
                )
            )
    return errors


def _check_screen_id(raw: dict[str, Any], pointer: str, seen_ids: set[str]) -> list[FlowValidationError]:
    id_pointer = join_pointer(pointer, "id")
    if "id" not in raw:
        return [_error(id_pointer, ErrorCode.MISSING_REQUIRED_PROPERTY, "Screen has no 'id'.")]
    screen_id = raw["id"]
    if not isinstance(screen_id, str) or not SCREEN_ID_PATTERN.fullmatch(screen_id):
        return [
            _error(
                id_pointer,
                ErrorCode.INVALID_SCREEN_ID,
                f"Screen id {screen_id!r} must use only capital letters and underscores.",
            )
        ]
    if screen_id in RESERVED_SCREEN_IDS:
        return [_error(id_pointer, ErrorCode.RESERVED_SCREEN_ID, f"Screen id '{screen_id}' is reserved.")]
    if screen_id in seen_ids:
        return [_error(id_pointer, ErrorCode.DUPLICATE_SCREEN_ID, f"Screen id '{screen_id}' is used twice.")]
    return []


def _layout_children(raw: dict[str, Any], pointer: str) -> tuple[Any, list[FlowValidationError]]:
    layout_pointer = join_pointer(pointer, "layout")
    if "layout" not in raw:
        return None, [_error(layout_pointer, ErrorCode.MISSING_REQUIRED_PROPERTY, "Screen has no 'layout'.")]
    layout = raw["layout"]
    if not isinstance(layout, dict):
        return None, [_error(layout_pointer, ErrorCode.INVALID_PROPERTY_TYPE, "'layout' must be an object.")]
    errors = []
    if not one_of(layout.get("type"), LAYOUT_TYPES):
        errors.append(
            _error(
                join_pointer(layout_pointer, "type"),
                ErrorCode.INVALID_LAYOUT_TYPE,
                f"Layout type {layout.get('type')!r} is not supported; use one of {sorted(LAYOUT_TYPES)}.",
            )
        )
    children_pointer = join_pointer(layout_pointer, "children")
    if "children" not in layout:
        errors.append(
            _error(children_pointer, ErrorCode.MISSING_REQUIRED_PROPERTY, "Layout has no 'children'.")
        )
    elif not isinstance(layout["children"], list):
        errors.append(_error(children_pointer, ErrorCode.INVALID_PROPERTY_TYPE, "'children' must be a list."))
    return layout.get("children"), errors


def _data_declaration(raw: dict[str, Any], pointer: str) -> tuple[frozenset[str], list[FlowValidationError]]:
    """A screen's `data` declares each field as `{"type": ..., "__example__": ...}`."""
    if "data" not in raw:
        return frozenset(), []
    data = raw["data"]
    data_pointer = join_pointer(pointer, "data")
    if not isinstance(data, dict):
        return frozenset(), [
            _error(data_pointer, ErrorCode.INVALID_PROPERTY_TYPE, "'data' must be an object.")
        ]
    errors = []
    for name, declaration in data.items():
        field_pointer = join_pointer(data_pointer, name)
        if not isinstance(declaration, dict) or not one_of(declaration.get("type"), DATA_TYPES):
            errors.append(
                _error(
                    field_pointer,
                    ErrorCode.INVALID_DATA_DECLARATION,
                    f"Data field '{name}' needs a 'type', one of {sorted(DATA_TYPES)}.",
                )
            )
        elif "__example__" not in declaration:
            errors.append(
                _error(
                    field_pointer,
                    ErrorCode.INVALID_DATA_DECLARATION,
                    f"Data field '{name}' needs an '__example__'.",
                )
            )
    return frozenset(data), errors


def _input_names_with_pointers(screen: ScreenInfo) -> list[tuple[str, str]]:
    return [
        (node.component["name"], join_pointer(node.pointer, "name"))
        for node in screen.components
        if _is_named_input(node.component)
    ]


def _input_names(components: list[Any]) -> list[str]:
    return [node.component["name"] for node in components if _is_named_input(node.component)]


def _is_named_input(component: Any) -> bool:
    if not isinstance(component, dict) or not isinstance(component.get("name"), str):
        return False
    spec = COMPONENT_SPECS.get(str(component.get("type")))
    return spec is not None and spec.is_input
