"""The built-in flows are valid Flow JSON and their registry entries describe them truthfully."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flows_builder.definitions as definitions_package
from flows_builder.definitions import BUILTIN_FLOWS, FlowDefinition
from flows_builder.validation import validate_flow_json
from waba.meta import FlowCategory

DEFINITIONS_DIR = Path(definitions_package.__file__).parent


def complete_payloads(flow_json: dict) -> list[dict]:
    """Payloads of every `complete` action anywhere in the flow."""
    found: list[dict] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("name") == "complete" and isinstance(value.get("payload"), dict):
                found.append(value["payload"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(flow_json)
    return found


def test_registry_holds_the_service_flows_and_the_date_picker():
    assert set(BUILTIN_FLOWS) == {
        "starlink_installation",
        "solar_panel_cleaning",
        "solar_installation",
        "tour_inquiry",
        "date_picker",
    }
    assert {flow.flow_definition_name for flow in BUILTIN_FLOWS.values()} == {
        "starlink_installation",
        "solar_cleaning",
        "solar_installation",
        "tour_inquiry",
        None,
    }


def test_every_json_file_is_registered():
    assert {path.stem for path in DEFINITIONS_DIR.glob("*.json")} == set(BUILTIN_FLOWS)


@pytest.mark.parametrize("name", sorted(BUILTIN_FLOWS))
def test_builtin_flow_passes_validation_without_an_endpoint(name):
    definition = BUILTIN_FLOWS[name]
    assert validate_flow_json(definition.flow_json) == []
    assert validate_flow_json(definition.flow_json_text()) == []
    assert "data_api_version" not in definition.flow_json


@pytest.mark.parametrize("name", sorted(BUILTIN_FLOWS))
def test_registry_entry_matches_its_flow_json(name):
    definition = BUILTIN_FLOWS[name]
    assert isinstance(definition, FlowDefinition)
    assert definition.name == name
    assert definition.flow_json == json.loads((DEFINITIONS_DIR / f"{name}.json").read_text())
    assert definition.first_screen == definition.flow_json["screens"][0]["id"]
    assert definition.categories and all(
        isinstance(category, FlowCategory) for category in definition.categories
    )
    assert definition.friendly_name and definition.description


@pytest.mark.parametrize("name", sorted(BUILTIN_FLOWS))
def test_response_fields_are_exactly_the_complete_payload(name):
    definition = BUILTIN_FLOWS[name]
    payloads = complete_payloads(definition.flow_json)
    assert payloads, "a built-in flow must finish with a complete action"
    for payload in payloads:
        assert tuple(payload) == definition.response_fields


def test_service_flows_collect_customer_schedule_and_address():
    shared = {
        "full_name",
        "phone",
        "email",
        "preferred_date",
        "time_slot",
        "street",
        "city",
        "region",
        "postal_code",
        "notes",
    }
    assert shared | {"kit_type", "mount_location"} == set(
        BUILTIN_FLOWS["starlink_installation"].response_fields
    )
    assert shared | {"roof_type", "panel_type", "panel_count"} == set(
        BUILTIN_FLOWS["solar_panel_cleaning"].response_fields
    )
    assert shared | {"installation_type", "order_number"} == set(
        BUILTIN_FLOWS["solar_installation"].response_fields
    )


def test_starlink_offers_the_kits_and_mounts_businesses_install():
    components = [
        component
        for screen in BUILTIN_FLOWS["starlink_installation"].flow_json["screens"]
        for component in screen["layout"]["children"]
    ]
    sources = {c["name"]: {o["id"] for o in c["data-source"]} for c in components if "data-source" in c}
    assert {"standard", "mini", "flat_high_performance"} <= sources["kit_type"]
    assert sources["mount_location"] == {"roof", "wall", "pole", "ground"}


def test_date_picker_is_a_single_screen_component_flow():
    date_picker = BUILTIN_FLOWS["date_picker"]
    assert date_picker.flow_definition_name is None
    assert date_picker.trigger_keywords == ()
    assert len(date_picker.flow_json["screens"]) == 1
    assert date_picker.response_fields == ("selected_date",)


def test_trigger_keywords_are_lowercase_and_not_shared_between_flows():
    keywords = [keyword for flow in BUILTIN_FLOWS.values() for keyword in flow.trigger_keywords]
    assert len(keywords) == len(set(keywords))
    assert all(keyword == keyword.strip().lower() and keyword for keyword in keywords)


def test_definitions_are_frozen():
    with pytest.raises(AttributeError):
        BUILTIN_FLOWS["date_picker"].name = "other"
