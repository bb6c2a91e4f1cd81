"""The built-in WhatsApp Flows every tenant can use, one Flow JSON file each beside this module.

None of them needs a data endpoint: screens pass what they collected forward with `navigate` payloads
declared in the next screen's `data`, and the terminal screen's `complete` payload carries every
answer. `response_fields` names that payload's keys: they are what arrives in the `nfm_reply`
`response_json` (next to `flow_token`) and what the response processors turn into requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from waba.meta import FlowCategory

_CUSTOMER = ("full_name", "phone", "email")
_SCHEDULE = ("preferred_date", "time_slot")
_ADDRESS = ("street", "city", "region", "postal_code", "notes")


@dataclass(frozen=True)
class FlowDefinition:
    """A built-in flow. `flow_json` is shared: treat it as read-only and deep-copy it to change it."""

    name: str
    friendly_name: str
    description: str
    categories: tuple[FlowCategory, ...]
    # The conversational flow this Flow is linked to; None for reusable components.
    flow_definition_name: str | None
    trigger_keywords: tuple[str, ...]
    # Keys of the terminal screen's `complete` payload, in order.
    response_fields: tuple[str, ...]
    first_screen: str
    flow_json: dict[str, Any] = field(repr=False, compare=False)

    def flow_json_text(self) -> str:
        """The Flow JSON as uploaded to Meta (`flow.json` asset)."""
        return json.dumps(self.flow_json, indent=2, ensure_ascii=False)


def _load_flow_json(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def _definition(
    name: str,
    *,
    friendly_name: str,
    description: str,
    categories: tuple[FlowCategory, ...],
    flow_definition_name: str | None,
    trigger_keywords: tuple[str, ...],
    response_fields: tuple[str, ...],
) -> FlowDefinition:
    flow_json = _load_flow_json(name)
    return FlowDefinition(
        name=name,
        friendly_name=friendly_name,
        description=description,
        categories=categories,
        flow_definition_name=flow_definition_name,
        trigger_keywords=trigger_keywords,
        response_fields=response_fields,
        first_screen=flow_json["screens"][0]["id"],
        flow_json=flow_json,
    )


BUILTIN_FLOWS: dict[str, FlowDefinition] = {
    definition.name: definition
    for definition in (
        _definition(
            "starlink_installation",
            friendly_name="Starlink installation",
            description="Book a Starlink installation: contact details, kit and mount, date and address.",
            categories=(FlowCategory.APPOINTMENT_BOOKING,),
            flow_definition_name="starlink_installation",
            trigger_keywords=("starlink", "starlink installation", "install starlink"),
            response_fields=(*_CUSTOMER, "kit_type", "mount_location", *_SCHEDULE, *_ADDRESS),
        ),
        _definition(
            "solar_panel_cleaning",
            friendly_name="Solar panel cleaning",
            description="Book a solar panel cleaning: contact details, roof and panels, date and address.",
            categories=(FlowCategory.APPOINTMENT_BOOKING,),
            flow_definition_name="solar_cleaning",
            trigger_keywords=("solar cleaning", "panel cleaning", "clean my panels"),
            response_fields=(*_CUSTOMER, "roof_type", "panel_type", "panel_count", *_SCHEDULE, *_ADDRESS),
        ),
        _definition(
            "solar_installation",
            friendly_name="Solar installation",
            description="Schedule a solar installation for an order: type, order number, contact, date, address.",
            categories=(FlowCategory.APPOINTMENT_BOOKING,),
            flow_definition_name="solar_installation",
            trigger_keywords=("solar installation", "install solar"),
            response_fields=("installation_type", "order_number", *_CUSTOMER, *_SCHEDULE, *_ADDRESS),
        ),
        _definition(
            "tour_inquiry",
            friendly_name="Tour inquiry",
            description="Ask about a tour: destination, travel dates, travellers, budget and contact details.",
            categories=(FlowCategory.LEAD_GENERATION,),
            flow_definition_name="tour_inquiry",
            trigger_keywords=("tour", "tours", "book a tour"),
            response_fields=(
                "tour", "departure_date", "return_date", "travellers", "budget", *_CUSTOMER, "notes",
            ),
        ),
        _definition(
            "date_picker",
            friendly_name="Date picker",
            description="A reusable one-screen date picker; answers with `selected_date` (YYYY-MM-DD).",
            categories=(FlowCategory.OTHER,),
            flow_definition_name=None,
            trigger_keywords=(),
            response_fields=("selected_date",),
        ),
    )
}

__all__ = ["BUILTIN_FLOWS", "FlowDefinition"]
