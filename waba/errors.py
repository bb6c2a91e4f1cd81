"""Domain errors of the waba app, each with a stable code; the API turns them into one error shape.

Errors that come from Meta carry Meta's message and codes in `details`, never a token: the Graph
client redacts the tokens of a call before its message reaches an exception.
"""

from __future__ import annotations

from typing import Any

from platform_core.errors import DomainError
from waba.graph import GraphAuthError, GraphError, GraphPermanentError, GraphPermissionError


class AccountNotFound(DomainError):
    code = "not_found"
    status = 404


class PhoneNumberNotFound(DomainError):
    code = "not_found"
    status = 404


class TemplateNotFound(DomainError):
    code = "not_found"
    status = 404


class SetupStepUnknown(DomainError):
    code = "unknown_step"
    status = 404


class FieldsInvalid(DomainError):
    """Per-field problems: `details` is a list of `{"field", "message", "type"}`."""

    code = "validation_error"
    status = 422


class SetupIncomplete(DomainError):
    """The wizard cannot complete: `details` lists the missing fields of each unfinished step."""

    code = "setup_incomplete"
    status = 422


class IdentityLocked(DomainError):
    """An active account's WABA, app or phone number id cannot change: routing depends on them."""

    code = "identity_locked"
    status = 409


class AccountNotReady(DomainError):
    """The account lacks what the operation needs (a WABA id, an access token, activation)."""

    code = "account_not_ready"
    status = 409


class TemplateExists(DomainError):
    code = "template_exists"
    status = 409


class TemplateNotSubmittable(DomainError):
    code = "template_not_submittable"
    status = 409


class TemplateNotEditable(DomainError):
    code = "template_not_editable"
    status = 409


class MediaNotFound(DomainError):
    code = "not_found"
    status = 404


class MetaCheckFailed(DomainError):
    """Meta says a fact the tenant gave us is wrong (dead token, number not in the WABA ...)."""

    code = "meta_check_failed"
    status = 422


class MetaRequestFailed(DomainError):
    """Meta refused or could not answer a request; `details` carries Meta's code and message."""

    code = "meta_error"
    status = 424

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


def meta_error_details(error: GraphError) -> dict[str, Any]:
    """What an API caller may see of a Graph error (already free of tokens)."""
    return {
        "meta_code": error.code,
        "meta_subcode": error.subcode,
        "meta_message": error.message,
        "meta_details": error.details,
        "fbtrace_id": error.fbtrace_id,
        "retryable": error.retryable,
    }


def meta_request_failed(error: GraphError, *, doing: str) -> MetaRequestFailed:
    """Map a Graph error met while `doing` something to the API error the tenant sees.

    Retryable failures answer 503 with Retry-After; a dead token 424 `meta_token_invalid`;
    Meta refusing the input 422 `meta_rejected`; missing permissions 424 `meta_permission_denied`.
    """
    details = meta_error_details(error)
    if error.retryable:
        return MetaRequestFailed(
            f"Meta's Graph API could not {doing} right now: {error.message}. Try again later.",
            code="meta_unavailable",
            status=503,
            details=details,
            retry_after_s=error.retry_after_s,
        )
    if isinstance(error, GraphAuthError):
        return MetaRequestFailed(
            f"Meta refused the access token while trying to {doing}: {error.message}. "
            "Save a new access token in setup step 3.",
            code="meta_token_invalid",
            details=details,
        )
    if isinstance(error, GraphPermissionError):
        return MetaRequestFailed(
            f"The access token may not {doing}: {error.message}.", code="meta_permission_denied", details=details
        )
    if isinstance(error, GraphPermanentError):
        return MetaRequestFailed(
            f"Meta refused to {doing}: {error.message}.", code="meta_rejected", status=422, details=details
        )
    return MetaRequestFailed(f"Meta could not {doing}: {error.message}.", details=details)
