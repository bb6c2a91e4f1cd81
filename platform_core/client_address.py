"""The address a request came from, as far as the platform's own proxies vouch for it.

Each proxy appends the address it was reached from to X-Forwarded-For, so with TRUSTED_PROXY_COUNT
proxies in front of the web process the client is that many entries from the right; entries further
left were written by the client and are ignored. With no proxy (0) the connection's address is used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address; the connection's address when the header is missing or malformed."""
    return client_address_of(request.META)


def client_address_of(meta: Mapping[str, Any]) -> str:
    """`client_address` from a request's META or a raw WSGI environ."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return remote
    candidate = forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
