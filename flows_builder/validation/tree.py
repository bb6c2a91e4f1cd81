"""Walking a screen's layout: every component (nested in Form, If, Switch) and every action."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import join_pointer
from .specs import ACTION_PROPERTIES


@dataclass(frozen=True, slots=True)
class ComponentNode:
    component: Any  # usually a dict; anything else is reported by the component checks
    pointer: str
    in_form: bool


@dataclass(frozen=True, slots=True)
class ActionNode:
    action: Any
    pointer: str
    owner_type: str
    owner_property: str


def child_lists(component: dict[str, Any], pointer: str) -> Iterator[tuple[Any, str]]:
    """The lists of child components a container holds, each with its pointer."""
    kind = component.get("type")
    if kind == "Form":
        yield component.get("children"), join_pointer(pointer, "children")
    elif kind == "If":
        yield component.get("then"), join_pointer(pointer, "then")
        if "else" in component:
            yield component.get("else"), join_pointer(pointer, "else")
    elif kind == "Switch":
        cases = component.get("cases")
        if isinstance(cases, dict):
            for key, children in cases.items():
                yield children, join_pointer(pointer, "cases", key)


def iter_components(children: Any, pointer: str, *, in_form: bool = False) -> Iterator[ComponentNode]:
    """Depth-first over a list of components, containers first, then what they hold."""
    if not isinstance(children, list):
        return
    for index, component in enumerate(children):
        node_pointer = join_pointer(pointer, index)
        yield ComponentNode(component, node_pointer, in_form)
        if isinstance(component, dict):
            nested_in_form = in_form or component.get("type") == "Form"
            for nested, nested_pointer in child_lists(component, node_pointer):
                yield from iter_components(nested, nested_pointer, in_form=nested_in_form)


def iter_actions(node: ComponentNode) -> Iterator[ActionNode]:
    component = node.component
    if not isinstance(component, dict):
        return
    kind = str(component.get("type"))
    for prop in ACTION_PROPERTIES:
        if prop in component:
            yield ActionNode(component[prop], join_pointer(node.pointer, prop), kind, prop)
    if kind == "NavigationList" and isinstance(component.get("list-items"), list):
        for index, item in enumerate(component["list-items"]):
            if isinstance(item, dict) and "on-click-action" in item:
                item_pointer = join_pointer(node.pointer, "list-items", index, "on-click-action")
                yield ActionNode(
                    item["on-click-action"], item_pointer, "NavigationListItem", "on-click-action"
                )


def max_footers_on_a_path(children: Any) -> int:
    """Footers a user can see at once: If/Switch branches are alternatives, so count the worst branch."""
    if not isinstance(children, list):
        return 0
    total = 0
    for component in children:
        if not isinstance(component, dict):
            continue
        kind = component.get("type")
        if kind == "Footer":
            total += 1
        elif kind == "Form":
            total += max_footers_on_a_path(component.get("children"))
        elif kind == "If":
            total += max(
                max_footers_on_a_path(component.get("then")), max_footers_on_a_path(component.get("else"))
            )
        elif kind == "Switch" and isinstance(component.get("cases"), dict):
            total += max((max_footers_on_a_path(case) for case in component["cases"].values()), default=0)
    return total


def own_strings(value: Any, pointer: str, *, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """Every string inside a value with its pointer; `skip` names top-level keys not to enter."""
    if isinstance(value, str):
        yield value, pointer
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from own_strings(item, join_pointer(pointer, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from own_strings(item, join_pointer(pointer, index))
