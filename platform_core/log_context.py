"""What every log line can say about where it comes from: the request it serves and the tenant.

`RequestIdMiddleware` gives each request an id (the caller's `X-Request-ID` when it is a sane
token, a new one otherwise), answers it in the response's `X-Request-ID`, and keeps it in a context
variable until the response is closed; workers set one per unit of work with `request_id_bound`.
`LogContextFilter` copies the id, and the schema the thread's database connection is on (the
tenant whose data the code is touching), onto every record. `JsonFormatter` writes one JSON
object per line (settings: `LOG_FORMAT=json`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id() -> str:
    return _request_id.get()


@contextmanager
def request_id_bound(value: str) -> Iterator[None]:
    token = _request_id.set(value)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        value = given if _SANE_ID.match(given) else secrets.token_hex(8)
        # Kept until the response is closed (request_finished): Django logs a 4xx or 5xx answer
        # after the middleware has returned.
        _request_id.set(value)
        response = self.get_response(request)
        response["X-Request-ID"] = value
        return response


def _request_id_clear(**kwargs: object) -> None:
    _request_id.set("")


request_finished.connect(_request_id_clear, dispatch_uid="platform_core.log_context.request_id_clear")


def _current_schema() -> str:
    from django.db import connection

    return getattr(connection, "schema_name", "") or ""


class LogContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        try:
            record.tenant = _current_schema()
        except Exception:  # settings not configured yet, or no database wrapper in this process
            record.tenant = ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, tenant, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "tenant": getattr(record, "tenant", ""),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)
