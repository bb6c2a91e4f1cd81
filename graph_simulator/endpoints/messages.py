"""`POST /{phone_number_id}/messages`: sends (validated like Meta) and read receipts.

The hot path of the send benchmark: one JSON parse, one short critical section, one heap push
for the status chain. Nothing here waits on I/O.
"""

from __future__ import annotations

import time
from typing import Any

from graph_simulator import ids
from graph_simulator.config import SimulatorConfig
from graph_simulator.constants import CUSTOMER_SERVICE_WINDOW_S, THROUGHPUT_BY_LEVEL
from graph_simulator.endpoints.accounts import SUCCESS
from graph_simulator.errors import GraphError
from graph_simulator.events import REENGAGEMENT_ERROR, UNDELIVERABLE_ERROR
from graph_simulator.models import PhoneNumber
from graph_simulator.router import Call, RouteHandler, RouteKey
from graph_simulator.rules.messages import OutboundMessage, message_validate, parameter_required
from graph_simulator.rules.templates import template_send_check
from graph_simulator.state import SimulatorState
from graph_simulator.statuses import AcceptedMessage, status_chain_start
from graph_simulator.transport import Response


def messages_post(call: Call) -> Response:
    payload = call.request.json()
    if isinstance(payload, dict) and "status" in payload and "type" not in payload:
        return _mark_read(call, payload)
    sim = call.sim
    try:
        message = message_validate(payload)
        accepted, config = _accept(call, message)
    except GraphError:
        sim.send_stats.count(call.object_id, accepted=False)
        raise
    sim.send_stats.count(call.object_id, accepted=True)
    if config.status_webhooks:
        status_chain_start(sim, accepted, config.status_sequence, config.status_delay_ms / 1000)
    sent: dict[str, Any] = {"id": accepted.wamid}
    if message.type == "template":
        sent["message_status"] = "accepted"
    return Response.json(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": message.to, "wa_id": message.wa_id}],
            "messages": [sent],
        }
    )


def _accept(call: Call, message: OutboundMessage) -> tuple[AcceptedMessage, SimulatorConfig]:
    """All state checks and updates of one send, under the state lock."""
    state = call.sim.state
    now = time.time()
    with state.lock:
        phone = state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        config = state.config
        if phone.status not in ("CONNECTED", "FLAGGED"):
            raise GraphError(133010, f"Phone number {phone.id} is not registered (status {phone.status}).")
        if message.wa_id == phone.digits:
            raise GraphError(131021, "The recipient is the sender's own phone number.")
        category = _category(state, phone, message)
        failure = None
        if (
            message.type != "template"
            and config.enforce_window
            and not _window_open(state, phone, message, now)
        ):
            if config.window_error == "sync":
                raise GraphError(131047, REENGAGEMENT_ERROR["error_data"]["details"])
            failure = REENGAGEMENT_ERROR
        if config.enforce_throughput:
            _throughput_take(state, phone, now)
        if failure is None and message.wa_id in config.undeliverable:
            failure = UNDELIVERABLE_ERROR
        accepted = AcceptedMessage(
            phone=phone,
            wamid=ids.new_wamid(message.wa_id),
            recipient_id=message.wa_id,
            category=category,
            conversation=state.conversation_for(phone.id, message.wa_id, category, now),
            biz_opaque_callback_data=message.biz_opaque_callback_data,
            failure=failure,
        )
    return accepted, config


def _category(state: SimulatorState, phone: PhoneNumber, message: OutboundMessage) -> str:
    """Pricing category: the template's, else `service`. Raises the template or flow error Meta would."""
    if message.type == "template":
        template = state.template_find(
            phone.waba_id, message.template_name or "", message.template_language or ""
        )
        approved = template_send_check(
            template,
            message.template_name or "",
            message.template_language or "",
            message.template_components,
        )
        return approved.category.lower()
    if message.flow_id or message.flow_name:
        flow = state.flows.get(message.flow_id or "") or next(
            (f for f in state.flows.values() if f.waba_id == phone.waba_id and f.name == message.flow_name),
            None,
        )
        if flow is not None and flow.status == "BLOCKED":
            raise GraphError(132068, f"Flow {flow.id} is blocked.")
    return "service"


def _window_open(state: SimulatorState, phone: PhoneNumber, message: OutboundMessage, now: float) -> bool:
    last_inbound = state.windows.get((phone.id, message.wa_id))
    return last_inbound is not None and now - last_inbound < CUSTOMER_SERVICE_WINDOW_S


def _throughput_take(state: SimulatorState, phone: PhoneNumber, now: float) -> None:
    second = int(now)
    bucket = state.throughput.setdefault(phone.id, [second, 0])
    if bucket[0] != second:
        bucket[0], bucket[1] = second, 0
    limit = THROUGHPUT_BY_LEVEL.get(phone.throughput_level, THROUGHPUT_BY_LEVEL["STANDARD"])
    if bucket[1] >= limit:
        raise GraphError(
            130429, f"Cloud API message throughput ({limit} messages per second) has been reached."
        )
    bucket[1] += 1


def _mark_read(call: Call, payload: dict[str, Any]) -> Response:
    """The read-receipt form: `{"messaging_product", "status": "read", "message_id"}`."""
    if payload.get("messaging_product") != "whatsapp":
        raise parameter_required("messaging_product")
    if payload.get("status") != "read":
        raise GraphError(100, "Param status must be 'read'.")
    message_id = payload.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise parameter_required("message_id")
    with call.sim.state.lock:
        call.require_waba(call.sim.state.phones[call.object_id].waba_id)
    return Response.json(SUCCESS)


ROUTES: dict[RouteKey, RouteHandler] = {
    ("phone", "messages", "POST"): messages_post,
}
