"""Which URLs the platform may call on a tenant's behalf: https, resolving only to public addresses.

Checked when a URL is saved and again before every call (DNS may change in between). A call goes
to an address the check approved (`outbound_target`): the host is not looked up a second time by
the HTTP client, so a DNS answer that changes between the check and the connection (rebinding)
cannot point the call inside a network. TLS still verifies the certificate against the host name.
INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS (on in development) lets http and private addresses through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from platform_core.errors import DomainError


class UrlRefused(DomainError):
    """The URL is not https or points at an address inside a network (SSRF guard)."""

    code = "url_refused"
    status = 422


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class OutboundTarget:
    """Where a checked call goes: `url` with an approved address in place of the host name, the Host
    header naming the host, and the TLS server name (httpx's `sni_hostname` extension)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def outbound_target(url: str) -> OutboundTarget:
    """Check `url` and pin the call to the first public address the check resolved."""
    addresses = _addresses_checked(url, resolve=True)
    if not addresses:  # private endpoints allowed (development): called as they are
        return OutboundTarget(url=url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    return OutboundTarget(
        url=urlunsplit(parts._replace(netloc=f"{literal}{port}")),
        headers={"Host": f"{host}{port}"},
        extensions={"sni_hostname": host},
    )


def outbound_url_check(url: str, *, resolve: bool = True) -> None:
    """Raise UrlRefused unless the platform may call `url`. Resolves the host with DNS."""
    _addresses_checked(url, resolve=resolve)


def _addresses_checked(url: str, *, resolve: bool) -> list[str]:
    """The public addresses `url`'s host resolves to (none when not resolved or private ones are
    allowed); UrlRefused when the URL or any of its addresses may not be called."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UrlRefused("The URL must be an absolute https URL.")
    if parts.username or parts.password:
        raise UrlRefused("The URL must not carry a user name or password.")
    if settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS:
        return []
    if parts.scheme != "https":
        raise UrlRefused("The URL must use https.")
    if not resolve:
        return []
    try:
        port = parts.port or 443
    except ValueError:
        raise UrlRefused("The URL's port is not valid.") from None
    try:
        addresses = {
            str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        }
    except (socket.gaierror, UnicodeError):
        raise UrlRefused(f"The host {parts.hostname} does not resolve.") from None
    refused = sorted(address for address in addresses if not address_is_public(address))
    if refused:
        raise UrlRefused(
            f"The host {parts.hostname} resolves to an address that is not public ({', '.join(refused)}).",
            details={"addresses": refused},
        )
    return sorted(addresses)
