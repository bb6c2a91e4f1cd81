"""Meta-side happenings that tests inject: customer messages, arbitrary webhooks, status changes.

The status changes are those Meta decides on its own: a template paused, a flow blocked, a
number flagged. Each posts the webhook Meta would.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import TYPE_CHECKING, Any

from graph_simulator import ids
from graph_simulator.endpoints.control_base import ControlError, json_body, required
from graph_simulator.endpoints.flows import flow_status_announce
from graph_simulator.endpoints.templates import template_status_announce
from graph_simulator.events import messages_value
from graph_simulator.models import digits_only
from graph_simulator.transport import Request

if TYPE_CHECKING:
    from graph_simulator.server import Simulator

_INJECT_RESERVED = {"phone_number_id", "from", "profile_name", "type", "wamid", "timestamp", "context"}
_MEDIA_DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/pdf",
    "sticker": "image/webp",
}


def inject_message(sim: Simulator, request: Request) -> Any:
    """A simulated customer writes to a business number: opens the window, posts the inbound webhook."""
    data = json_body(request)
    phone_id = str(required(data, "phone_number_id"))
    wa_id = digits_only(str(required(data, "from")))
    message_type = str(data.get("type") or "text")
    now = time.time()
    content = {key: value for key, value in data.items() if key not in _INJECT_RESERVED}
    if message_type == "text" and message_type not in content:
        content["text"] = {"body": "Hello"}
    wamid = str(data.get("wamid") or ids.new_wamid(wa_id))
    result: dict[str, Any] = {"wamid": wamid}
    with sim.state.lock:
        phone = sim.state.phones.get(phone_id)
        if phone is None:
            raise ControlError(f"unknown phone_number_id {phone_id}", 404)
        if message_type in _MEDIA_DEFAULT_MIME:
            content[message_type] = part = dict(content.get(message_type) or {})
            media = sim.state.media_add(
                content=_media_bytes(part.pop("content_base64", None), message_type, wamid),
                mime_type=part.get("mime_type") or _MEDIA_DEFAULT_MIME[message_type],
                waba_id=phone.waba_id,
                phone_number_id=phone.id,
                filename=part.get("filename"),
            )
            part.update(id=media.id, mime_type=media.mime_type, sha256=media.sha256)
            result["media_id"] = media.id
        sim.state.windows[(phone.id, wa_id)] = now
    _nfm_reply_as_string(content)
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(int(data.get("timestamp") or now)),
        "type": message_type,
    }
    context = data.get("context")
    if isinstance(context, dict):
        message["context"] = {"from": phone.digits, "id": context.get("id") or context.get("message_id")}
    message.update(content)
    contact = {"profile": {"name": str(data.get("profile_name") or "Simulated Customer")}, "wa_id": wa_id}
    sim.emit(phone.waba_id, "messages", messages_value(phone, contacts=[contact], messages=[message]))
    return result


def _media_bytes(content_base64: str | None, message_type: str, wamid: str) -> bytes:
    if content_base64 is None:
        return f"simulated {message_type} for {wamid}".encode()
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError("content_base64 is not valid base64") from None


def _nfm_reply_as_string(content: dict[str, Any]) -> None:
    """Meta sends `nfm_reply.response_json` as a JSON string; accept an object for convenience."""
    nfm_reply = (content.get("interactive") or {}).get("nfm_reply")
    if isinstance(nfm_reply, dict) and isinstance(nfm_reply.get("response_json"), dict):
        nfm_reply["response_json"] = json.dumps(nfm_reply["response_json"])


def inject_webhook(sim: Simulator, request: Request) -> Any:
    """Post an arbitrary change (`field`, `value`) for a WABA or phone number, signed like the rest."""
    data = json_body(request)
    field = str(required(data, "field"))
    value = required(data, "value")
    if not isinstance(value, dict):
        raise ControlError("'value' must be an object")
    waba_id = data.get("waba_id")
    phone_id = data.get("phone_number_id")
    with sim.state.lock:
        phone = sim.state.phones.get(str(phone_id)) if phone_id else None
        if phone_id and phone is None:
            raise ControlError(f"unknown phone_number_id {phone_id}", 404)
        if phone is not None:
            waba_id = waba_id or phone.waba_id
            if field == "messages" and "metadata" not in value:
                value = messages_value(phone, **value)
        if not waba_id:
            raise ControlError("'waba_id' or 'phone_number_id' is required")
        targets = len(sim.state.webhook_targets(str(waba_id)))
    sim.emit(str(waba_id), field, value)
    return {"queued": True, "targets": targets}


def inject_call(sim: Simulator, request: Request) -> Any:
    """A simulated customer calls a business number: posts the `calls` webhook of one call event
    (`event` connect by default; terminate with `status` and `duration`). A call opens no window."""
    data = json_body(request)
    phone_id = str(required(data, "phone_number_id"))
    wa_id = digits_only(str(required(data, "from")))
    now = int(data.get("timestamp") or time.time())
    with sim.state.lock:
        phone = sim.state.phones.get(phone_id)
        if phone is None:
            raise ControlError(f"unknown phone_number_id {phone_id}", 404)
    call: dict[str, Any] = {
        "id": str(data.get("call_id") or f"wacid.{ids.new_wamid(wa_id).removeprefix('wamid.')}"),
        "from": wa_id,
        "to": phone.digits,
        "event": str(data.get("event") or "connect"),
        "timestamp": str(now),
        "direction": "USER_INITIATED",
    }
    for key in ("status", "duration"):
        if data.get(key) is not None:
            call[key] = data[key]
    contact = {"profile": {"name": str(data.get("profile_name") or "Simulated Customer")}, "wa_id": wa_id}
    sim.emit(phone.waba_id, "calls", messages_value(phone, contacts=[contact], calls=[call]))
    return {"call_id": call["id"]}


def template_status(sim: Simulator, request: Request) -> Any:
    """Move a template to any status (PAUSED, DISABLED, APPROVED ...) and post the status webhook."""
    data = json_body(request)
    status = str(required(data, "status")).upper()
    with sim.state.lock:
        if data.get("template_id"):
            template = sim.state.templates.get(str(data["template_id"]))
        else:
            template = sim.state.template_find(
                str(required(data, "waba_id")),
                str(required(data, "name")),
                str(required(data, "language")),
            )
        if template is None:
            raise ControlError("template not found", 404)
        template.status = status
        template.rejected_reason = data.get("reason") if status == "REJECTED" else None
    template_status_announce(sim, template)
    return template.graph_fields()


def flow_status(sim: Simulator, request: Request) -> Any:
    """Move a flow to BLOCKED, THROTTLED ... and post the `flows` webhook."""
    data = json_body(request)
    status = str(required(data, "status")).upper()
    with sim.state.lock:
        flow = sim.state.flows.get(str(required(data, "flow_id")))
        if flow is None:
            raise ControlError("flow not found", 404)
        old_status, flow.status = flow.status, status
    flow_status_announce(sim, flow, old_status)
    return {"id": flow.id, "status": flow.status}


def phone_quality(sim: Simulator, request: Request) -> Any:
    """Change a number's quality or limit tier and post `phone_number_quality_update`."""
    data = json_body(request)
    with sim.state.lock:
        phone = sim.state.phones.get(str(required(data, "phone_number_id")))
        if phone is None:
            raise ControlError("phone number not found", 404)
        if data.get("quality_rating"):
            phone.quality_rating = str(data["quality_rating"]).upper()
        if data.get("messaging_limit_tier"):
            phone.messaging_limit_tier = str(data["messaging_limit_tier"])
        if data.get("throughput_level"):
            phone.throughput_level = str(data["throughput_level"]).upper()
        value = {
            "display_phone_number": phone.digits,
            "event": str(data.get("event") or ("FLAGGED" if phone.quality_rating == "RED" else "UNFLAGGED")),
            "current_limit": phone.messaging_limit_tier,
        }
    sim.emit(phone.waba_id, "phone_number_quality_update", value)
    return phone.graph_fields()
