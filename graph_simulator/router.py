"""Graph routing: `/{object_id}` and `/{object_id}/{edge}` dispatched on the kind of object.

Graph resolves an id before it knows what you want from it, so the router does the same: the
token is checked first (190 beats everything), then the id's kind picks the handler table row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graph_simulator.errors import GraphError, nonexisting_field, permission_denied, unknown_object
from graph_simulator.models import Token
from graph_simulator.transport import Request, Response

if TYPE_CHECKING:
    from graph_simulator.server import Simulator

NODE_TYPES = {
    "waba": "WhatsAppBusinessAccount",
    "phone": "WhatsAppBusinessPhoneNumber",
    "flow": "WhatsAppFlow",
    "media": "WhatsAppBusinessMedia",
    "template": "WhatsAppMessageTemplate",
    "app": "Application",
    "upload": "UploadSession",
}


@dataclass
class Call:
    """One authenticated Graph call on one object."""

    sim: Simulator
    request: Request
    object_id: str
    token: Token

    def require_waba(self, waba_id: str | None) -> None:
        """403 (#200) unless the token was granted this WABA."""
        if waba_id is None or waba_id not in self.token.waba_ids:
            raise permission_denied(self.object_id)

    def params(self) -> dict[str, Any]:
        return self.request.params()


RouteHandler = Callable[[Call], Response]
RouteKey = tuple[str, str | None, str]


def authenticate(sim: Simulator, request: Request) -> Token:
    value = request.access_token() or request.params().get("access_token")
    if not value:
        raise GraphError(
            190, message="An active access token must be used to query information about the current user."
        )
    with sim.state.lock:
        token = sim.state.tokens.get(str(value))
    if token is None:
        raise GraphError(190)
    if not token.valid:
        raise GraphError(
            190,
            subcode=460,
            message=(
                "Error validating access token: The session has been invalidated because the user "
                "changed their password or Facebook has changed the session for security reasons."
            ),
        )
    now = time.time()
    if token.is_expired(now):
        expired = time.strftime("%A, %d-%b-%y %H:%M:%S UTC", time.gmtime(token.expires_at))
        current = time.strftime("%A, %d-%b-%y %H:%M:%S UTC", time.gmtime(now))
        raise GraphError(
            190,
            subcode=463,
            message=(
                f"Error validating access token: Session has expired on {expired}. "
                f"The current time is {current}."
            ),
        )
    return token


class Router:
    def __init__(
        self, routes: dict[RouteKey, RouteHandler], special: dict[str, Callable[..., Response]]
    ) -> None:
        self._routes = routes
        self._edges = {(kind, edge) for kind, edge, _ in routes}
        self._special = special

    def dispatch(self, sim: Simulator, request: Request, segments: list[str]) -> Response:
        if not segments:
            raise unknown_object("", request.method)
        head = segments[0]
        special = self._special.get(head)
        if special is not None:
            return special(sim, request, segments[1:])
        token = authenticate(sim, request)
        if len(segments) > 2:
            raise unknown_object(head, request.method)
        edge = segments[1] if len(segments) == 2 else None
        with sim.state.lock:
            kind = sim.state.kind_of(head)
        if kind is None:
            raise unknown_object(head, request.method)
        handler = self._routes.get((kind, edge, request.method))
        if handler is None:
            if edge is not None and (kind, edge) not in self._edges:
                raise nonexisting_field(edge, NODE_TYPES[kind])
            raise unknown_object(head, request.method)
        return handler(Call(sim, request, head, token))


def select_fields(data: dict[str, Any], fields_param: str | None) -> dict[str, Any]:
    """Graph's `?fields=a,b{c}`: the asked fields (plus `id`), or everything when none are asked."""
    if not fields_param:
        return data
    wanted = [item.split("{", 1)[0].strip() for item in _split_fields(fields_param)]
    selected = {"id": data["id"]} if "id" in data else {}
    selected.update({name: data[name] for name in wanted if name in data})
    return selected


def _split_fields(fields_param: str) -> list[str]:
    """Split on commas outside braces: `throughput{level},status` -> two fields."""
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for char in fields_param:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item for item in items if item.strip()]
