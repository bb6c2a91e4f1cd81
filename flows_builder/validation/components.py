"""Each component on its own: known type, version, required properties, text limits, options."""

from __future__ import annotations

from typing import Any

from .context import FlowContext
from .errors import ErrorCode, FlowValidationError, join_pointer
from .errors import flow_error as _error
from .specs import (
    COMPONENT_SPECS,
    FORM_OPTIONAL_SINCE,
    OPTION_DESCRIPTION_MAX,
    OPTION_TITLE_MAX,
    TEXT_INPUT_TYPES,
    ComponentSpec,
    OptionsRule,
    one_of,
)
from .tree import ComponentNode


def check_component(node: ComponentNode, ctx: FlowContext) -> list[FlowValidationError]:
    component, pointer = node.component, node.pointer
    if not isinstance(component, dict):
        return [_error(pointer, ErrorCode.INVALID_PROPERTY_TYPE, "A component must be an object.")]
    kind = component.get("type")
    if kind is None:
        return [
            _error(
                join_pointer(pointer, "type"), ErrorCode.MISSING_REQUIRED_PROPERTY, "Component has no 'type'."
            )
        ]
    spec = COMPONENT_SPECS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        return [
            _error(
                join_pointer(pointer, "type"),
                ErrorCode.UNKNOWN_COMPONENT,
                f"Unknown component type {kind!r}.",
            )
        ]

    errors: list[FlowValidationError] = []
    if ctx.effective_version < spec.since:
        errors.append(
            _error(
                join_pointer(pointer, "type"),
                ErrorCode.NOT_SUPPORTED_IN_VERSION,
                f"{kind} needs Flow JSON {'.'.join(map(str, spec.since))} or later.",
            )
        )
    if spec.is_input and not node.in_form and ctx.effective_version < FORM_OPTIONAL_SINCE:
        errors.append(
            _error(
                pointer,
                ErrorCode.INPUT_OUTSIDE_FORM,
                f"Before Flow JSON 4.0, {kind} must be inside a Form.",
            )
        )
    for prop in spec.required:
        if component.get(prop) is None or component.get(prop) == "":
            errors.append(
                _error(
                    join_pointer(pointer, prop),
                    ErrorCode.MISSING_REQUIRED_PROPERTY,
                    f"{kind} needs '{prop}'.",
                )
            )
    errors += _check_text_limits(kind, component, pointer, spec)
    errors += _check_child_lists(kind, component, pointer, spec)
    if kind == "TextInput":
        errors += _check_input_type(component, pointer)
    if spec.options is not None and "data-source" in component:
        errors += _check_options(
            kind, component["data-source"], join_pointer(pointer, "data-source"), spec.options
        )
    if spec.max_selected_items is not None:
        errors += _check_max_selected(kind, component, pointer, spec.max_selected_items)
    if kind == "NavigationList":
        errors += _check_navigation_items(component.get("list-items"), join_pointer(pointer, "list-items"))
    return errors


def is_dynamic(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _check_text_limits(
    kind: str, component: dict[str, Any], pointer: str, spec: ComponentSpec
) -> list[FlowValidationError]:
    errors = []
    for prop, limit in spec.text_limits.items():
        value = component.get(prop)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(
                _error(
                    join_pointer(pointer, prop), ErrorCode.INVALID_PROPERTY_TYPE, f"'{prop}' must be text."
                )
            )
        elif not is_dynamic(value) and len(value) > limit:
            errors.append(_too_long(join_pointer(pointer, prop), f"{kind} {prop}", len(value), limit))
    return errors


def _check_child_lists(
    kind: str, component: dict[str, Any], pointer: str, spec: ComponentSpec
) -> list[FlowValidationError]:
    errors = []
    for prop in spec.child_lists:
        if prop in component and not isinstance(component[prop], list):
            errors.append(
                _error(
                    join_pointer(pointer, prop),
                    ErrorCode.INVALID_PROPERTY_TYPE,
                    f"{kind} '{prop}' must be a list.",
                )
            )
    if kind == "Switch" and "cases" in component:
        cases = component["cases"]
        if not isinstance(cases, dict) or not all(isinstance(case, list) for case in cases.values()):
            errors.append(
                _error(
                    join_pointer(pointer, "cases"),
                    ErrorCode.INVALID_PROPERTY_TYPE,
                    "Switch 'cases' must map each value to a list of components.",
                )
            )
    return errors


def _check_input_type(component: dict[str, Any], pointer: str) -> list[FlowValidationError]:
    input_type = component.get("input-type")
    if input_type is None or is_dynamic(input_type) or one_of(input_type, TEXT_INPUT_TYPES):
        return []
    return [
        _error(
            join_pointer(pointer, "input-type"),
            ErrorCode.INVALID_INPUT_TYPE,
            f"TextInput input-type {input_type!r} is not one of {sorted(TEXT_INPUT_TYPES)}.",
        )
    ]


def _check_options(kind: str, options: Any, pointer: str, rule: OptionsRule) -> list[FlowValidationError]:
    """A data-source is a literal list of {id, title, description?} or a dynamic `${...}` string."""
    if isinstance(options, str):
        if is_dynamic(options):
            return []
        return [
            _error(
                pointer,
                ErrorCode.INVALID_PROPERTY_TYPE,
                "'data-source' must be a list or a ${...} reference.",
            )
        ]
    if not isinstance(options, list):
        return [
            _error(
                pointer,
                ErrorCode.INVALID_PROPERTY_TYPE,
                "'data-source' must be a list or a ${...} reference.",
            )
        ]
    errors = []
    if len(options) < rule.min_count:
        errors.append(
            _error(pointer, ErrorCode.TOO_FEW_OPTIONS, f"{kind} needs at least {rule.min_count} option(s).")
        )
    if rule.max_count is not None and len(options) > rule.max_count:
        errors.append(
            _error(
                pointer,
                ErrorCode.TOO_MANY_OPTIONS,
                f"{kind} has {len(options)} options; at most {rule.max_count} are allowed.",
            )
        )
    seen: set[str] = set()
    for index, option in enumerate(options):
        option_pointer = join_pointer(pointer, index)
        if not isinstance(option, dict):
            errors.append(
                _error(option_pointer, ErrorCode.INVALID_PROPERTY_TYPE, "An option must be an object.")
            )
            continue
        for prop in ("id", "title"):
            if not isinstance(option.get(prop), str) or not option[prop]:
                errors.append(
                    _error(
                        join_pointer(option_pointer, prop),
                        ErrorCode.MISSING_REQUIRED_PROPERTY,
                        f"An option needs a text '{prop}'.",
                    )
                )
        option_id = option.get("id")
        if isinstance(option_id, str):
            if option_id in seen:
                errors.append(
                    _error(
                        join_pointer(option_pointer, "id"),
                        ErrorCode.DUPLICATE_OPTION_ID,
                        f"Option id '{option_id}' is used twice.",
                    )
                )
            seen.add(option_id)
        for prop, limit in (("title", OPTION_TITLE_MAX), ("description", OPTION_DESCRIPTION_MAX)):
            value = option.get(prop)
            if isinstance(value, str) and not is_dynamic(value) and len(value) > limit:
                errors.append(
                    _too_long(join_pointer(option_pointer, prop), f"Option {prop}", len(value), limit)
                )
    return errors


def _check_max_selected(
    kind: str, component: dict[str, Any], pointer: str, limit: int
) -> list[FlowValidationError]:
    value = component.get("max-selected-items")
    if value is None or is_dynamic(value):
        return []
    prop_pointer = join_pointer(pointer, "max-selected-items")
    if not isinstance(value, int) or isinstance(value, bool):
        return [
            _error(prop_pointer, ErrorCode.INVALID_PROPERTY_TYPE, "'max-selected-items' must be an integer.")
        ]
    if value > limit:
        return [
            _error(
                prop_pointer,
                ErrorCode.MAX_SELECTED_ITEMS_EXCEEDED,
                f"{kind} max-selected-items is {value}; at most {limit} is allowed.",
            )
        ]
    return []


def _check_navigation_items(items: Any, pointer: str) -> list[FlowValidationError]:
    if items is None or is_dynamic(items):
        return []
    if not isinstance(items, list):
        return [
            _error(
                pointer, ErrorCode.INVALID_PROPERTY_TYPE, "'list-items' must be a list or a ${...} reference."
            )
        ]
    errors = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        item_pointer = join_pointer(pointer, index)
        if not isinstance(item, dict):
            errors.append(
                _error(item_pointer, ErrorCode.INVALID_PROPERTY_TYPE, "A list item must be an object.")
            )
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            errors.append(
                _error(
                    join_pointer(item_pointer, "id"),
                    ErrorCode.MISSING_REQUIRED_PROPERTY,
                    "A list item needs an 'id'.",
                )
            )
        elif item_id in seen:
            errors.append(
                _error(
                    join_pointer(item_pointer, "id"),
                    ErrorCode.DUPLICATE_OPTION_ID,
                    f"List item id '{item_id}' is used twice.",
                )
            )
        else:
            seen.add(item_id)
        content = item.get("main-content")
        if not isinstance(content, dict) or not content.get("title"):
            errors.append(
                _error(
                    join_pointer(item_pointer, "main-content"),
                    ErrorCode.MISSING_REQUIRED_PROPERTY,
                    "A list item needs 'main-content' with a 'title'.",
                )
            )
    return errors


def _too_long(pointer: str, what: str, length: int, limit: int) -> FlowValidationError:
    return _error(
        pointer, ErrorCode.TEXT_TOO_LONG, f"{what} is {length} characters; at most {limit} are allowed."
    )
