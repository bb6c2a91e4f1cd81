"""Secrets and signatures as the Standard Webhooks specification defines them.

A secret reads `whsec_<base64 of 32 random bytes>`; the signature is
`v1,<base64 of HMAC-SHA256(secret bytes, "{webhook-id}.{webhook-timestamp}.{body}")>`, one per
secret still valid, separated by spaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(*, secret: str, message_id: str, timestamp: int, body: str) -> str:
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    *, secrets_valid: list[str], message_id: str, timestamp: int, body: str
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
            for secret in secrets_valid
        ),
    }


# A rolled secret keeps signing beside the new one for this long, so receivers can switch over.
SECRET_OVERLAP = timedelta(hours=24)


class RollingSecret(Protocol):
    """A model with a current secret and the previous one, kept until `previous_secret_expires_at`."""

    secret: Any
    previous_secret: Any
    previous_secret_expires_at: datetime | None

    def save(self, *, update_fields: list[str]) -> None: ...


def secret_roll(holder: RollingSecret, *, now: datetime) -> str:
    """Give `holder` a new secret; the current one keeps signing for SECRET_OVERLAP. Returns the new one."""
    secret = secret_new()
    holder.previous_secret = holder.secret
    holder.previous_secret_expires_at = now + SECRET_OVERLAP
    holder.secret = secret
    holder.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return secret


def signing_secrets(holder: RollingSecret, *, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the rolled one until it expires."""
    valid = [holder.secret.reveal()] if holder.secret else []
    expires = holder.previous_secret_expires_at
    if holder.previous_secret and expires is not None and expires > now:
        valid.append(holder.previous_secret.reveal())
    return valid
