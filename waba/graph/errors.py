"""Typed Graph API errors: Meta's error body and transport failures, classified by `waba.meta`.

Messages never carry an access token: everything taken from a response or a transport error
goes through `redact` with the tokens of the call before it is stored on the exception.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import httpx

from waba.meta import PAIR_RATE_INTERVAL_S, RETRYABLE_ACTIONS, ErrorAction, classify_error

REDACTED = "[redacted]"

# How long to wait when Meta does not say (no Retry-After header).
DEFAULT_RETRY_AFTER_S: Mapping[ErrorAction, float] = {
    ErrorAction.RETRY: 2.0,
    ErrorAction.THROTTLED: 2.0,
    ErrorAction.PAIR_RATE: PAIR_RATE_INTERVAL_S,
}


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class GraphError(Exception):
    """A failed Graph API call. `action` says what the platform should do about it."""

    _action: ClassVar[ErrorAction | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        error_type: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        retry_after_header_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.error_type = error_type
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.retry_after_header_s = retry_after_header_s

    @property
    def action(self) -> ErrorAction:
        return self._action or classify_error(self.code, self.http_status)

    @property
    def retryable(self) -> bool:
        return self.action in RETRYABLE_ACTIONS

    @property
    def retry_after_s(self) -> float | None:
        if not self.retryable:
            return None
        if self.retry_after_header_s is not None:
            return self.retry_after_header_s
        return DEFAULT_RETRY_AFTER_S[self.action]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary, e.g. to store as a message's failure reason."""
        return {
            "code": self.code,
            "subcode": self.subcode,
            "http_status": self.http_status,
            "message": self.message,
            "details": self.details,
            "fbtrace_id": self.fbtrace_id,
            "action": self.action.value,
        }

    def __str__(self) -> str:
        where = []
        if self.code is not None:
            where.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode is not None else ""))
        if self.http_status is not None:
            where.append(f"HTTP {self.http_status}")
        text = f"{self.message} ({', '.join(where)})" if where else self.message
        if self.details:
            text += f": {self.details}"
        if self.fbtrace_id:
            text += f" [fbtrace_id {self.fbtrace_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"http_status={self.http_status!r}, message={self.message!r}, details={self.details!r}, "
            f"fbtrace_id={self.fbtrace_id!r})"
        )


class GraphTransientError(GraphError):
    _action = ErrorAction.RETRY


class GraphUnavailable(GraphTransientError):
    """No answer from the Graph API: timeout or connection failure.

    `may_have_been_processed` is True when the request may have reached Meta before the failure
    (read/write timeouts, dropped connections): a retried send could then be a duplicate.
    """

    def __init__(self, message: str, *, may_have_been_processed: bool) -> None:
        super().__init__(message)
        self.may_have_been_processed = may_have_been_processed


class GraphThrottled(GraphError):
    _action = ErrorAction.THROTTLED


class GraphPairRateLimited(GraphError):
    _action = ErrorAction.PAIR_RATE


class GraphAuthError(GraphError):
    _action = ErrorAction.AUTH_INVALID


class GraphAccountRestricted(GraphError):
    _action = ErrorAction.ACCOUNT_RESTRICTED


class GraphPermissionError(GraphError):
    _action = ErrorAction.PERMISSION


class GraphPermanentError(GraphError):
    _action = ErrorAction.PERMANENT


class GraphMediaTooLarge(GraphPermanentError):
    def __init__(self, *, max_bytes: int, actual_bytes: int) -> None:
        super().__init__(f"media larger than {max_bytes} bytes (at least {actual_bytes})")
        self.max_bytes = max_bytes
        self.actual_bytes = actual_bytes


ERROR_CLASS_BY_ACTION: Mapping[ErrorAction, type[GraphError]] = {
    ErrorAction.RETRY: GraphTransientError,
    ErrorAction.THROTTLED: GraphThrottled,
    ErrorAction.PAIR_RATE: GraphPairRateLimited,
    ErrorAction.AUTH_INVALID: GraphAuthError,
    ErrorAction.ACCOUNT_RESTRICTED: GraphAccountRestricted,
    ErrorAction.PERMISSION: GraphPermissionError,
    ErrorAction.PERMANENT: GraphPermanentError,
}


def error_from_response(response: httpx.Response, *, secrets: Iterable[str | None] = ()) -> GraphError:
    """Map an error response (Meta's `{"error": {...}}` body or anything else) to a GraphError."""
    secrets = tuple(secrets)
    error = _error_object(response)
    code = _as_int(error.get("code"))
    message = (
        error.get("message") or error.get("error_user_title") or f"Graph API HTTP {response.status_code}"
    )
    details = _details(error)
    error_class = ERROR_CLASS_BY_ACTION[classify_error(code, response.status_code)]
    return error_class(
        redact(str(message), secrets),
        code=code,
        subcode=_as_int(error.get("error_subcode")),
        http_status=response.status_code,
        error_type=_as_str(error.get("type")),
        details=redact(details, secrets) if details else None,
        fbtrace_id=_as_str(error.get("fbtrace_id")),
        retry_after_header_s=parse_retry_after(response.headers.get("Retry-After")),
    )


# Transport failures that prove Meta cannot have acted on the request: no connection to it (or to
# the proxy), the request refused before it left, or a write that timed out with part of the request
# still unsent (a server acts on a whole request only). A read that fails, a connection closed
# before an answer (also a kept-alive one the server had just closed: nothing tells whether the
# request had reached it) and any other failure leave the outcome unknown.
NEVER_SENT_TRANSPORT_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.WriteTimeout,
)


def error_from_transport(
    exc: httpx.TransportError, *, secrets: Iterable[str | None] = ()
) -> GraphUnavailable:
    never_sent = isinstance(exc, NEVER_SENT_TRANSPORT_ERRORS)
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    detail = redact(str(exc), secrets)
    message = f"Graph API {kind}: {type(exc).__name__}" + (f" ({detail})" if detail else "")
    return GraphUnavailable(message, may_have_been_processed=not never_sent)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_object(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _details(error: Mapping[str, Any]) -> str | None:
    data = error.get("error_data")
    if isinstance(data, str):  # some Graph errors carry error_data JSON-encoded
        try:
            data = json.loads(data)
        except ValueError:
            return data or None
    if isinstance(data, dict) and data.get("details"):
        return str(data["details"])
    user_message = error.get("error_user_msg")
    return str(user_message) if user_message else None


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _as_str(value: Any) -> str | None:
    return str(value) if value is not None else None
