"""Media: upload, look up (URL back at the simulator), download with the bearer token, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph_simulator.endpoints.accounts import SUCCESS
from graph_simulator.errors import GraphError, permission_denied, unknown_object
from graph_simulator.router import Call, RouteHandler, RouteKey, authenticate
from graph_simulator.transport import Request, Response, UploadedFile

if TYPE_CHECKING:
    from graph_simulator.server import Simulator


def media_upload(call: Call) -> Response:
    params = call.params()
    if params.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be 'whatsapp'.")
    upload = params.get("file")
    if not isinstance(upload, UploadedFile):
        raise GraphError(100, "The parameter file is required (multipart/form-data file part).")
    mime_type = str(params.get("type") or upload.content_type or "application/octet-stream")
    with call.sim.state.lock:
        phone = call.sim.state.phones[call.object_id]
        call.require_waba(phone.waba_id)
        media = call.sim.state.media_add(
            content=upload.data,
            mime_type=mime_type,
            waba_id=phone.waba_id,
            phone_number_id=phone.id,
            filename=upload.filename,
        )
    return Response.json({"id": media.id})


def media_get(call: Call) -> Response:
    with call.sim.state.lock:
        media = call.sim.state.media[call.object_id]
        if media.waba_id:
            call.require_waba(media.waba_id)
    return Response.json(
        {
            "messaging_product": "whatsapp",
            "url": f"{call.sim.base_url(call.request)}/_media/{media.id}",
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": len(media.content),
            "id": media.id,
        }
    )


def media_delete(call: Call) -> Response:
    with call.sim.state.lock:
        media = call.sim.state.media[call.object_id]
        if media.waba_id:
            call.require_waba(media.waba_id)
        del call.sim.state.media[media.id]
    return Response.json(SUCCESS)


def media_download(sim: Simulator, request: Request, rest: list[str]) -> Response:
    """`GET /_media/{id}`: the bytes, for a token that may see the media's WABA (Meta's lookaside URL)."""
    token = authenticate(sim, request)
    if len(rest) != 1 or request.method != "GET":
        raise unknown_object("/".join(rest), request.method)
    with sim.state.lock:
        media = sim.state.media.get(rest[0])
    if media is None:
        raise unknown_object(rest[0], request.method)
    if media.waba_id and media.waba_id not in token.waba_ids:
        raise permission_denied(media.id)
    return Response(200, media.content, content_type=media.mime_type)


ROUTES: dict[RouteKey, RouteHandler] = {
    ("phone", "media", "POST"): media_upload,
    ("media", None, "GET"): media_get,
    ("media", None, "DELETE"): media_delete,
}
