"""Meta WhatsApp webhooks: signature check, payload models, parsing into routed events."""

from messaging.webhooks.parse import (
    AccountEvent,
    InboundMessage,
    PayloadErrorCode,
    RoutingKey,
    StatusUpdate,
    WebhookErrorEvent,
    WebhookEvent,
    WebhookPayloadError,
    parse_envelope,
)
from messaging.webhooks.signature import SIGNATURE_HEADER, compute_signature, verify_signature
from messaging.webhooks.statuses import FAILED, STATUS_RANK, status_advances

__all__ = [
    "FAILED",
    "SIGNATURE_HEADER",
    "STATUS_RANK",
    "AccountEvent",
    "InboundMessage",
    "PayloadErrorCode",
    "RoutingKey",
    "StatusUpdate",
    "WebhookErrorEvent",
    "WebhookEvent",
    "WebhookPayloadError",
    "compute_signature",
    "parse_envelope",
    "status_advances",
    "verify_signature",
]
