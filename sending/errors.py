"""Why a message cannot be queued: domain errors with stable codes (the API turns them into its error shape).

Every one of them is raised before anything is written, so a refused request leaves no trace
and can be corrected and sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from platform_core.errors import DomainError


class SendError(DomainError):
    status = 422
    retryable = False


class MessageInvalid(SendError):
    """The payload breaks Meta's rules; `details` lists each field, the limit and the actual value."""

    code = "invalid_message"

    def __init__(self, problems: Sequence[dict[str, Any]]) -> None:
        count = len(problems)
        summary = f"{count} problem{'s' if count != 1 else ''} in the message"
        if problems:
            summary += f": {problems[0]['field']}: {problems[0]['message']}"
        super().__init__(summary, details=list(problems))


class RecipientInvalid(SendError):
    code = "invalid_recipient"


class AccountNotActive(SendError):
    code = "account_not_active"
    status = 409


class TemplateNotFound(SendError):
    code = "template_not_found"


class TemplateNotApproved(SendError):
    code = "template_not_approved"


class OutsideServiceWindow(SendError):
    code = "outside_service_window"


class ContactOptedOut(SendError):
    code = "contact_opted_out"


class ContactBlocked(SendError):
    code = "contact_blocked"


class IdempotencyKeyReused(SendError):
    code = "idempotency_key_reused"
    status = 409


class QuotaExceeded(SendError):
    """A tenant or account quota is used up; `retry_after_s` becomes the Retry-After header."""

    code = "quota_exceeded"
    status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s
