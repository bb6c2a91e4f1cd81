"""Secrets and signatures as the Standard Webhooks specification defines them (platform_core.webhook_signing)."""

from __future__ import annotations

from platform_core.webhook_signing import (
    SECRET_BYTES,
    SECRET_PREFIX,
    secret_new,
    signature,
    signature_headers,
)

__all__ = ["SECRET_BYTES", "SECRET_PREFIX", "secret_new", "signature", "signature_headers"]
