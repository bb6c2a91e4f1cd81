"""Message templates: create (then a simulated review), list with paging and filters, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph_simulator import ids
from graph_simulator.endpoints.accounts import SUCCESS
from graph_simulator.errors import GraphError
from graph_simulator.events import template_status_value
from graph_simulator.models import Template
from graph_simulator.paging import paginate
from graph_simulator.router import Call, RouteHandler, RouteKey, select_fields
from graph_simulator.rules.templates import template_request_parse, template_review
from graph_simulator.transport import Response

if TYPE_CHECKING:
    from graph_simulator.server import Simulator


def templates_create(call: Call) -> Response:
    request = template_request_parse(call.params())
    sim = call.sim
    with sim.state.lock:
        call.require_waba(call.object_id)
        if sim.state.template_find(call.object_id, request.name, request.language):
            raise GraphError(
                100,
                f"Template {request.name} already exists in {request.language}.",
                subcode=2388024,
                user_title="Message template already exists",
                user_message=(
                    f"There is already {request.language} content for this template. "
                    "You can create a new template and try again."
                ),
            )
        template = Template(
            id=ids.new_graph_id(),
            waba_id=call.object_id,
            name=request.name,
            language=request.language,
            category=request.category,
            components=request.components,
            parameter_format=request.parameter_format,
        )
        sim.state.template_add(template)
        delay = sim.state.config.template_review_delay_s
    if delay <= 0:
        template_review_finish(sim, template.id)
    else:
        sim.scheduler.call_later(delay, template_review_finish, sim, template.id)
    return Response.json({"id": template.id, "status": "PENDING", "category": template.category})


def template_review_finish(sim: Simulator, template_id: str) -> None:
    """Decide a PENDING template and post `message_template_status_update`; a no-op if it moved on."""
    with sim.state.lock:
        template = sim.state.templates.get(template_id)
        if template is None or template.status != "PENDING":
            return
        template.status, template.rejected_reason = template_review(
            template, sim.state.config.template_rejections
        )
    template_status_announce(sim, template)


def template_status_announce(sim: Simulator, template: Template) -> None:
    value = template_status_value(
        template_id=template.id,
        name=template.name,
        language=template.language,
        event=template.status,
        reason=template.rejected_reason,
    )
    sim.emit(template.waba_id, "message_template_status_update", value)


def templates_list(call: Call) -> Response:
    query = call.request.query
    statuses = {s.strip().upper() for s in query.get("status", "").split(",") if s.strip()}
    with call.sim.state.lock:
        call.require_waba(call.object_id)
        templates = [
            t.graph_fields()
            for t in call.sim.state.templates.values()
            if t.waba_id == call.object_id
            and (not query.get("name") or query["name"] in t.name)
            and (not statuses or t.status in statuses)
            and (not query.get("language") or t.language == query["language"])
            and (not query.get("category") or t.category == query["category"].upper())
        ]
    fields_param = query.get("fields")
    templates = [select_fields(t, fields_param) for t in templates]
    return Response.json(paginate(call.request, call.sim.base_url(call.request), templates))


def templates_delete(call: Call) -> Response:
    params = call.params()
    name, hsm_id = params.get("name"), params.get("hsm_id")
    if not name:
        raise GraphError(
            100, "The parameter name is required.", message="(#100) The parameter name is required."
        )
    with call.sim.state.lock:
        call.require_waba(call.object_id)
        doomed = [
            t
            for t in call.sim.state.templates.values()
            if t.waba_id == call.object_id and t.name == name and (not hsm_id or t.id == str(hsm_id))
        ]
        if not doomed:
            raise GraphError(
                100, f'Message template "{name}" was not found.', user_title="Message template not found"
            )
        for template in doomed:
            call.sim.state.template_remove(template)
    return Response.json(SUCCESS)


def template_get(call: Call) -> Response:
    with call.sim.state.lock:
        template = call.sim.state.templates[call.object_id]
        call.require_waba(template.waba_id)
        fields = template.graph_fields()
    return Response.json(select_fields(fields, call.request.query.get("fields")))


EDITABLE_STATUSES = frozenset({"APPROVED", "REJECTED", "PAUSED"})


def template_edit(call: Call) -> Response:
    """`POST /{template_id}`: new components and/or category; the template goes back to review."""
    params = call.params()
    components, category = params.get("components"), params.get("category")
    if components is None and category is None:
        raise GraphError(100, "Give components or category to edit the template.")
    if components is not None and (
        not isinstance(components, list) or not all(isinstance(c, dict) for c in components)
    ):
        raise GraphError(100, "The parameter components must be a list of objects.")
    sim = call.sim
    with sim.state.lock:
        template = sim.state.templates[call.object_id]
        call.require_waba(template.waba_id)
        if template.status not in EDITABLE_STATUSES:
            raise GraphError(100, f"A template in status {template.status} cannot be edited.")
        if category is not None and str(category).upper() != template.category:
            if template.status == "APPROVED":
                raise GraphError(100, "The category of an approved template cannot be changed.")
            template.category = str(category).upper()
        if components is not None:
            template.components = components
        template.status, template.rejected_reason = "PENDING", None
        delay = sim.state.config.template_review_delay_s
    if delay <= 0:
        template_review_finish(sim, template.id)
    else:
        sim.scheduler.call_later(delay, template_review_finish, sim, template.id)
    return Response.json(SUCCESS)


ROUTES: dict[RouteKey, RouteHandler] = {
    ("template", None, "POST"): template_edit,
    ("waba", "message_templates", "POST"): templates_create,
    ("waba", "message_templates", "GET"): templates_list,
    ("waba", "message_templates", "DELETE"): templates_delete,
    ("template", None, "GET"): template_get,
}
