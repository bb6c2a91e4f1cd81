"""Domain errors of the flows app: stable codes, one HTTP status each (see platform_core.api)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flows_builder.validation import FlowValidationError
from platform_core.errors import DomainError


class FlowNotFound(DomainError):
    code = "flow_not_found"
    status = 404


class FlowResponseNotFound(DomainError):
    code = "flow_response_not_found"
    status = 404


class ServiceRequestNotFound(DomainError):
    code = "request_not_found"
    status = 404


class AccountNotFound(DomainError):
    code = "account_not_found"
    status = 404


class PhoneNumberNotFound(DomainError):
    code = "phone_number_not_found"
    status = 404


class ContactNotFound(DomainError):
    code = "contact_not_found"
    status = 404


class FlowExchangeNotConfigured(DomainError):
    code = "flow_exchange_not_configured"
    status = 404


class FlowExchangeInvalid(DomainError):
    """A data-exchange configuration that cannot answer Meta: `details` names the field."""

    code = "invalid_flow_exchange"
    status = 422


def validation_error_dicts(errors: Sequence[FlowValidationError]) -> list[dict[str, str]]:
    """`{pointer, error, message}` per validator finding: the shape of the API's 422 details."""
    return [
        {"pointer": error.pointer, "error": str(error.error), "message": error.message} for error in errors
    ]


class FlowJsonInvalid(DomainError):
    """The Flow JSON breaks rules Meta enforces; `details` lists `{pointer, error, message}` per problem."""

    code = "invalid_flow_json"
    status = 422

    def __init__(self, errors: Sequence[FlowValidationError]) -> None:
        details = validation_error_dicts(errors)
        first = details[0] if details else {"pointer": "", "message": ""}
        count = len(details)
        super().__init__(
            f"The Flow JSON has {count} problem{'s' if count != 1 else ''}; first at "
            f"'{first['pointer'] or '/'}': {first['message']}",
            details=details,
        )


class FlowInvalid(DomainError):
    """A flow field other than its JSON is wrong (name taken, unknown category, ...)."""

    code = "invalid_flow"
    status = 422


class FlowNameTaken(DomainError):
    code = "flow_name_taken"
    status = 409


class FlowSyncInProgress(DomainError):
    code = "flow_sync_in_progress"
    status = 409


class FlowStateConflict(DomainError):
    """The flow is not in a state that allows this (deprecate a draft, delete a published flow...)."""

    code = "flow_state_conflict"
    status = 409


class FlowAccountNotReady(DomainError):
    """The account lacks what a Graph call needs (WABA id, access token)."""

    code = "account_not_ready"
    status = 409


class FlowRejectedByMeta(DomainError):
    """Meta's validation refused the uploaded Flow JSON; `details` are Meta's `validation_errors`."""

    code = "flow_rejected_by_meta"
    status = 422


class FlowGraphError(DomainError):
    """A Graph API call failed; `details` say whether retrying can help. The message holds no secret."""

    code = "graph_error"
    status = 502

    def __init__(self, message: str, *, details: Any = None, retry_after_s: float | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class FlowNotSendable(DomainError):
    """The flow cannot go out in the requested mode (inactive, never synced, not published...)."""

    code = "flow_not_sendable"
    status = 409


class FlowMessageInvalid(DomainError):
    code = "invalid_flow_message"
    status = 422


class FlowResponseAlreadyProcessed(DomainError):
    code = "flow_response_already_processed"
    status = 409


class FlowResponseNotProcessed(DomainError):
    code = "flow_response_not_processed"
    status = 409
