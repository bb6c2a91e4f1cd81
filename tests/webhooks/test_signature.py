"""X-Hub-Signature-256 verification, including the forged-signature outsider."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.fixtures import load_webhook_fixture_bytes
from webhooks.signature import compute_signature, verify_signature

APP_SECRET = "4f1c3a9e8b7d6c5e4f3a2b1c0d9e8f7a"
OTHER_APP_SECRET = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
BODY = load_webhook_fixture_bytes("message_text")


def test_compute_signature_matches_hmac_sha256():
    expected = hmac.new(APP_SECRET.encode(), BODY, hashlib.sha256).hexdigest()

    assert compute_signature(BODY, APP_SECRET) == f"sha256={expected}"


def test_compute_signature_refuses_empty_secret():
    with pytest.raises(ValueError):
        compute_signature(BODY, "")


def test_valid_signature():
    assert verify_signature(BODY, compute_signature(BODY, APP_SECRET), APP_SECRET) is True


def test_valid_signature_with_uppercase_hex():
    header = "sha256=" + compute_signature(BODY, APP_SECRET).removeprefix("sha256=").upper()

    assert verify_signature(BODY, header, APP_SECRET) is True


def test_signature_from_another_app_secret_is_refused():
    assert verify_signature(BODY, compute_signature(BODY, OTHER_APP_SECRET), APP_SECRET) is False


def test_tampered_body_is_refused():
    header = compute_signature(BODY, APP_SECRET)
    tampered = BODY.replace(b"Kerry Fisher", b"Kerry Fishes")

    assert tampered != BODY
    assert verify_signature(tampered, header, APP_SECRET) is False


def test_reformatted_body_is_refused():
    """The signature covers the raw bytes: re-serialised JSON with the same content fails."""
    header = compute_signature(BODY, APP_SECRET)

    assert verify_signature(BODY + b"\n", header, APP_SECRET) is False


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_refused(header):
    assert verify_signature(BODY, header, APP_SECRET) is False


def test_sha1_signature_is_refused():
    sha1 = hmac.new(APP_SECRET.encode(), BODY, hashlib.sha1).hexdigest()

    assert verify_signature(BODY, f"sha1={sha1}", APP_SECRET) is False


def test_sha256_digest_under_sha1_prefix_is_refused():
    digest = compute_signature(BODY, APP_SECRET).removeprefix("sha256=")

    assert verify_signature(BODY, f"sha1={digest}", APP_SECRET) is False


@pytest.mark.parametrize(
    "header",
    [
        "sha256=",
        "sha256",
        "sha256=not-hex-at-all",
        "sha256=abc123",
        "SHA256=" + "0" * 64,
        "sha256=" + "0" * 63 + "g",
        "sha256=" + "é" * 64,
        "sha256 " + "0" * 64,
        "=" + "0" * 64,
    ],
)
def test_malformed_header_is_refused(header):
    assert verify_signature(BODY, header, APP_SECRET) is False


def test_bare_hex_without_prefix_is_refused():
    digest = compute_signature(BODY, APP_SECRET).removeprefix("sha256=")

    assert verify_signature(BODY, digest, APP_SECRET) is False


def test_surrounding_whitespace_is_tolerated():
    assert verify_signature(BODY, f"  {compute_signature(BODY, APP_SECRET)}\n", APP_SECRET) is True


def test_empty_secret_never_verifies():
    forged = "sha256=" + hmac.new(b"", BODY, hashlib.sha256).hexdigest()

    assert verify_signature(BODY, forged, "") is False


@pytest.mark.parametrize("body", ["a str body", None, 12345])
def test_non_bytes_body_never_raises(body):
    assert verify_signature(body, compute_signature(BODY, APP_SECRET), APP_SECRET) is False


def test_non_string_header_never_raises():
    assert verify_signature(BODY, 12345, APP_SECRET) is False
