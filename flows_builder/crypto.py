"""Encryption of the Flows data-exchange endpoint, as Meta specifies it.

A request carries an AES-128 key encrypted with the business's RSA public key (OAEP, SHA-256 for both
the hash and MGF1), an IV, and the payload encrypted with AES-GCM under that key and IV (the 16-byte
tag appended). The response is the JSON encrypted with the same key and the IV with every bit flipped.

Decrypted payloads and keys are secrets: nothing here logs them, and the values that carry them keep
them out of their repr.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from waba.meta import FLOW_ENDPOINT_DECRYPTION_FAILED_STATUS

RSA_KEY_SIZE = 2048
RSA_PUBLIC_EXPONENT = 65537
REQUEST_FIELDS = ("encrypted_flow_data", "encrypted_aes_key", "initial_vector")
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class FlowDecryptionError(Exception):
    """A data-exchange request could not be decrypted; the endpoint answers HTTP 421.

    Meta's client then fetches the business public key again and retries, which is what a rotated
    key needs. `reason` is a stable code; the message never contains request data.
    """

    http_status = FLOW_ENDPOINT_DECRYPTION_FAILED_STATUS

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidBusinessKeyError(ValueError):
    """A private key PEM could not be loaded (wrong password, not PEM, not RSA)."""


@dataclass(frozen=True)
class DecryptedRequest:
    payload: dict[str, Any] = field(repr=False)
    aes_key: bytes = field(repr=False)
    iv: bytes = field(repr=False)


def decrypt_request(body: dict[str, Any], private_key: rsa.RSAPrivateKey) -> DecryptedRequest:
    """Decrypt a data-exchange request body; raise FlowDecryptionError on any failure."""
    if not isinstance(body, dict):
        raise FlowDecryptionError("invalid_body", "The request body must be a JSON object.")
    missing = [name for name in REQUEST_FIELDS if not isinstance(body.get(name), str)]
    if missing:
        raise FlowDecryptionError("invalid_body", f"The request body lacks {', '.join(missing)}.")

    encrypted_payload = _b64decode(body["encrypted_flow_data"], "encrypted_flow_data")
    encrypted_key = _b64decode(body["encrypted_aes_key"], "encrypted_aes_key")
    iv = _b64decode(body["initial_vector"], "initial_vector")

    try:
        aes_key = private_key.decrypt(encrypted_key, _OAEP)
    except (ValueError, TypeError):
        raise FlowDecryptionError(
            "key_decryption_failed", "The AES key could not be decrypted with the business private key."
        ) from None
    try:
        plaintext = AESGCM(aes_key).decrypt(iv, encrypted_payload, None)
    except (InvalidTag, ValueError):
        raise FlowDecryptionError(
            "payload_decryption_failed", "The flow data could not be decrypted or failed authentication."
        ) from None
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except (ValueError, RecursionError):
        # `from None`: a JSONDecodeError keeps the whole decrypted text in its `doc` attribute.
        raise FlowDecryptionError("invalid_payload", "The decrypted flow data is not JSON.") from None
    if not isinstance(payload, dict):
        raise FlowDecryptionError("invalid_payload", "The decrypted flow data is not a JSON object.")
    return DecryptedRequest(payload=payload, aes_key=aes_key, iv=iv)


def encrypt_response(payload: dict[str, Any], aes_key: bytes, iv: bytes) -> str:
    """Base64 of the AES-GCM encryption of the JSON payload, under the request's key and flipped IV."""
    flipped_iv = bytes(byte ^ 0xFF for byte in iv)
    ciphertext = AESGCM(aes_key).encrypt(flipped_iv, json.dumps(payload).encode("utf-8"), None)
    return base64.b64encode(ciphertext).decode("ascii")


def generate_business_key_pair(password: bytes | None = None) -> tuple[bytes, bytes]:
    """A new RSA-2048 key pair: (private key as PKCS#8 PEM, public key as SubjectPublicKeyInfo PEM).

    The public PEM is what `POST /{phone_number_id}/whatsapp_business_encryption` uploads. With a
    password the private PEM is encrypted with it.
    """
    private_key = rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_SIZE)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    private_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=encryption,
    )
    public_pem = private_key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return private_pem, public_pem


def load_private_key(pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """Load the business RSA private key; raise InvalidBusinessKeyError when that is impossible."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise InvalidBusinessKeyError(f"The private key could not be loaded: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidBusinessKeyError("The private key is not an RSA key.")
    return key


def _b64decode(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise FlowDecryptionError("invalid_base64", f"'{name}' is not valid base64.") from None
