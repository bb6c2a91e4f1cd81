"""Data-exchange endpoint crypto, exercised the way Meta encrypts requests."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flows_builder.crypto import (
    DecryptedRequest,
    FlowDecryptionError,
    InvalidBusinessKeyError,
    decrypt_request,
    encrypt_response,
    generate_business_key_pair,
    load_private_key,
)

PING = {"version": "3.0", "action": "ping"}
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes]:
    return generate_business_key_pair()


@pytest.fixture(scope="module")
def private_key(key_pair) -> rsa.RSAPrivateKey:
    return load_private_key(key_pair[0])


def meta_encrypts(payload: dict, public_pem: bytes) -> tuple[dict[str, str], bytes, bytes]:
    """What WhatsApp sends: a fresh AES-128 key under the business public key, AES-GCM payload."""
    public_key = serialization.load_pem_public_key(public_pem)
    aes_key = AESGCM.generate_key(bit_length=128)
    iv = os.urandom(16)
    encrypted_payload = AESGCM(aes_key).encrypt(iv, json.dumps(payload).encode(), None)  # tag appended
    body = {
        "encrypted_flow_data": base64.b64encode(encrypted_payload).decode(),
        "encrypted_aes_key": base64.b64encode(public_key.encrypt(aes_key, OAEP)).decode(),  # type: ignore[union-attr]
        "initial_vector": base64.b64encode(iv).decode(),
    }
    return body, aes_key, iv


def test_decrypts_a_request_encrypted_like_meta(key_pair, private_key):
    payload = {
        "version": "3.0",
        "action": "data_exchange",
        "screen": "START",
        "data": {"zip": "00100"},
        "flow_token": "t",
    }
    body, aes_key, iv = meta_encrypts(payload, key_pair[1])
    request = decrypt_request(body, private_key)
    assert isinstance(request, DecryptedRequest)
    assert (request.payload, request.aes_key, request.iv) == (payload, aes_key, iv)


def test_response_decrypts_with_the_flipped_iv(key_pair, private_key):
    body, aes_key, iv = meta_encrypts(PING, key_pair[1])
    request = decrypt_request(body, private_key)
    answer = {"data": {"status": "active"}}
    encrypted = encrypt_response(answer, request.aes_key, request.iv)
    flipped_iv = bytes(byte ^ 0xFF for byte in iv)
    assert json.loads(AESGCM(aes_key).decrypt(flipped_iv, base64.b64decode(encrypted), None)) == answer
    with pytest.raises(InvalidTag):
        AESGCM(aes_key).decrypt(iv, base64.b64decode(encrypted), None)


def test_wrong_private_key_is_a_decryption_error(key_pair):
    body, _, _ = meta_encrypts(PING, key_pair[1])
    other_key = load_private_key(generate_business_key_pair()[0])
    with pytest.raises(FlowDecryptionError) as caught:
        decrypt_request(body, other_key)
    assert caught.value.reason == "key_decryption_failed"
    assert caught.value.http_status == 421


def test_tampered_flow_data_is_a_decryption_error(key_pair, private_key):
    body, _, _ = meta_encrypts(PING, key_pair[1])
    data = bytearray(base64.b64decode(body["encrypted_flow_data"]))
    data[0] ^= 0x01
    tampered = {**body, "encrypted_flow_data": base64.b64encode(bytes(data)).decode()}
    with pytest.raises(FlowDecryptionError) as caught:
        decrypt_request(tampered, private_key)
    assert caught.value.reason == "payload_decryption_failed"


def test_tampered_tag_or_iv_is_a_decryption_error(key_pair, private_key):
    body, _, iv = meta_encrypts(PING, key_pair[1])
    data = bytearray(base64.b64decode(body["encrypted_flow_data"]))
    data[-1] ^= 0x01
    with pytest.raises(FlowDecryptionError):
        decrypt_request({**body, "encrypted_flow_data": base64.b64encode(bytes(data)).decode()}, private_key)
    other_iv = base64.b64encode(bytes(byte ^ 0x01 for byte in iv)).decode()
    with pytest.raises(FlowDecryptionError):
        decrypt_request({**body, "initial_vector": other_iv}, private_key)


@pytest.mark.parametrize("field", ["encrypted_flow_data", "encrypted_aes_key", "initial_vector"])
def test_bad_base64_is_a_decryption_error(key_pair, private_key, field):
    body, _, _ = meta_encrypts(PING, key_pair[1])
    with pytest.raises(FlowDecryptionError) as caught:
        decrypt_request({**body, field: "not base64 !!"}, private_key)
    assert caught.value.reason == "invalid_base64"


@pytest.mark.parametrize("body", [{}, {"encrypted_flow_data": "AA=="}, [], "text"])
def test_malformed_body_is_a_decryption_error(private_key, body):
    with pytest.raises(FlowDecryptionError) as caught:
        decrypt_request(body, private_key)
    assert caught.value.reason == "invalid_body"


def test_payload_that_is_not_a_json_object_is_a_decryption_error(key_pair, private_key):
    public_key = serialization.load_pem_public_key(key_pair[1])
    aes_key, iv = AESGCM.generate_key(bit_length=128), os.urandom(16)
    body = {
        "encrypted_flow_data": base64.b64encode(
            AESGCM(aes_key).encrypt(iv, b"secret, not json", None)
        ).decode(),
        "encrypted_aes_key": base64.b64encode(public_key.encrypt(aes_key, OAEP)).decode(),
        "initial_vector": base64.b64encode(iv).decode(),
    }
    with pytest.raises(FlowDecryptionError) as caught:
        decrypt_request(body, private_key)
    assert caught.value.reason == "invalid_payload"
    assert "secret" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_decrypted_values_stay_out_of_repr(key_pair, private_key):
    body, aes_key, _ = meta_encrypts(
        {"version": "3.0", "action": "INIT", "data": {"pin": "4321"}}, key_pair[1]
    )
    text = repr(decrypt_request(body, private_key))
    assert "4321" not in text and repr(aes_key) not in text


def test_generated_key_pair_is_rsa_2048_pem(key_pair):
    private_pem, public_pem = key_pair
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert load_private_key(private_pem).key_size == 2048


def test_password_protected_private_key():
    private_pem, _ = generate_business_key_pair(password=b"s3cret")
    assert private_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_private_key(private_pem, b"s3cret").key_size == 2048
    with pytest.raises(InvalidBusinessKeyError):
        load_private_key(private_pem, b"wrong")
    with pytest.raises(InvalidBusinessKeyError):
        load_private_key(private_pem, None)


def test_unloadable_keys_are_refused():
    with pytest.raises(InvalidBusinessKeyError):
        load_private_key(b"not a key")
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidBusinessKeyError):
        load_private_key(ec_pem)
