"""`make run` with DEBUG on serves Django's debug pages (settings, source, SQL) to whoever reaches it:
fine on the loopback interface, not on a network."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.management.base import CommandError


def host_is_loopback(host: str) -> bool:
    """Whether binding to `host` serves this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def debug_exposure_check(*, host: str) -> None:
    """Refuse (CommandError) to serve on `host` beyond loopback with DEBUG on, unless
    ALLOW_DEBUG_ON_NETWORK is set."""
    if not settings.DEBUG or host_is_loopback(host) or settings.ALLOW_DEBUG_ON_NETWORK:
        return
    raise CommandError(
        f"Refusing to serve on {host} with DEBUG on: anyone who reaches this machine would see Django's "
        "debug pages (settings, source code, SQL). Either set RUN_HOST=127.0.0.1 to serve this machine "
        "only, or set DEBUG=0 (then SECRET_KEY and ENCRYPTION_KEYS must be set, and for plain HTTP also "
        "SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0), or set "
        "ALLOW_DEBUG_ON_NETWORK=1 to serve the debug pages on the network anyway."
    )
