"""The `X-Hub-Signature-256` check Meta's webhook POSTs carry: HMAC-SHA256 of the raw body."""

from __future__ import annotations

import hashlib
import hmac
import re

from waba.meta import WEBHOOK_SIGNATURE_PREFIX

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def compute_signature(raw_body: bytes, app_secret: str) -> str:
    """Return the header value Meta would send for `raw_body`: ``"sha256=<hex>"``.

    Raises ValueError on an empty secret: signing with no key is a configuration error.
    """
    if not app_secret:
        raise ValueError("app_secret must not be empty")
    digest = hmac.new(app_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).hexdigest()
    return WEBHOOK_SIGNATURE_PREFIX + digest


def verify_signature(raw_body: bytes, header_value: str | None, app_secret: str) -> bool:
    """True only when `header_value` is a well-formed sha256 signature of `raw_body`.

    Compares in constant time and never raises: a missing or malformed header, another
    algorithm (``sha1=``), a non-bytes body or an empty secret all answer False. An empty secret
    is refused because anyone can compute an HMAC keyed with the empty string.
    """
    try:
        if not app_secret or not isinstance(header_value, str):
            return False
        if not isinstance(raw_body, (bytes, bytearray, memoryview)):
            return False
        header_value = header_value.strip()
        if not header_value.startswith(WEBHOOK_SIGNATURE_PREFIX):
            return False
        provided = header_value[len(WEBHOOK_SIGNATURE_PREFIX):]
        if not _HEX_DIGEST.fullmatch(provided):
            return False
        expected = compute_signature(bytes(raw_body), app_secret)[len(WEBHOOK_SIGNATURE_PREFIX):]
        return hmac.compare_digest(expected.encode("ascii"), provided.lower().encode("ascii"))
    except Exception:  # noqa: BLE001 - the contract is "never raises"; any surprise means "not verified"
        return False
