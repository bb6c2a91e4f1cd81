"""Resumable uploads: `POST /{app_id}/uploads` opens a session, `POST /upload:{id}` sends the bytes.

The handle (`h`) that a complete upload returns goes into a template's `example.header_handle` or a
business profile's `profile_picture_handle`.
"""

from __future__ import annotations

import secrets

from graph_simulator.errors import GraphError
from graph_simulator.router import Call, RouteHandler, RouteKey
from graph_simulator.transport import Response

UPLOAD_FILE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"})


def upload_session_create(call: Call) -> Response:
    query = call.request.query
    try:
        file_length = int(query.get("file_length", ""))
    except ValueError:
        raise GraphError(100, "The parameter file_length is required and must be a whole number.") from None
    file_type = query.get("file_type", "")
    if file_length <= 0:
        raise GraphError(100, "The parameter file_length must be positive.")
    if file_type not in UPLOAD_FILE_TYPES:
        raise GraphError(100, f"Param file_type must be one of {sorted(UPLOAD_FILE_TYPES)}.")
    with call.sim.state.lock:
        app = call.sim.state.apps[call.object_id]
        if call.token.app_id and call.token.app_id != app.app_id:
            raise GraphError(200, "The token does not belong to this app.")
        session_id = f"upload:{secrets.token_urlsafe(12)}"
        call.sim.state.upload_sessions[session_id] = {
            "file_length": file_length,
            "file_type": file_type,
            "file_name": query.get("file_name", ""),
            "data": b"",
        }
    return Response.json({"id": session_id})


def upload_session_send(call: Call) -> Response:
    """Append the body at `file_offset`; once every byte is there, answer the handle."""
    try:
        offset = int(call.request.headers.get("file_offset", ""))
    except ValueError:
        raise GraphError(100, "The header file_offset is required.") from None
    with call.sim.state.lock:
        session = call.sim.state.upload_sessions[call.object_id]
        if offset != len(session["data"]):
            raise GraphError(100, f"file_offset must be {len(session['data'])}.")
        session["data"] += call.request.body
        if len(session["data"]) > session["file_length"]:
            raise GraphError(100, "More bytes than file_length.")
        if len(session["data"]) < session["file_length"]:
            return Response.json({"id": call.object_id, "file_offset": len(session["data"])})
        handle = f"4::{secrets.token_urlsafe(24)}"
        call.sim.state.upload_handles[handle] = session["data"]
    return Response.json({"h": handle})


def upload_session_get(call: Call) -> Response:
    with call.sim.state.lock:
        session = call.sim.state.upload_sessions[call.object_id]
        offset = len(session["data"])
    return Response.json({"id": call.object_id, "file_offset": offset})


ROUTES: dict[RouteKey, RouteHandler] = {
    ("app", "uploads", "POST"): upload_session_create,
    ("upload", None, "POST"): upload_session_send,
    ("upload", None, "GET"): upload_session_get,
}
