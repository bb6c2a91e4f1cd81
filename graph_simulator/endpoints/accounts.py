"""Accounts: debug_token, WABAs, phone numbers, registration, subscribed apps, the Flows public key."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from graph_simulator.errors import GraphError
from graph_simulator.models import Subscription
from graph_simulator.paging import paginate
from graph_simulator.router import Call, RouteHandler, RouteKey, select_fields
from graph_simulator.transport import Request, Response

if TYPE_CHECKING:
    from graph_simulator.server import Simulator

_PIN = re.compile(r"^\d{6}$")
SUCCESS = {"success": True}


def debug_token(sim: Simulator, request: Request, rest: list[str]) -> Response:
    """Inspects `input_token`; answers even for a dead token (is_valid false), like Meta's debugger."""
    if rest or request.method != "GET":
        raise GraphError(100, "debug_token supports GET only.")
    value = request.query.get("input_token")
    if not value:
        raise GraphError(
            100,
            "The parameter input_token is required.",
            message="(#100) The parameter input_token is required.",
        )
    with sim.state.lock:
        token = sim.state.tokens.get(value)
        app = sim.state.apps.get(token.app_id) if token and token.app_id else None
    if token is None:
        return Response.json(
            {
                "data": {
                    "error": {
                        "code": 190,
                        "message": "Invalid OAuth access token - Cannot parse access token",
                    },
                    "is_valid": False,
                    "scopes": [],
                }
            }
        )
    now = time.time()
    data: dict[str, Any] = {
        "app_id": token.app_id,
        "type": "SYSTEM_USER",
        "application": app.name if app else "Simulated App",
        "data_access_expires_at": 0,
        "expires_at": token.expires_at,
        "is_valid": token.valid and not token.is_expired(now),
        "issued_at": token.issued_at,
        "scopes": token.scopes,
        "granular_scopes": [
            {"scope": scope, "target_ids": sorted(token.waba_ids)}
            for scope in token.scopes
            if scope in ("whatsapp_business_management", "whatsapp_business_messaging")
        ],
        "user_id": token.user_id,
    }
    if not token.valid:
        data["error"] = {"code": 190, "message": "The session has been invalidated.", "subcode": 460}
    elif token.is_expired(now):
        data["error"] = {
            "code": 190,
            "message": "Error validating access token: Session has expired.",
            "subcode": 463,
        }
    return Response.json({"data": data})


def waba_get(call: Call) -> Response:
    with call.sim.state.lock:
        waba = call.sim.state.wabas[call.object_id]
        call.require_waba(waba.id)
        fields = waba.graph_fields()
    return Response.json(select_fields(fields, call.request.query.get("fields")))


def phone_numbers_list(call: Call) -> Response:
    with call.sim.state.lock:
        call.require_waba(call.object_id)
        phones = [p.graph_fields() for p in call.sim.state.phones.values() if p.waba_id == call.object_id]
    fields_param = call.request.query.get("fields")
    phones = [select_fields(p, fields_param) for p in phones]
    return Response.json(paginate(call.request, call.sim.base_url(call.request), phones))


def phone_get(call: Call) -> Response:
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        fields = phone.graph_fields()
    return Response.json(select_fields(fields, call.request.query.get("fields")))


def phone_register(call: Call) -> Response:
    params = call.params()
    if params.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
    pin = str(params.get("pin", ""))
    if not _PIN.match(pin):
        raise GraphError(
            100, "Param pin must be a 6-digit number.", message="(#100) Param pin must be 6 digits."
        )
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        if phone.pin and phone.pin != pin:
            raise GraphError(133005, "The two-step verification PIN does not match.")
        phone.pin = pin
        phone.status = "CONNECTED"
    return Response.json(SUCCESS)


def phone_deregister(call: Call) -> Response:
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        phone.status = "DISCONNECTED"
    return Response.json(SUCCESS)


def subscribed_apps_list(call: Call) -> Response:
    state = call.sim.state
    with state.lock:
        call.require_waba(call.object_id)
        data = []
        for subscription in state.wabas[call.object_id].subscriptions.values():
            app = state.apps.get(subscription.app_id)
            item: dict[str, Any] = {
                "whatsapp_business_api_data": {
                    "id": subscription.app_id,
                    "link": f"https://www.facebook.com/games/?app_id={subscription.app_id}",
                    "name": app.name if app else "Simulated App",
                }
            }
            if subscription.override_callback_uri:
                item["override_callback_uri"] = subscription.override_callback_uri
            data.append(item)
    return Response.json({"data": data})


def subscribed_apps_add(call: Call) -> Response:
    params = call.params()
    override = params.get("override_callback_uri")
    if override and not params.get("verify_token"):
        raise GraphError(100, "verify_token is required with override_callback_uri.")
    with call.sim.state.lock:
        call.require_waba(call.object_id)
        app_id = call.token.app_id or "unknown-app"
        call.sim.state.wabas[call.object_id].subscriptions[app_id] = Subscription(
            app_id=app_id,
            override_callback_uri=override or None,
            verify_token=params.get("verify_token"),
        )
    return Response.json(SUCCESS)


def subscribed_apps_remove(call: Call) -> Response:
    with call.sim.state.lock:
        call.require_waba(call.object_id)
        call.sim.state.wabas[call.object_id].subscriptions.pop(call.token.app_id or "unknown-app", None)
    return Response.json(SUCCESS)


def encryption_set(call: Call) -> Response:
    key = call.params().get("business_public_key")
    if not isinstance(key, str) or "BEGIN PUBLIC KEY" not in key:
        raise GraphError(100, "business_public_key must be a 2048-bit RSA public key in PEM format.")
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        phone.business_public_key = key
    return Response.json(SUCCESS)


def encryption_get(call: Call) -> Response:
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        key = phone.business_public_key
    if key is None:
        return Response.json({"data": []})
    return Response.json(
        {"data": [{"business_public_key": key, "business_public_key_signature_status": "VALID"}]}
    )


ROUTES: dict[RouteKey, RouteHandler] = {
    ("waba", None, "GET"): waba_get,
    ("waba", "phone_numbers", "GET"): phone_numbers_list,
    ("waba", "subscribed_apps", "GET"): subscribed_apps_list,
    ("waba", "subscribed_apps", "POST"): subscribed_apps_add,
    ("waba", "subscribed_apps", "DELETE"): subscribed_apps_remove,
    ("phone", None, "GET"): phone_get,
    ("phone", "register", "POST"): phone_register,
    ("phone", "deregister", "POST"): phone_deregister,
    ("phone", "whatsapp_business_encryption", "POST"): encryption_set,
    ("phone", "whatsapp_business_encryption", "GET"): encryption_get,
}
