"""Domain errors of reading messages, read receipts and media (stable codes; one API error shape)."""

from __future__ import annotations

from platform_core.errors import DomainError
from waba.graph import GraphError


class MessageNotFound(DomainError):
    code = "message_not_found"
    status = 404


class ConversationNotFound(DomainError):
    code = "conversation_not_found"
    status = 404


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status = 422


class NotInbound(DomainError):
    """Read receipts and media fetches apply to messages the customer sent."""

    code = "not_inbound"
    status = 422


class NoMedia(DomainError):
    code = "no_media"
    status = 422


class MediaTooLarge(DomainError):
    code = "media_too_large"
    status = 413


class MediaTypeNotAllowed(DomainError):
    code = "media_type_not_allowed"
    status = 415


class MediaChecksumMismatch(DomainError):
    code = "media_checksum_mismatch"
    status = 502


class MediaNotKept(DomainError):
    """The media is not in storage: still being fetched (`details.state` pending) or given up on (failed)."""

    code = "media_not_kept"
    status = 409


class MediaExpired(DomainError):
    """The file was deleted after INBOUND_MEDIA_RETENTION_DAYS; Meta no longer has it either."""

    code = "media_expired"
    status = 410


class MediaStorageFailed(DomainError):
    code = "media_storage_failed"
    status = 503


class AccountCredentialsMissing(DomainError):
    """The number's WhatsApp account has no access token yet: finish its setup first."""

    code = "account_not_ready"
    status = 409


class PhoneNumberNotInTenant(DomainError):
    """A webhook was routed here for a phone_number_id this tenant has no row for (dead-lettered)."""

    code = "phone_number_missing"
    status = 409


class GraphRequestFailed(DomainError):
    """Meta refused or could not be reached; `details` carries Meta's code and whether a retry helps."""

    code = "graph_error"
    status = 502

    def __init__(self, error: GraphError, *, doing: str) -> None:
        super().__init__(
            f"Meta's Graph API refused to {doing}: {error.message}",
            details={"graph_code": error.code, "action": error.action.value, "retryable": error.retryable},
            status=503 if error.retryable else 502,
        )
        self.retry_after_s = error.retry_after_s
