"""`/{phone_number_id}/whatsapp_business_profile`: read and update a number's business profile."""

from __future__ import annotations

from typing import Any

from graph_simulator.endpoints.accounts import SUCCESS
from graph_simulator.errors import GraphError
from graph_simulator.router import Call, RouteHandler, RouteKey, select_fields
from graph_simulator.transport import Response

PROFILE_TEXT_LIMITS = {"about": 139, "address": 256, "description": 512, "email": 128}
PROFILE_WEBSITES_MAX = 2
PROFILE_VERTICALS = frozenset(
    {
        "UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN", "EVENT_PLAN", "FINANCE",
        "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT", "PROF_SERVICES", "RETAIL", "TRAVEL",
        "RESTAURANT", "NOT_A_BIZ",
    }
)  # fmt: skip


def profile_get(call: Call) -> Response:
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        profile = {"messaging_product": "whatsapp", **call.sim.state.business_profiles.get(phone.id, {})}
    fields = call.request.query.get("fields")
    return Response.json({"data": [select_fields(profile, fields) if fields else profile]})


def profile_update(call: Call) -> Response:
    params = call.params()
    if params.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
    changes: dict[str, Any] = {}
    for name, most in PROFILE_TEXT_LIMITS.items():
        if name in params:
            value = str(params[name] or "")
            if len(value) > most or (name == "about" and not value):
                raise GraphError(100, f"Param {name} must be 1 to {most} characters.")
            changes[name] = value
    if "websites" in params:
        websites = params["websites"]
        if not isinstance(websites, list) or len(websites) > PROFILE_WEBSITES_MAX:
            raise GraphError(100, f"Param websites must be a list of at most {PROFILE_WEBSITES_MAX} URLs.")
        changes["websites"] = [str(w) for w in websites]
    if "vertical" in params:
        if params["vertical"] not in PROFILE_VERTICALS:
            raise GraphError(100, "Param vertical must be one of Meta's business verticals.")
        changes["vertical"] = params["vertical"]
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        handle = params.get("profile_picture_handle")
        if handle:
            if handle not in call.sim.state.upload_handles:
                raise GraphError(100, "Param profile_picture_handle is not a valid upload handle.")
            changes["profile_picture_url"] = f"{call.sim.base_url(call.request)}/_profile_pictures/{phone.id}"
        call.sim.state.business_profiles.setdefault(phone.id, {}).update(changes)
    return Response.json(SUCCESS)


ROUTES: dict[RouteKey, RouteHandler] = {
    ("phone", "whatsapp_business_profile", "GET"): profile_get,
    ("phone", "whatsapp_business_profile", "POST"): profile_update,
}
