"""The webhook fast path: Meta's POSTs served without Django's middleware stack.

Meta's callbacks need none of the middleware (no session, CSRF token, user, tenant lookup,
static files); on this 2-core machine the stack and its database round trips (tenant lookup,
search_path, health check) cost more than the journal INSERT itself. `webhooks_fast_path`
wraps the Django WSGI application: requests for `/webhooks/whatsapp/<app_id>` on a public host
go straight to the same view function (webhooks.views), everything else to Django.

    # platform_core/wsgi.py (what the web server serves)
    application = webhooks_fast_path(get_wsgi_application())
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

PREFIX = "/webhooks/whatsapp/"

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


def webhooks_fast_path(django_application: WSGIApp) -> WSGIApp:
    """Wrap a Django WSGI application (Django must be set up: imports happen here, not at module load)."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIRequest

    from platform_core.api import error_response
    from tenants.context import connection
    from webhooks.views import whatsapp_webhook

    public_hosts = {host.lower() for host in settings.PUBLIC_HOSTS}

    def application(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        app_id = path[len(PREFIX):].rstrip("/") if path.startswith(PREFIX) else ""
        if not app_id or "/" in app_id or _host(environ) not in public_hosts:
            return django_application(environ, start_response)
        try:
            _connection_maintain()
            response = whatsapp_webhook(WSGIRequest(environ), app_id)
        except Exception:  # the view's own errors are answered inside it; this is the last resort
            logger.exception("Webhook fast path failed on %s", path)
            connection.close()
            response = error_response(500, "internal_error", "Something went wrong on our side. It has been logged.")
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))  # what CommonMiddleware would add
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return response

    return application


def _host(environ: dict) -> str:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return host.rsplit(":", 1)[0].lower() if not host.endswith("]") else host.lower()


def _connection_maintain() -> None:
    """What Django does at request boundaries, minus the per-request health-check query: drop a
    connection past CONN_MAX_AGE or after an error, and stay in the public schema. A connection
    that broke silently is handled by journal_entry_record's single reconnect. Like Django's own
    request-boundary check it leaves a connection inside a transaction alone (tests run in one)."""
    from django_tenants.utils import get_public_schema_name

    from tenants.context import connection

    if connection.connection is not None and not connection.in_atomic_block and (
        connection.errors_occurred or (connection.close_at is not None and time.monotonic() >= connection.close_at)
    ):
        connection.close()
    if connection.schema_name != get_public_schema_name():
        connection.set_schema_to_public()

