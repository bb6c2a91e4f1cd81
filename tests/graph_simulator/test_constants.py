"""The simulator's copy of Meta's facts agrees with the platform's (waba.meta).

The simulator imports nothing from the platform, so each fact exists twice; this test is the
one place that ties every shared fact together, name by name. A new fact in
graph_simulator/constants.py is either mapped here or listed as the simulator's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from graph_simulator import constants as sim
from waba import meta

# simulator name -> the same fact read from waba.meta
SHARED: dict[str, Callable[[], Any]] = {
    "TEXT_BODY_MAX": lambda: meta.TEXT_MESSAGE_MAX_CHARS,
    "CAPTION_MAX": lambda: meta.MEDIA_CAPTION_MAX_CHARS,
    "INTERACTIVE_BODY_MAX": lambda: meta.INTERACTIVE_BODY_MAX_CHARS,
    "INTERACTIVE_HEADER_MAX": lambda: meta.INTERACTIVE_HEADER_TEXT_MAX_CHARS,
    "INTERACTIVE_FOOTER_MAX": lambda: meta.INTERACTIVE_FOOTER_MAX_CHARS,
    "REPLY_BUTTONS_MAX": lambda: meta.REPLY_BUTTONS_MAX,
    "REPLY_BUTTON_TITLE_MAX": lambda: meta.REPLY_BUTTON_TITLE_MAX_CHARS,
    "REPLY_BUTTON_ID_MAX": lambda: meta.REPLY_BUTTON_ID_MAX_CHARS,
    "LIST_SECTIONS_MAX": lambda: meta.LIST_SECTIONS_MAX,
    "LIST_ROWS_MAX": lambda: meta.LIST_ROWS_MAX_TOTAL,
    "LIST_BUTTON_TEXT_MAX": lambda: meta.LIST_BUTTON_TEXT_MAX_CHARS,
    "LIST_ROW_TITLE_MAX": lambda: meta.LIST_ROW_TITLE_MAX_CHARS,
    "LIST_ROW_DESCRIPTION_MAX": lambda: meta.LIST_ROW_DESCRIPTION_MAX_CHARS,
    "LIST_ROW_ID_MAX": lambda: meta.LIST_ROW_ID_MAX_CHARS,
    "LIST_SECTION_TITLE_MAX": lambda: meta.LIST_SECTION_TITLE_MAX_CHARS,
    "FLOW_CTA_MAX": lambda: meta.FLOW_CTA_MAX_CHARS,
    "FLOW_MESSAGE_VERSION": lambda: meta.FLOW_MESSAGE_VERSION,
    "BIZ_OPAQUE_CALLBACK_DATA_MAX": lambda: meta.BIZ_OPAQUE_CALLBACK_DATA_MAX_CHARS,
    "TEMPLATE_NAME_MAX": lambda: meta.TEMPLATE_NAME_MAX_CHARS,
    "TEMPLATE_NAME_PATTERN": lambda: meta.TEMPLATE_NAME_PATTERN,
    "TEMPLATE_CATEGORIES": lambda: tuple(meta.TemplateCategory),
    "TEMPLATE_BODY_MAX": lambda: meta.TEMPLATE_BODY_MAX_CHARS,
    "TEMPLATE_HEADER_TEXT_MAX": lambda: meta.TEMPLATE_HEADER_TEXT_MAX_CHARS,
    "TEMPLATE_FOOTER_MAX": lambda: meta.TEMPLATE_FOOTER_MAX_CHARS,
    "FLOW_CATEGORIES": lambda: tuple(meta.FlowCategory),
    "FLOW_STATUSES": lambda: tuple(meta.FlowStatus),
    "FLOW_ASSET_MAX_BYTES": lambda: meta.FLOW_JSON_MAX_BYTES,
    "FLOW_SCREEN_ID_PATTERN": lambda: meta.FLOW_SCREEN_ID_PATTERN,
    "FLOW_RESERVED_SCREEN_ID": lambda: _only(meta.FLOW_RESERVED_SCREEN_IDS),
    "THROUGHPUT_BY_LEVEL": lambda: dict(meta.THROUGHPUT_MPS_BY_LEVEL),
    "CUSTOMER_SERVICE_WINDOW_S": lambda: meta.CUSTOMER_SERVICE_WINDOW_S,
    "WEBHOOK_OBJECT": lambda: meta.WEBHOOK_OBJECT,
    "WEBHOOK_MESSAGES_FIELD": lambda: meta.WEBHOOK_MESSAGES_FIELD,
    "WEBHOOK_SIGNATURE_HEADER": lambda: meta.WEBHOOK_SIGNATURE_HEADER,
    "WEBHOOK_SIGNATURE_PREFIX": lambda: meta.WEBHOOK_SIGNATURE_PREFIX,
}

# Facts only the simulator needs (the platform has no counterpart), and the simulator's own limits.
SIMULATOR_ONLY = {
    "VERSION_SEGMENT",  # how the simulator parses `/vNN.N/` paths
    "CTA_URL_DISPLAY_TEXT_MAX",  # the platform sends no cta_url messages
    # Looser than waba.meta's patterns on purpose: the simulator counts `{{ 1 }}` and named
    # variables, where the platform's validators accept only what they send.
    "POSITIONAL_VARIABLE",
    "NAMED_VARIABLE",
    "ANY_VARIABLE",
    "CONVERSATION_LIFETIME_S",
    "MAX_REQUEST_BODY_BYTES",
    "REQUEST_LOG_CAPACITY",
    "WEBHOOK_LOG_CAPACITY",
    "MEDIA_CAPACITY",
    "STATS_WINDOW_S",
}


def _only(values: frozenset[str]) -> str:
    (value,) = values
    return value


def _comparable(value: Any) -> Any:
    """Patterns compare by their source, enums by their values, throughput levels by the levels Meta names."""
    if hasattr(value, "pattern") and hasattr(value, "flags"):
        return value.pattern
    if isinstance(value, tuple):
        return tuple(str(item) for item in value)
    return value


@pytest.mark.parametrize("sim_name", sorted(SHARED))
def test_the_simulator_and_the_platform_agree(sim_name):
    simulated = _comparable(getattr(sim, sim_name))
    platform = _comparable(SHARED[sim_name]())
    if sim_name == "THROUGHPUT_BY_LEVEL":
        # The simulator also answers numbers without a level (NOT_APPLICABLE); every level the
        # platform knows must carry the same rate.
        simulated = {level: simulated[level] for level in platform if level in simulated}
    assert simulated == platform, f"graph_simulator.constants.{sim_name} = {simulated!r}, waba.meta says {platform!r}"


def test_every_simulator_fact_is_either_shared_or_its_own():
    names = {name for name in vars(sim) if name.isupper()}
    assert names - SHARED.keys() - SIMULATOR_ONLY == set(), "map the new fact in SHARED or list it in SIMULATOR_ONLY"
    assert SHARED.keys() | SIMULATOR_ONLY <= names, "a mapped name no longer exists in graph_simulator.constants"
