"""Seeding: the `/_sim/seed` document (also `--seed FILE.json`) applied to the state as upserts.

Shape: `{"apps": [...], "wabas": [{..., "phone_numbers": [...]}], "phone_numbers": [...],
"tokens": [...], "templates": [...], "flows": [...], "config": {...}}`; every list optional.
Seeding the same document twice changes nothing the second time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graph_simulator import ids
from graph_simulator.models import App, Flow, PhoneNumber, Subscription, Template, Token, Waba
from graph_simulator.rules.flow_json import flow_json_validate

if TYPE_CHECKING:
    from graph_simulator.state import SimulatorState


class SeedError(ValueError):
    """The seed document is missing something it needs; nothing after the bad item was applied."""


def state_seed(state: SimulatorState, document: dict[str, Any]) -> dict[str, Any]:
    """Upsert apps, WABAs (with phone numbers), tokens, templates and flows; returns what it did."""
    if not isinstance(document, dict):
        raise SeedError("the seed must be a JSON object")
    summary: dict[str, Any] = {
        "apps": 0,
        "wabas": 0,
        "phone_numbers": 0,
        "tokens": 0,
        "templates": [],
        "flows": [],
    }
    with state.lock:
        for item in _items(document, "apps"):
            _seed_app(state, item)
            summary["apps"] += 1
        for item in _items(document, "wabas"):
            summary["phone_numbers"] += _seed_waba(state, item)
            summary["wabas"] += 1
        for item in _items(document, "phone_numbers"):
            _seed_phone(state, item, _required(item, "waba_id"))
            summary["phone_numbers"] += 1
        for item in _items(document, "tokens"):
            _seed_token(state, item)
            summary["tokens"] += 1
        for item in _items(document, "templates"):
            template = _seed_template(state, item)
            summary["templates"].append(
                {"id": template.id, "name": template.name, "language": template.language}
            )
        for item in _items(document, "flows"):
            summary["flows"].append({"id": _seed_flow(state, item).id})
        if "config" in document:
            try:
                state.config.update(document["config"])
            except ValueError as error:
                raise SeedError(str(error)) from error
    return summary


def _seed_app(state: SimulatorState, item: dict[str, Any]) -> None:
    app_id = _required(item, "app_id")
    app = state.apps.get(app_id) or App(app_id=app_id)
    app.app_secret = item.get("app_secret", app.app_secret)
    app.webhook_url = item.get("webhook_url", app.webhook_url)
    app.name = item.get("name", app.name)
    state.apps[app_id] = app


def _seed_waba(state: SimulatorState, item: dict[str, Any]) -> int:
    waba_id = _required(item, "id")
    waba = state.wabas.get(waba_id) or Waba(id=waba_id)
    for key in ("name", "business_id", "app_id", "currency", "timezone_id"):
        if key in item:
            setattr(waba, key, None if item[key] is None else str(item[key]))
    state.wabas[waba_id] = waba
    for app_id in item.get("subscribed_apps", []):
        waba.subscriptions.setdefault(str(app_id), Subscription(app_id=str(app_id)))
    phones = item.get("phone_numbers", [])
    for phone in phones:
        _seed_phone(state, phone, waba_id)
    return len(phones)


def _seed_phone(state: SimulatorState, item: dict[str, Any], waba_id: str) -> None:
    phone_id = _required(item, "id")
    if waba_id not in state.wabas:
        raise SeedError(f"phone number {phone_id}: unknown waba_id {waba_id}")
    phone = state.phones.get(phone_id) or PhoneNumber(
        id=phone_id, waba_id=waba_id, display_phone_number=_required(item, "display_phone_number")
    )
    phone.waba_id = waba_id
    throughput = item.get("throughput")
    if isinstance(throughput, dict):
        phone.throughput_level = str(throughput.get("level", phone.throughput_level))
    elif throughput:
        phone.throughput_level = str(throughput)
    for key in (
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "status",
        "messaging_limit_tier",
        "code_verification_status",
        "name_status",
        "platform_type",
        "pin",
    ):
        if key in item:
            setattr(phone, key, None if item[key] is None else str(item[key]))
    state.phones[phone_id] = phone


def _seed_token(state: SimulatorState, item: dict[str, Any]) -> None:
    value = _required(item, "token")
    token = state.tokens.get(value) or Token(token=value)
    if "app_id" in item:
        token.app_id = str(item["app_id"])
    if "waba_ids" in item:
        token.waba_ids = {str(waba_id) for waba_id in item["waba_ids"]}
    if "expires_at" in item:
        token.expires_at = int(item["expires_at"] or 0)
    if "valid" in item:
        token.valid = bool(item["valid"])
    if "scopes" in item:
        token.scopes = [str(scope) for scope in item["scopes"]]
    state.tokens[value] = token


def _seed_template(state: SimulatorState, item: dict[str, Any]) -> Template:
    waba_id = _required(item, "waba_id")
    if waba_id not in state.wabas:
        raise SeedError(f"template {item.get('name')}: unknown waba_id {waba_id}")
    name, language = _required(item, "name"), _required(item, "language")
    components = item.get("components")
    if components is None:
        components = [{"type": "BODY", "text": item.get("body", "Hello")}]
    template = state.template_find(waba_id, name, language)
    if template is None:
        template = Template(
            id=str(item.get("id") or ids.new_graph_id()),
            waba_id=waba_id,
            name=name,
            language=language,
            category="UTILITY",
            components=components,
        )
    template.category = str(item.get("category", template.category)).upper()
    template.components = components
    template.status = str(item.get("status", "APPROVED")).upper()
    template.parameter_format = str(item.get("parameter_format", template.parameter_format)).upper()
    state.template_add(template)
    return template


def _seed_flow(state: SimulatorState, item: dict[str, Any]) -> Flow:
    waba_id = _required(item, "waba_id")
    flow_id = str(item.get("id") or ids.new_graph_id())
    flow = state.flows.get(flow_id) or Flow(
        id=flow_id, waba_id=waba_id, name=_required(item, "name"), categories=["OTHER"]
    )
    flow.categories = list(item.get("categories", flow.categories))
    flow.status = str(item.get("status", flow.status)).upper()
    flow.endpoint_uri = item.get("endpoint_uri", flow.endpoint_uri)
    flow_json = item.get("flow_json")
    if flow_json is not None:
        flow.flow_json, flow.validation_errors, flow.json_version, flow.data_api_version = flow_json_validate(
            flow_json
        )
    state.flows[flow_id] = flow
    return flow


def _items(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = document.get(key, [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise SeedError(f"'{key}' must be a list of objects")
    return items


def _required(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if value is None or value == "":
        raise SeedError(f"missing '{key}' in {item}")
    return str(value)
