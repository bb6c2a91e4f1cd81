"""Actions and the screen graph: targets, routing model, reachability, terminal screens."""

from __future__ import annotations

from typing import Any

from .context import FlowContext, ScreenInfo
from .errors import ErrorCode, FlowValidationError, join_pointer
from .errors import flow_error as _error
from .specs import ACTION_SINCE, COMPONENT_SPECS, NAVIGATION_ITEM_ACTIONS, one_of


def check_actions(screen: ScreenInfo, ctx: FlowContext) -> list[FlowValidationError]:
    errors: list[FlowValidationError] = []
    for node in screen.actions:
        action, pointer = node.action, node.pointer
        if node.owner_type not in COMPONENT_SPECS and node.owner_type != "NavigationListItem":
            continue  # the unknown component is reported once, by the component checks
        if not isinstance(action, dict):
            errors.append(_error(pointer, ErrorCode.INVALID_ACTION, "An action must be an object."))
            continue
        name = action.get("name")
        if name is None:
            errors.append(
                _error(
                    join_pointer(pointer, "name"),
                    ErrorCode.MISSING_REQUIRED_PROPERTY,
                    "Action has no 'name'.",
                )
            )
            continue
        if not one_of(name, ACTION_SINCE):
            errors.append(
                _error(join_pointer(pointer, "name"), ErrorCode.INVALID_ACTION, f"Unknown action {name!r}.")
            )
            continue
        allowed = _allowed_actions(node.owner_type, node.owner_property)
        if name not in allowed:
            errors.append(
                _error(
                    join_pointer(pointer, "name"),
                    ErrorCode.INVALID_ACTION,
                    f"'{name}' cannot be used as {node.owner_type} '{node.owner_property}'; "
                    f"allowed: {sorted(allowed)}.",
                )
            )
            continue
        if ctx.effective_version < ACTION_SINCE[name]:
            errors.append(
                _error(
                    join_pointer(pointer, "name"),
                    ErrorCode.NOT_SUPPORTED_IN_VERSION,
                    f"Action '{name}' needs Flow JSON {'.'.join(map(str, ACTION_SINCE[name]))} or later.",
                )
            )
        if "payload" in action and not isinstance(action["payload"], dict):
            errors.append(
                _error(
                    join_pointer(pointer, "payload"),
                    ErrorCode.INVALID_PROPERTY_TYPE,
                    "'payload' must be an object.",
                )
            )
        errors += _check_action_kind(name, action, pointer, screen, ctx)
    return errors


def navigate_target(action: Any) -> str | None:
    """The screen a navigate action names, if it is one and names one."""
    if isinstance(action, dict) and action.get("name") == "navigate":
        next_ = action.get("next")
        if isinstance(next_, dict) and isinstance(next_.get("name"), str):
            return next_["name"]
    return None


def check_routing_model(flow: dict[str, Any], ctx: FlowContext) -> list[FlowValidationError]:
    """When present, the routing model maps existing screens to lists of existing screens.

    It is required when the flow talks to an endpoint: the endpoint can send the user to any screen
    it lists, which is the only way Meta learns those transitions.
    """
    if "routing_model" not in flow:
        if ctx.endpoint_enabled:
            return [
                _error(
                    "/routing_model",
                    ErrorCode.MISSING_REQUIRED_PROPERTY,
                    "Flows with a data endpoint need a 'routing_model'.",
                )
            ]
        return []
    model = flow["routing_model"]
    if not isinstance(model, dict):
        return [
            _error("/routing_model", ErrorCode.INVALID_PROPERTY_TYPE, "'routing_model' must be an object.")
        ]
    errors: list[FlowValidationError] = []
    known = ctx.screen_ids
    for source, targets in model.items():
        source_pointer = join_pointer("/routing_model", source)
        if source not in known:
            errors.append(
                _error(
                    source_pointer,
                    ErrorCode.INVALID_ROUTING_MODEL,
                    f"Routing model names unknown screen '{source}'.",
                )
            )
        if not isinstance(targets, list):
            errors.append(
                _error(
                    source_pointer, ErrorCode.INVALID_PROPERTY_TYPE, "Routes must be a list of screen ids."
                )
            )
            continue
        for index, target in enumerate(targets):
            if not one_of(target, known):
                errors.append(
                    _error(
                        join_pointer(source_pointer, index),
                        ErrorCode.INVALID_ROUTING_MODEL,
                        f"Routing model routes '{source}' to unknown screen {target!r}.",
                    )
                )
    ctx.routing_model = model
    return errors


def check_screen_graph(ctx: FlowContext) -> list[FlowValidationError]:
    """Reachability from the first screen, and terminal screens that can actually finish."""
    errors: list[FlowValidationError] = []
    if not ctx.screens:
        return errors
    edges = _edges(ctx)
    start = ctx.screens[0].id
    reachable: set[str] = set()
    pending = [start] if start else []
    while pending:
        current = pending.pop()
        if current not in reachable:
            reachable.add(current)
            pending.extend(edges.get(current, ()))
    for screen in ctx.screens:
        if screen.id and screen.id not in reachable:
            errors.append(
                _error(
                    join_pointer(screen.pointer, "id"),
                    ErrorCode.UNREACHABLE_SCREEN,
                    f"Screen '{screen.id}' cannot be reached from the first screen '{start}'.",
                )
            )

    terminals = [screen for screen in ctx.screens if screen.terminal]
    if not terminals:
        errors.append(
            _error("/screens", ErrorCode.NO_TERMINAL_SCREEN, "At least one screen must be terminal.")
        )
    for screen in terminals:
        if not any(_type_of(node.component) == "Footer" for node in screen.components):
            errors.append(
                _error(
                    screen.pointer,
                    ErrorCode.TERMINAL_SCREEN_WITHOUT_FOOTER,
                    f"Terminal screen '{screen.id}' needs a Footer.",
                )
            )
    return errors


def _check_action_kind(
    name: str, action: dict[str, Any], pointer: str, screen: ScreenInfo, ctx: FlowContext
) -> list[FlowValidationError]:
    if name == "navigate":
        return _check_navigate(action, pointer, screen, ctx)
    if name == "complete" and not screen.terminal:
        return [
            _error(
                join_pointer(pointer, "name"),
                ErrorCode.COMPLETE_ON_NON_TERMINAL_SCREEN,
                f"'complete' can only be used on a terminal screen; '{screen.id}' is not terminal.",
            )
        ]
    if name == "data_exchange" and not ctx.endpoint_enabled:
        return [
            _error(
                join_pointer(pointer, "name"),
                ErrorCode.DATA_EXCHANGE_WITHOUT_ENDPOINT,
                "'data_exchange' needs a data endpoint (declare 'data_api_version' and a routing model).",
            )
        ]
    if name == "open_url" and not isinstance(action.get("url"), str):
        return [
            _error(
                join_pointer(pointer, "url"), ErrorCode.MISSING_REQUIRED_PROPERTY, "'open_url' needs a 'url'."
            )
        ]
    return []


def _check_navigate(
    action: dict[str, Any], pointer: str, screen: ScreenInfo, ctx: FlowContext
) -> list[FlowValidationError]:
    next_pointer = join_pointer(pointer, "next")
    next_ = action.get("next")
    if not isinstance(next_, dict):
        return [_error(next_pointer, ErrorCode.MISSING_REQUIRED_PROPERTY, "'navigate' needs 'next'.")]
    errors = []
    if next_.get("type", "screen") != "screen":
        errors.append(
            _error(
                join_pointer(next_pointer, "type"),
                ErrorCode.INVALID_PROPERTY_VALUE,
                "'next.type' must be 'screen'.",
            )
        )
    target = next_.get("name")
    target_pointer = join_pointer(next_pointer, "name")
    if not isinstance(target, str):
        return errors + [
            _error(target_pointer, ErrorCode.MISSING_REQUIRED_PROPERTY, "'next' needs a screen 'name'.")
        ]
    if target not in ctx.screen_ids:
        return errors + [
            _error(target_pointer, ErrorCode.UNKNOWN_SCREEN, f"Navigation to unknown screen '{target}'.")
        ]
    if isinstance(ctx.routing_model, dict) and screen.id:
        routes = ctx.routing_model.get(screen.id)
        if not isinstance(routes, list) or target not in routes:
            errors.append(
                _error(
                    target_pointer,
                    ErrorCode.ROUTE_NOT_IN_ROUTING_MODEL,
                    f"The routing model does not allow '{screen.id}' -> '{target}'.",
                )
            )
    return errors


def _edges(ctx: FlowContext) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for screen in ctx.screens:
        if screen.id is None:
            continue
        targets = edges.setdefault(screen.id, set())
        targets.update(t for node in screen.actions if (t := navigate_target(node.action)) is not None)
    if isinstance(ctx.routing_model, dict):
        for source, routes in ctx.routing_model.items():
            if isinstance(routes, list):
                edges.setdefault(source, set()).update(r for r in routes if isinstance(r, str))
    return edges


def _allowed_actions(owner_type: str, owner_property: str) -> frozenset[str]:
    if owner_type == "NavigationListItem":
        return NAVIGATION_ITEM_ACTIONS
    spec = COMPONENT_SPECS.get(owner_type)
    return spec.actions.get(owner_property, frozenset()) if spec else frozenset()


def _type_of(component: Any) -> Any:
    return component.get("type") if isinstance(component, dict) else None
