"""Login throttling with django-axes across schemas: who a login attempt is counted against, and the
answer once a user or an address is locked out.

Users live in each tenant's schema, so `admin` of one tenant is not `admin` of another: attempts are
recorded (in the public schema's table) under `<schema>:<username>`, e.g. `t_alpha:admin` or
`public:admin`, the name `manage.py axes_reset_username` takes. Addresses are counted across every
host, so guessing the same user name on many tenants from one address is stopped as soon as on one.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from platform_core.api import error_response, wants_json
from tenants.context import connection

LOCKOUT_STATUS = 429


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The user an attempt counts against: the submitted user name qualified by the current schema."""
    field = get_user_model().USERNAME_FIELD
    if credentials is not None:
        username = credentials.get(field)
    else:
        username = request.POST.get(field) if request is not None else None
    if not username:
        return None
    return f"{connection.schema_name}:{username}"


def _lockout_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def _prefers_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        wants_json(request)
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or ("application/json" in accept and "text/html" not in accept)
    )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """429 with Retry-After: the platform's JSON error shape for API-ish requests, a page otherwise."""
    minutes = _lockout_minutes()
    retry_after_s = minutes * 60
    message = (
        f"Too many failed logins for this user or from this address: logging in is locked for {minutes} "
        "minutes after the latest failed attempt. Try again later, or ask an administrator to unlock it."
    )
    headers = {"Retry-After": str(retry_after_s)}
    if _prefers_json(request):
        return error_response(
            LOCKOUT_STATUS,
            "login_locked_out",
            message,
            details={"retry_after_s": retry_after_s},
            headers=headers,
        )
    html = render_to_string("tenants/login_locked_out.html", {"minutes": minutes, "message": message})
    response = HttpResponse(html, status=LOCKOUT_STATUS)
    response["Retry-After"] = headers["Retry-After"]
    return response
