"""Dynamic references (`${data.x}`, `${form.y}`, `${screen.S.form.z}`) must name declared fields."""

from __future__ import annotations

import re

from .context import FlowContext, ScreenInfo
from .errors import ErrorCode, FlowValidationError
from .errors import flow_error as _error
from .specs import GLOBAL_REFERENCES_SINCE, one_of
from .tree import own_strings

_EXPRESSION = re.compile(r"\$\{([^{}]*)\}")
# A path may go deeper (`data.address.city`, `data.items[0]`); only its first field is declared.
_LOCAL = re.compile(r"(data|form)\.([A-Za-z0-9_]+)(?:[.\[].*)?")
_GLOBAL = re.compile(r"screen\.([A-Za-z_]+)\.(data|form)\.([A-Za-z0-9_]+)(?:[.\[].*)?")
# Child component lists are checked as components of their own, with their own pointers.
_CHILD_KEYS = frozenset({"children", "then", "else", "cases"})


def check_references(screen: ScreenInfo, ctx: FlowContext) -> list[FlowValidationError]:
    """Every `${...}` in the screen's components, their properties and their action payloads."""
    errors: list[FlowValidationError] = []
    for node in screen.components:
        if not isinstance(node.component, dict):
            continue
        skip = _CHILD_KEYS if one_of(node.component.get("type"), {"Form", "If", "Switch"}) else frozenset()
        for text, pointer in own_strings(node.component, node.pointer, skip=skip):
            for match in _EXPRESSION.finditer(text):
                errors += _check_reference(match.group(1).strip(), pointer, screen, ctx)
    return errors


def _check_reference(
    expression: str, pointer: str, screen: ScreenInfo, ctx: FlowContext
) -> list[FlowValidationError]:
    local = _LOCAL.fullmatch(expression)
    if local:
        return _check_field(local.group(1), local.group(2), screen, pointer, expression)
    global_ = _GLOBAL.fullmatch(expression)
    if not global_:
        return [
            _error(
                pointer,
                ErrorCode.INVALID_DYNAMIC_REFERENCE,
                f"'${{{expression}}}' is not a data, form or screen reference.",
            )
        ]
    if ctx.effective_version < GLOBAL_REFERENCES_SINCE:
        return [
            _error(
                pointer,
                ErrorCode.NOT_SUPPORTED_IN_VERSION,
                f"'${{{expression}}}': references to other screens need Flow JSON 4.0 or later.",
            )
        ]
    screen_id, kind, name = global_.groups()
    target = ctx.screen(screen_id)
    if target is None:
        return [
            _error(
                pointer,
                ErrorCode.INVALID_DYNAMIC_REFERENCE,
                f"'${{{expression}}}' names unknown screen '{screen_id}'.",
            )
        ]
    return _check_field(kind, name, target, pointer, expression)


def _check_field(
    kind: str, name: str, screen: ScreenInfo, pointer: str, expression: str
) -> list[FlowValidationError]:
    if kind == "data" and name not in screen.data_fields:
        return [
            _error(
                pointer,
                ErrorCode.UNDECLARED_DATA_REFERENCE,
                f"'${{{expression}}}': '{name}' is not declared in the data of screen '{screen.id}'.",
            )
        ]
    if kind == "form" and name not in screen.input_names:
        return [
            _error(
                pointer,
                ErrorCode.UNDECLARED_FORM_REFERENCE,
                f"'${{{expression}}}': no input named '{name}' on screen '{screen.id}'.",
            )
        ]
    return []
