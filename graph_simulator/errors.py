"""Meta's error body, codes and HTTP statuses, so every failure looks like the real Graph API.

Every error the simulator answers is a `GraphError`; `GraphError.body()` gives
`{"error": {"message", "type", "code", "error_subcode"?, "error_data"?, "fbtrace_id"}}`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    http_status: int
    title: str
    error_type: str = "OAuthException"


# code -> how Meta answers it (HTTP status per Meta's Cloud API error table).
ERROR_CATALOG: dict[int, ErrorKind] = {
    0: ErrorKind(401, "We were unable to authenticate the app user"),
    1: ErrorKind(400, "An unknown error occurred"),
    2: ErrorKind(503, "Service temporarily unavailable"),
    3: ErrorKind(500, "Capability or permissions issue"),
    4: ErrorKind(400, "Application request limit reached"),
    10: ErrorKind(403, "Application does not have permission for this action"),
    100: ErrorKind(400, "Invalid parameter"),
    190: ErrorKind(401, "Invalid OAuth access token - Cannot parse access token"),
    200: ErrorKind(403, "Permissions error"),
    368: ErrorKind(403, "Temporarily blocked for policies violations"),
    80007: ErrorKind(400, "Rate limit issues"),
    130429: ErrorKind(400, "Rate limit hit"),
    130472: ErrorKind(400, "User's number is part of an experiment"),
    131000: ErrorKind(500, "Something went wrong"),
    131005: ErrorKind(403, "Access denied"),
    131008: ErrorKind(400, "Required parameter is missing"),
    131009: ErrorKind(400, "Parameter value is not valid"),
    131016: ErrorKind(503, "Service unavailable"),
    131021: ErrorKind(400, "Recipient cannot be sender"),
    131026: ErrorKind(400, "Message undeliverable"),
    131030: ErrorKind(400, "Recipient phone number not in allowed list"),
    131031: ErrorKind(400, "Account has been locked"),
    131047: ErrorKind(400, "Re-engagement message"),
    131048: ErrorKind(400, "Spam rate limit hit"),
    131049: ErrorKind(400, "Meta chose not to deliver"),
    131050: ErrorKind(400, "User has stopped marketing messages"),
    131051: ErrorKind(400, "Unsupported message type"),
    131052: ErrorKind(400, "Media download error"),
    131053: ErrorKind(400, "Media upload error"),
    131056: ErrorKind(400, "(Business Account, Consumer Account) pair rate limit hit"),
    131057: ErrorKind(500, "Account in maintenance mode"),
    131064: ErrorKind(400, "Account restricted"),
    132000: ErrorKind(400, "Number of parameters does not match the expected number of params"),
    132001: ErrorKind(404, "Template name does not exist in the translation"),
    132005: ErrorKind(400, "Translated text too long"),
    132007: ErrorKind(400, "Template Format Character Policy Violated"),
    132008: ErrorKind(400, "Template parameter value is not valid"),
    132012: ErrorKind(400, "Parameter format does not match format in the created template"),
    132015: ErrorKind(400, "Template is Paused"),
    132016: ErrorKind(400, "Template is Disabled"),
    132068: ErrorKind(400, "Flow is in blocked state"),
    132069: ErrorKind(
        400, "Flow is in throttled state and 10 messages using this flow were already sent in the last hour"
    ),
    133005: ErrorKind(400, "Two step verification PIN Mismatch"),
    133010: ErrorKind(400, "Account not registered"),
    139001: ErrorKind(400, "Error while processing Flow JSON"),
    139002: ErrorKind(400, "Publishing failed"),
}

# When a fault names only an HTTP status, the code Meta would pair with it.
CODE_FOR_STATUS = {400: 100, 401: 190, 403: 200, 404: 100, 429: 130429, 500: 131000, 502: 1, 503: 2}

# Messages Meta writes without the "(#code)" prefix.
_UNPREFIXED = {190}


def new_fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


class GraphError(Exception):
    """An error answered in Meta's shape; `status` defaults to Meta's HTTP status for `code`."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        message: str | None = None,
        status: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        user_title: str | None = None,
        user_message: str | None = None,
    ) -> None:
        kind = ERROR_CATALOG.get(code, ErrorKind(status or 400, "Unknown error"))
        self.code = code
        self.details = details
        self.status = status or kind.http_status
        self.subcode = subcode
        self.error_type = error_type or kind.error_type
        self.user_title = user_title
        self.user_message = user_message
        if message is None:
            message = kind.title if code in _UNPREFIXED else f"(#{code}) {kind.title}"
        self.message = message
        super().__init__(f"{code}: {message}")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_message:
            error["error_user_msg"] = self.user_message
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = new_fbtrace_id()
        return {"error": error}


def invalid_parameter(details: str) -> GraphError:
    return GraphError(100, details)


def missing_parameter(details: str) -> GraphError:
    return GraphError(131008, details)


def invalid_value(details: str) -> GraphError:
    return GraphError(131009, details)


def unknown_object(object_id: str, method: str) -> GraphError:
    """What Graph answers for an id that does not exist (or an edge it does not have)."""
    return GraphError(
        100,
        message=(
            f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation. "
            "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
        subcode=33,
        error_type="GraphMethodException",
    )


def nonexisting_field(edge: str, node_type: str) -> GraphError:
    return GraphError(
        100, message=f"(#100) Tried accessing nonexisting field ({edge}) on node type ({node_type})"
    )


def permission_denied(object_id: str) -> GraphError:
    return GraphError(
        200, f"The access token cannot access object {object_id}.", message="(#200) Permissions error"
    )


def fault_error(code: int | None, status: int | None, subcode: int | None, message: str | None) -> GraphError:
    """The error a fault rule asks for; fills whichever of code / HTTP status is missing."""
    if code is not None and code not in ERROR_CATALOG and 400 <= code <= 599:
        status, code = status or code, None  # "429" or "503" given as a code means an HTTP status
    if code is None:
        code = CODE_FOR_STATUS.get(status or 500, 131000)
    details = message or f"Simulated fault ({code})."
    return GraphError(code, details, status=status, subcode=subcode)
