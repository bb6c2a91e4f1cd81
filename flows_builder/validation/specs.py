"""Meta's Flow JSON rules as data: versions, components, limits.

The numbers META.md gives are read from `waba.meta`, the project's one constants module. Numbers
marked (secondary) are not in META.md: they are Meta's component reference as remembered, not
re-verified, and live only here until they are confirmed and moved next to the others.
"""

from __future__ import annotations

import re
from collections.abc import Container, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from waba import meta

Version = tuple[int, int]

SUPPORTED_VERSIONS: tuple[str, ...] = (
    "2.1", "3.0", "3.1", "4.0", "5.0", "5.1", "6.0", "6.1", "6.2", "6.3", "7.0", "7.1", "7.2",
)  # fmt: skip
SUPPORTED_DATA_API_VERSIONS: tuple[str, ...] = (meta.FLOW_DATA_API_VERSION,)
LATEST_VERSION: Version = (7, 2)

SCREEN_ID_PATTERN = meta.FLOW_SCREEN_ID_PATTERN
RESERVED_SCREEN_IDS = meta.FLOW_RESERVED_SCREEN_IDS
LAYOUT_TYPES = frozenset({meta.FLOW_LAYOUT_TYPE})
MAX_COMPONENTS_PER_SCREEN = meta.FLOW_MAX_COMPONENTS_PER_SCREEN
MAX_FOOTERS_PER_SCREEN = meta.FLOW_MAX_FOOTERS_PER_SCREEN
DATA_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array"})
TEXT_INPUT_TYPES = meta.FLOW_TEXT_INPUT_TYPES
OPTION_TITLE_MAX = meta.FLOW_OPTION_TITLE_MAX_CHARS
OPTION_DESCRIPTION_MAX = meta.FLOW_OPTION_DESCRIPTION_MAX_CHARS

# Before 4.0 input components had to live inside a Form; 4.0 also brought `${screen.X...}` references.
FORM_OPTIONAL_SINCE: Version = (4, 0)
GLOBAL_REFERENCES_SINCE: Version = (4, 0)
# `data_channel_uri` moved out of the Flow JSON into the flow's metadata with 3.0.
DATA_CHANNEL_URI_REMOVED_IN: Version = (3, 0)

ACTION_SINCE: Mapping[str, Version] = MappingProxyType(
    {
        "navigate": (2, 1),
        "complete": (2, 1),
        "data_exchange": (2, 1),
        "update_data": (6, 0),
        "open_url": (6, 0),
    }
)
# Properties of a component that hold an action, and properties of an item that do.
ACTION_PROPERTIES = ("on-click-action", "on-select-action", "on-unselect-action")

_CLICK_LINK = frozenset({"navigate", "data_exchange", "open_url"})
_SELECT = frozenset({"data_exchange", "update_data"})


def one_of(value: object, choices: Container[Any]) -> bool:
    """`value in choices` for a value from the document, which may be a list or an object (unhashable)."""
    return isinstance(value, Hashable) and value in choices


def parse_version(value: object) -> Version | None:
    if isinstance(value, str) and re.fullmatch(r"\d+\.\d+", value):
        major, minor = value.split(".")
        return int(major), int(minor)
    return None


@dataclass(frozen=True)
class OptionsRule:
    """Bounds on a literal `data-source` list."""

    min_count: int = 1
    max_count: int | None = None


@dataclass(frozen=True)
class ComponentSpec:
    required: tuple[str, ...]
    text_limits: Mapping[str, int] = field(default_factory=dict)
    is_input: bool = False
    since: Version = (2, 1)
    actions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    options: OptionsRule | None = None
    max_selected_items: int | None = None
    child_lists: tuple[str, ...] = ()


def _text(limit: int) -> ComponentSpec:
    return ComponentSpec(required=("text",), text_limits={"text": limit})


def _choice(
    required: tuple[str, ...],
    *,
    options: OptionsRule,
    since: Version = (2, 1),
    max_selected_items: int | None = None,
) -> ComponentSpec:
    """CheckboxGroup, RadioButtonsGroup, Dropdown and ChipsSelector share their shape."""
    return ComponentSpec(
        required=required,
        text_limits={"label": meta.FLOW_SELECTION_LABEL_MAX_CHARS},
        is_input=True,
        since=since,
        actions={"on-select-action": _SELECT},
        options=options,
        max_selected_items=max_selected_items,
    )


_TEXT_ENTRY = ComponentSpec(
    required=("name", "label"),
    text_limits={
        "label": meta.FLOW_INPUT_LABEL_MAX_CHARS,
        "helper-text": meta.FLOW_INPUT_HELPER_TEXT_MAX_CHARS,
    },
    is_input=True,
)
_MEDIA_PICKER = ComponentSpec(required=("name", "label"), is_input=True, since=(4, 0))

COMPONENT_SPECS: Mapping[str, ComponentSpec] = MappingProxyType(
    {
        "TextHeading": _text(meta.FLOW_TEXT_HEADING_MAX_CHARS),
        "TextSubheading": _text(meta.FLOW_TEXT_SUBHEADING_MAX_CHARS),
        "TextBody": _text(meta.FLOW_TEXT_BODY_MAX_CHARS),
        "TextCaption": _text(meta.FLOW_TEXT_CAPTION_MAX_CHARS),
        "RichText": ComponentSpec(required=("text",), since=(5, 1)),
        "TextInput": _TEXT_ENTRY,
        "TextArea": _TEXT_ENTRY,
        "CheckboxGroup": _choice(
            ("name", "data-source"),
            options=OptionsRule(),
            max_selected_items=meta.FLOW_CHECKBOX_MAX_SELECTED_ITEMS,
        ),
        "RadioButtonsGroup": _choice(("name", "data-source"), options=OptionsRule()),
        "Dropdown": _choice(
            ("name", "label", "data-source"),
            options=OptionsRule(meta.FLOW_DROPDOWN_MIN_OPTIONS, meta.FLOW_DROPDOWN_MAX_OPTIONS),
        ),
        "ChipsSelector": _choice(("name", "label", "data-source"), options=OptionsRule(), since=(6, 3)),
        "DatePicker": ComponentSpec(
            required=("name", "label"),
            text_limits={"label": 40, "helper-text": 80},  # (secondary)
            is_input=True,
            actions={"on-select-action": frozenset({"data_exchange"})},
        ),
        "CalendarPicker": ComponentSpec(
            required=("name", "label"), is_input=True, since=(6, 1), actions={"on-select-action": _SELECT}
        ),
        "OptIn": ComponentSpec(
            required=("name", "label"),
            text_limits={"label": 120},  # (secondary)
            is_input=True,
            actions={
                "on-click-action": _CLICK_LINK,
                "on-select-action": frozenset({"update_data"}),
                "on-unselect-action": frozenset({"update_data"}),
            },
        ),
        "EmbeddedLink": ComponentSpec(
            required=("text", "on-click-action"),
            text_limits={"text": 25},  # (secondary)
            actions={"on-click-action": _CLICK_LINK},
        ),
        "Image": ComponentSpec(required=("src",)),
        "Footer": ComponentSpec(
            required=("label", "on-click-action"),
            text_limits={
                "label": meta.FLOW_FOOTER_LABEL_MAX_CHARS,
                "left-caption": 15,  # (secondary)
                "center-caption": 15,  # (secondary)
                "right-caption": 15,  # (secondary)
            },
            actions={"on-click-action": frozenset({"navigate", "complete", "data_exchange"})},
        ),
        "If": ComponentSpec(required=("condition", "then"), since=(4, 0), child_lists=("then", "else")),
        "Switch": ComponentSpec(required=("value", "cases"), since=(4, 0)),
        "NavigationList": ComponentSpec(
            required=("name", "list-items"),
            since=(6, 2),
            actions={"on-click-action": frozenset({"navigate", "data_exchange"})},
        ),
        "Form": ComponentSpec(required=("name", "children"), child_lists=("children",)),
        "PhotoPicker": _MEDIA_PICKER,
        "DocumentPicker": _MEDIA_PICKER,
    }
)
NAVIGATION_ITEM_ACTIONS = frozenset({"navigate", "data_exchange"})
