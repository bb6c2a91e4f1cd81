"""Which URLs may receive events: the platform's outbound URL guard (platform_core.url_guard).

Checked when an endpoint is saved and again before every delivery (DNS may change in between).
"""

from __future__ import annotations

from integrations.errors import EndpointUrlRefused
from platform_core.url_guard import (
    OutboundTarget,
    UrlRefused,
    address_is_public,
    outbound_target,
    outbound_url_check,
)

__all__ = ["address_is_public", "endpoint_target", "endpoint_url_check"]


def endpoint_url_check(url: str, *, resolve: bool = True) -> None:
    """Raise EndpointUrlRefused unless `url` may receive events. Resolves the host with DNS."""
    try:
        outbound_url_check(url, resolve=resolve)
    except UrlRefused as refused:
        raise EndpointUrlRefused(refused.message, details=refused.details) from None


def endpoint_target(url: str) -> OutboundTarget:
    """Where a delivery to `url` goes: checked, and pinned to an approved address."""
    try:
        return outbound_target(url)
    except UrlRefused as refused:
        raise EndpointUrlRefused(refused.message, details=refused.details) from None
