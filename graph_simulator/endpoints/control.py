"""`/_sim/...`: the simulator's own control API (not Meta's). JSON in and out, no auth.

Tests seed accounts, play the customer (inject messages), flip behaviour, inject faults and read
back what the platform sent. Errors here are `{"error": {"message": ...}}` with HTTP 400 or 404.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graph_simulator.endpoints import inject
from graph_simulator.endpoints.control_base import ControlError, json_body
from graph_simulator.faults import fault_rule_parse
from graph_simulator.seeding import SeedError
from graph_simulator.transport import Request, Response

if TYPE_CHECKING:
    from graph_simulator.server import Simulator

logger = logging.getLogger(__name__)


# --- handlers ------------------------------------------------------------------------------------


def health(sim: Simulator, request: Request) -> Any:
    return {"ok": True, "base_url": sim.base_url(request)}


def seed(sim: Simulator, request: Request) -> Any:
    try:
        return sim.state.seed(json_body(request))
    except SeedError as error:
        raise ControlError(str(error)) from None


def faults_add(sim: Simulator, request: Request) -> Any:
    try:
        rule = fault_rule_parse(json_body(request))
    except (TypeError, ValueError) as error:
        raise ControlError(str(error)) from None
    sim.faults.add(rule)
    return {"id": rule.id, "faults": sim.faults.list()}


def faults_list(sim: Simulator, request: Request) -> Any:
    return {"faults": sim.faults.list()}


def faults_clear(sim: Simulator, request: Request) -> Any:
    sim.faults.clear()
    return {"faults": []}


def config_update(sim: Simulator, request: Request) -> Any:
    with sim.state.lock:
        try:
            sim.state.config.update(json_body(request))
        except ValueError as error:
            raise ControlError(str(error)) from None
        return sim.state.config.as_dict()


def config_get(sim: Simulator, request: Request) -> Any:
    with sim.state.lock:
        return sim.state.config.as_dict()


def requests_list(sim: Simulator, request: Request) -> Any:
    query = request.query
    try:
        entries = sim.requests.query(
            path_contains=query.get("path_contains") or None,
            method=query.get("method") or None,
            since=float(query["since"]) if query.get("since") else None,
            since_seq=int(query.get("since_seq") or 0),
            limit=int(query["limit"]) if query.get("limit") else None,
        )
    except ValueError:
        raise ControlError("since must be a number; since_seq and limit integers") from None
    return {"requests": entries, "count": len(entries), "last_seq": sim.requests.last_seq()}


def stats(sim: Simulator, request: Request) -> Any:
    window_s = int(request.query.get("window_s") or 300)
    return {
        "messages": sim.send_stats.snapshot(window_s=window_s),
        "webhooks": sim.webhooks.stats(),
        "requests_total": sim.requests.last_seq(),
        "scheduled": sim.scheduler.pending(),
    }


def webhooks_list(sim: Simulator, request: Request) -> Any:
    query = request.query
    records = sim.webhooks.recent(
        limit=int(query.get("limit") or 100),
        field_name=query.get("field") or None,
        since_seq=int(query.get("since_seq") or 0),
    )
    return {"webhooks": records, "stats": sim.webhooks.stats()}


def reset(sim: Simulator, request: Request) -> Any:
    sim.reset()
    return {"reset": True}


def state_dump(sim: Simulator, request: Request) -> Any:
    return sim.state.snapshot()


ControlHandler = Callable[["Simulator", Request], Any]

CONTROL_ROUTES: dict[tuple[str, str], ControlHandler] = {
    ("GET", "health"): health,
    ("POST", "seed"): seed,
    ("POST", "inject/message"): inject.inject_message,
    ("POST", "inject/webhook"): inject.inject_webhook,
    ("POST", "inject/call"): inject.inject_call,
    ("POST", "faults"): faults_add,
    ("GET", "faults"): faults_list,
    ("DELETE", "faults"): faults_clear,
    ("POST", "config"): config_update,
    ("GET", "config"): config_get,
    ("GET", "requests"): requests_list,
    ("GET", "stats"): stats,
    ("GET", "webhooks"): webhooks_list,
    ("POST", "reset"): reset,
    ("GET", "state"): state_dump,
    ("POST", "template_status"): inject.template_status,
    ("POST", "flow_status"): inject.flow_status,
    ("POST", "phone_quality"): inject.phone_quality,
}


def control_dispatch(sim: Simulator, request: Request) -> Response:
    route = request.path[len("/_sim/") :].strip("/")
    handler = CONTROL_ROUTES.get((request.method, route))
    if handler is None:
        known = any(path == route for _, path in CONTROL_ROUTES)
        message = (
            f"{request.method} not allowed on /_sim/{route}"
            if known
            else f"no control endpoint /_sim/{route}"
        )
        return Response.json({"error": {"message": message}}, 405 if known else 404)
    try:
        return Response.json(handler(sim, request))
    except ControlError as error:
        return Response.json({"error": {"message": str(error)}}, error.status)
    except ValueError as error:  # a malformed number in the query string, mostly
        return Response.json({"error": {"message": str(error)}}, 400)
    except Exception as error:  # the control API must answer, whatever went wrong
        logger.exception("control endpoint /_sim/%s failed", route)
        return Response.json({"error": {"message": f"{type(error).__name__}: {error}"}}, 500)
