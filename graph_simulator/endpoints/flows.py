"""WhatsApp Flows: create, upload the Flow JSON asset, publish, deprecate, delete, read.

Life cycle as Meta enforces it: only a DRAFT takes new assets or can be deleted; publishing needs
an asset without validation errors; only a PUBLISHED flow can be deprecated.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from graph_simulator import ids
from graph_simulator.constants import FLOW_ASSET_MAX_BYTES, FLOW_CATEGORIES
from graph_simulator.endpoints.accounts import SUCCESS
from graph_simulator.errors import GraphError, permission_denied, unknown_object
from graph_simulator.events import flow_status_value
from graph_simulator.models import Flow
from graph_simulator.paging import paginate
from graph_simulator.router import Call, RouteHandler, RouteKey, authenticate, select_fields
from graph_simulator.rules.flow_json import flow_json_validate
from graph_simulator.transport import Request, Response, UploadedFile

if TYPE_CHECKING:
    from graph_simulator.server import Simulator


def flows_create(call: Call) -> Response:
    params = call.params()
    name = params.get("name")
    if not isinstance(name, str) or not name.strip():
        raise GraphError(
            100, "The parameter name is required.", message="(#100) The parameter name is required."
        )
    categories = _categories(params.get("categories"))
    flow_json = params.get("flow_json")
    if isinstance(flow_json, UploadedFile):
        flow_json = flow_json.data
    publish = str(params.get("publish", "false")).lower() == "true"
    sim = call.sim
    with sim.state.lock:
        call.require_waba(call.object_id)
        if any(f.waba_id == call.object_id and f.name == name for f in sim.state.flows.values()):
            raise GraphError(
                100,
                f"Flow name '{name}' is not unique within this WhatsApp Business Account.",
                user_title="Flow name is not unique",
            )
        flow = Flow(
            id=ids.new_graph_id(),
            waba_id=call.object_id,
            name=name,
            categories=categories,
            endpoint_uri=params.get("endpoint_uri") or None,
            app_id=call.token.app_id,
        )
        clone_id = params.get("clone_flow_id")
        if clone_id:
            source = sim.state.flows.get(str(clone_id))
            if source is None or source.waba_id != call.object_id:
                raise GraphError(100, f"Flow with specified ID {clone_id} does not exist.")
            flow_json = flow_json if flow_json is not None else source.flow_json
        if flow_json is not None:
            flow.flow_json, flow.validation_errors, flow.json_version, flow.data_api_version = (
                flow_json_validate(flow_json)
            )
        if publish and flow.flow_json is not None and not flow.validation_errors:
            flow.status = "PUBLISHED"
        sim.state.flows[flow.id] = flow
    return Response.json({"id": flow.id, "success": True, "validation_errors": flow.validation_errors})


def _categories(raw: Any) -> list[str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [item.strip() for item in raw.split(",") if item.strip()]
    if not isinstance(raw, list) or not raw:
        raise GraphError(
            100,
            "The parameter categories is required.",
            message="(#100) The parameter categories is required.",
        )
    bad = [item for item in raw if item not in FLOW_CATEGORIES]
    if bad:
        raise GraphError(100, f"Invalid categories {bad}; allowed: {list(FLOW_CATEGORIES)}.")
    return [str(item) for item in raw]


def flows_list(call: Call) -> Response:
    with call.sim.state.lock:
        call.require_waba(call.object_id)
        flows = [
            {
                "id": f.id,
                "name": f.name,
                "status": f.status,
                "categories": f.categories,
                "validation_errors": f.validation_errors,
            }
            for f in call.sim.state.flows.values()
            if f.waba_id == call.object_id
        ]
    return Response.json(paginate(call.request, call.sim.base_url(call.request), flows))


def _flow(call: Call) -> Flow:
    """The flow of this call, after the permission check; the caller holds the state lock."""
    flow = call.sim.state.flows[call.object_id]
    call.require_waba(flow.waba_id)
    return flow


def flow_get(call: Call) -> Response:
    with call.sim.state.lock:
        fields = _flow(call).graph_fields(call.sim.base_url(call.request))
    return Response.json(select_fields(fields, call.request.query.get("fields")))


def flow_update(call: Call) -> Response:
    params = call.params()
    with call.sim.state.lock:
        flow = _flow(call)
        if "categories" in params:
            flow.categories = _categories(params["categories"])
        if params.get("name"):
            flow.name = str(params["name"])
        if "endpoint_uri" in params:
            if flow.status != "DRAFT":
                raise GraphError(139001, "The endpoint_uri of a flow that is not a DRAFT cannot be changed.")
            flow.endpoint_uri = params["endpoint_uri"] or None
    return Response.json(SUCCESS)


def flow_delete(call: Call) -> Response:
    with call.sim.state.lock:
        flow = _flow(call)
        if flow.status != "DRAFT":
            raise GraphError(
                100,
                f"Flow {flow.id} is {flow.status}: only DRAFT flows can be deleted.",
                user_title="Flow can't be deleted",
            )
        del call.sim.state.flows[flow.id]
    return Response.json(SUCCESS)


def flow_assets_upload(call: Call) -> Response:
    params = call.params()
    upload = params.get("file")
    if upload is None:
        raise GraphError(
            100, "The parameter file is required.", message="(#100) The parameter file is required."
        )
    if params.get("asset_type") != "FLOW_JSON":
        raise GraphError(100, "Param asset_type must be FLOW_JSON.")
    if params.get("name") != "flow.json":
        raise GraphError(100, "Param name must be flow.json.")
    content = upload.data if isinstance(upload, UploadedFile) else str(upload).encode()
    if len(content) > FLOW_ASSET_MAX_BYTES:
        raise GraphError(100, "The Flow JSON file must be at most 10 MB.")
    text, errors, version, data_api_version = flow_json_validate(content)
    with call.sim.state.lock:
        flow = _flow(call)
        if flow.status != "DRAFT":
            raise GraphError(
                139001,
                f"Flow {flow.id} is {flow.status}: a published flow can't be updated.",
                subcode=4016012,
                user_title="Can't update a published flow",
            )
        flow.flow_json, flow.validation_errors = text, errors
        flow.json_version, flow.data_api_version = version, data_api_version
    return Response.json({"success": True, "validation_errors": errors})


def flow_assets_list(call: Call) -> Response:
    with call.sim.state.lock:
        flow = _flow(call)
        has_asset = flow.flow_json is not None
    data = (
        [
            {
                "name": "flow.json",
                "asset_type": "FLOW_JSON",
                "download_url": f"{call.sim.base_url(call.request)}/_flow_assets/{flow.id}",
            }
        ]
        if has_asset
        else []
    )
    return Response.json({"data": data})


def flow_publish(call: Call) -> Response:
    with call.sim.state.lock:
        flow = _flow(call)
        if flow.status != "DRAFT":
            raise GraphError(139002, f"Flow {flow.id} is {flow.status}: only DRAFT flows can be published.")
        if flow.flow_json is None:
            raise GraphError(139002, "The flow has no Flow JSON asset.", user_title="Publishing failed")
        if flow.validation_errors:
            raise GraphError(
                139002,
                f"The Flow JSON has {len(flow.validation_errors)} validation error(s).",
                user_title="Publishing failed",
            )
        flow.status = "PUBLISHED"
    flow_status_announce(call.sim, flow, "DRAFT")
    return Response.json(SUCCESS)


def flow_deprecate(call: Call) -> Response:
    with call.sim.state.lock:
        flow = _flow(call)
        old_status = flow.status
        if old_status not in ("PUBLISHED", "THROTTLED", "BLOCKED"):
            raise GraphError(100, f"Flow {flow.id} is {old_status}: only published flows can be deprecated.")
        flow.status = "DEPRECATED"
    flow_status_announce(call.sim, flow, old_status)
    return Response.json(SUCCESS)


def flow_status_announce(sim: Simulator, flow: Flow, old_status: str) -> None:
    value = flow_status_value(
        flow_id=flow.id, flow_name=flow.name, old_status=old_status, new_status=flow.status
    )
    sim.emit(flow.waba_id, "flows", value)


def flow_asset_download(sim: Simulator, request: Request, rest: list[str]) -> Response:
    """`GET /_flow_assets/{flow_id}`: the stored flow.json (the assets' download_url)."""
    token = authenticate(sim, request)
    with sim.state.lock:
        flow = sim.state.flows.get(rest[0]) if len(rest) == 1 else None
    if flow is None or flow.flow_json is None:
        raise unknown_object("/".join(rest), request.method)
    if flow.waba_id not in token.waba_ids:
        raise permission_denied(flow.id)
    return Response(200, flow.flow_json.encode())


ROUTES: dict[RouteKey, RouteHandler] = {
    ("waba", "flows", "POST"): flows_create,
    ("waba", "flows", "GET"): flows_list,
    ("flow", None, "GET"): flow_get,
    ("flow", None, "POST"): flow_update,
    ("flow", None, "DELETE"): flow_delete,
    ("flow", "assets", "POST"): flow_assets_upload,
    ("flow", "assets", "GET"): flow_assets_list,
    ("flow", "publish", "POST"): flow_publish,
    ("flow", "deprecate", "POST"): flow_deprecate,
}
