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

import json
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

logger = logging.getLogger(__name__)

PREFIX = "/webhooks/whatsapp/"

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


def webhooks_fast_path(django_application: WSGIApp) -> WSGIApp:
    """Wrap a Django WSGI application (Django must be set up: imports happen here, not at module load)."""
    from django.conf import settings
    from django.db import DEFAULT_DB_ALIAS, connections
    from django_tenants.utils import get_public_schema_name

    from platform_core.api import error_body
    from webhooks.views import JSON, webhook_answer

    public_hosts = {host.lower() for host in settings.PUBLIC_HOSTS}
    public_schema = get_public_schema_name()
    internal_error = json.dumps(
        error_body(500, "internal_error", "Something went wrong on our side. It has been logged.")
    ).encode()

    def application(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        app_id = path[len(PREFIX):].rstrip("/") if path.startswith(PREFIX) else ""
        if not app_id or "/" in app_id or _host(environ) not in public_hosts:
            return django_application(environ, start_response)
        db = connections[DEFAULT_DB_ALIAS]
        try:
            _connection_maintain(db, public_schema)
            answer = webhook_answer(
                method=environ.get("REQUEST_METHOD", ""), app_id=app_id, meta=environ, read=_body_reader(environ)
            )
            status, content_type, body, extra = answer.status, answer.content_type, answer.body, answer.headers
        except Exception:  # the answer's own errors are answered inside it; this is the last resort
            logger.exception("Webhook fast path failed on %s", path)
            db.close()
            status, content_type, extra = 500, JSON, ()
            body = internal_error
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    return application


def _host(environ: dict) -> str:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    return host.rsplit(":", 1)[0].lower() if not host.endswith("]") else host.lower()


def _body_reader(environ: dict) -> Callable[[int], bytes]:
    """`read(n)` over wsgi.input, never past CONTENT_LENGTH (what Django's LimitedStream ensures)."""
    try:
        remaining = max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        remaining = 0
    stream = environ["wsgi.input"]

    def read(size: int) -> bytes:
        return stream.read(min(size, remaining)) if remaining else b""

    return read


def _connection_maintain(db: Any, public_schema: str) -> None:
    """What Django does at request boundaries, minus the per-request health-check query: drop a
    connection past CONN_MAX_AGE or after an error, and stay in the public schema. A connection
    that broke silently is handled by journal_entry_record's single reconnect. Like Django's own
    request-boundary check it leaves a connection inside a transaction alone (tests run in one).
    `db` is the thread's connection, looked up once (each `django.db.connection.x` looks it up)."""
    if db.connection is not None and not db.in_atomic_block and (
        db.errors_occurred or (db.close_at is not None and time.monotonic() >= db.close_at)
    ):
        db.close()
    if db.schema_name != public_schema:
        db.set_schema_to_public()
