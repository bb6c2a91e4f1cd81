"""Who is making the current request's changes: the actor the audit log names.

`AuditActorMiddleware` binds the request for the length of its handling; the actor is read from it
only when an audited model changes, so the API key that django-ninja's auth attaches later
(`request.api_key`) is seen, and a request that changes nothing audited costs nothing. A key wins
over a session. Outside a request (webhook processing, workers, commands) there is no actor and
nothing is recorded.
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from platform_core.client_address import client_address
from platform_core.log_context import request_id


@dataclass(frozen=True)
class Actor:
    type: str  # AuditEntry.ActorType
    id: int
    label: str
    client_address: str | None = None
    request_id: str = ""


_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("audit_request", default=None)
_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("audit_actor", default=None)


def _address(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def _actor_of(request: HttpRequest) -> Actor | None:
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return Actor(
            type="api_key",
            id=api_key.pk,
            label=f"{api_key.name} ({api_key.prefix}…)",
            client_address=_address(request),
            request_id=request_id(),
        )
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor(
            type="user",
            id=user.pk,
            label=user.get_username(),
            client_address=_address(request),
            request_id=request_id(),
        )
    return None


def current_actor() -> Actor | None:
    """The actor of the change being made now, or None (nothing is then recorded)."""
    bound = _actor.get()
    if bound is not None:
        return bound
    request = _request.get()
    return _actor_of(request) if request is not None else None


@contextmanager
def actor_bound(actor: Actor) -> Iterator[None]:
    """Name the actor of the changes made inside, outside a request (a command acting for someone)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


class AuditActorMiddleware:
    """Binds the request, after authentication, so the changes it makes are recorded with their actor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
