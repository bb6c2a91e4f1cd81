"""The data-exchange endpoint, called the way Meta calls it: signed, encrypted with the business key."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils import timezone

import flows_builder.endpoint.keys as keys_module
from flows_builder.crypto import generate_business_key_pair
from flows_builder.endpoint import FLOW_ENDPOINT_HANDLERS, FlowTokenRejected, flow_endpoint_key_ensure
from flows_builder.models import FlowEndpointKey
from tests.conftest import ApiClient
from tests.flows_builder.factories import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    FlowTokenFactory,
    PhoneNumberFactory,
    WhatsAppAccountFactory,
    WhatsAppFlowFactory,
)
from tests.flows_builder.test_crypto import meta_encrypts
from webhooks.signature import compute_signature

ENDPOINT_FLOW_JSON = {
    "version": "7.1",
    "data_api_version": "3.0",
    "routing_model": {"PICK_DATE": ["CONFIRM"], "CONFIRM": []},
    "screens": [
        {
            "id": "PICK_DATE",
            "title": "Pick a date",
            "data": {
                "dates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
                    },
                    "__example__": [{"id": "2026-12-03", "title": "3 Dec"}],
                }
            },
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {
                        "type": "Dropdown",
                        "name": "date",
                        "label": "Date",
                        "data-source": "${data.dates}",
                        "required": True,
                    },
                    {
                        "type": "Footer",
                        "label": "Next",
                        "on-click-action": {"name": "data_exchange", "payload": {"date": "${form.date}"}},
                    },
                ],
            },
        },
        {
            "id": "CONFIRM",
            "title": "Confirm",
            "terminal": True,
            "data": {"summary": {"type": "string", "__example__": "3 Dec"}},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextBody", "text": "${data.summary}"},
                    {
                        "type": "Footer",
                        "label": "Done",
                        "on-click-action": {"name": "complete", "payload": {}},
                    },
                ],
            },
        },
    ],
}
SECRET_ANSWER = "date-chosen-by-a-customer-7731"


@pytest.fixture
def booking(sim, tenant_a, in_tenant, alpha_account, alpha_number, alpha_contact):
    """An endpoint flow on alpha's number, its key pair uploaded, a live token, a recording handler."""
    seen = []

    def handler(request):
        seen.append((request.action, request.screen, dict(request.data), request.contact.wa_id))
        if request.action == "INIT":
            return {"screen": "PICK_DATE", "data": {"dates": [{"id": "2026-12-03", "title": "3 Dec"}]}}
        if request.action == "BACK":
            return {"screen": "PICK_DATE", "data": {"dates": []}}
        if request.data.get("date") == "closed":
            raise FlowTokenRejected()
        return {"screen": "CONFIRM", "data": {"summary": f"Booked {request.data['date']}"}}

    FLOW_ENDPOINT_HANDLERS.register("appointment_booking")(handler)
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory(
            account=alpha_account,
            name="appointment_booking",
            flow_json=ENDPOINT_FLOW_JSON,
            endpoint_enabled=True,
            endpoint_phone_number=alpha_number,
        )
        key = flow_endpoint_key_ensure(phone_number=alpha_number)
        token = FlowTokenFactory(flow=flow, contact=alpha_contact)
    yield {"flow": flow, "key": key, "token": token, "seen": seen}
    FLOW_ENDPOINT_HANDLERS.unregister("appointment_booking")


def call(
    payload: dict, public_pem: str, *, secret: str = APP_SECRET, signature: str | None = "sign", path=None
):
    body, aes_key, iv = meta_encrypts(payload, public_pem.encode())
    raw = json.dumps(body).encode()
    headers: dict[str, Any] = {}
    if signature == "sign":
        headers["HTTP_X_HUB_SIGNATURE_256"] = compute_signature(raw, secret)
    elif signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    client = ApiClient("localhost")
    response = client.post(
        path or f"/flows/endpoint/alpha/{PHONE_NUMBER_ID}",
        data=raw,
        content_type="application/json",
        **headers,
    )
    return response, aes_key, iv


def decrypt_answer(response, aes_key: bytes, iv: bytes) -> dict:
    flipped = bytes(byte ^ 0xFF for byte in iv)
    return json.loads(AESGCM(aes_key).decrypt(flipped, base64.b64decode(response.content), None))


def test_key_pair_is_stored_encrypted_and_its_public_key_uploaded(booking, sim, tenant_a, in_tenant):
    key = booking["key"]
    assert sim.state.phones[PHONE_NUMBER_ID].business_public_key == key.public_key_pem
    [upload] = sim.requests(path_contains="whatsapp_business_encryption")
    assert upload["method"] == "POST" and upload["body"] == {"business_public_key": key.public_key_pem}
    with in_tenant(tenant_a):
        stored = FlowEndpointKey.objects.get()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT private_key_pem FROM flows_builder_flowendpointkey")
            [(ciphertext,)] = cursor.fetchall()
    assert stored.uploaded_at is not None and "PRIVATE KEY" in stored.private_key_pem.reveal()
    assert "PRIVATE KEY" not in ciphertext and "PRIVATE" not in repr(stored.private_key_pem)


def test_ping_is_answered_encrypted(booking):
    response, aes_key, iv = call({"version": "3.0", "action": "ping"}, booking["key"].public_key_pem)
    assert response.status_code == 200
    assert decrypt_answer(response, aes_key, iv) == {"data": {"status": "active"}}


def test_init_data_exchange_and_back_reach_the_flow_handler(booking):
    token, public = booking["token"].token, booking["key"].public_key_pem
    init, k1, iv1 = call({"version": "3.0", "action": "INIT", "flow_token": token}, public)
    exchange, k2, iv2 = call(
        {
            "version": "3.0",
            "action": "data_exchange",
            "screen": "PICK_DATE",
            "data": {"date": "2026-12-03"},
            "flow_token": token,
        },
        public,
    )
    back, k3, iv3 = call(
        {"version": "3.0", "action": "BACK", "screen": "CONFIRM", "flow_token": token}, public
    )

    assert [r.status_code for r in (init, exchange, back)] == [200, 200, 200]
    assert decrypt_answer(init, k1, iv1) == {
        "screen": "PICK_DATE",
        "data": {"dates": [{"id": "2026-12-03", "title": "3 Dec"}]},
    }
    assert decrypt_answer(exchange, k2, iv2) == {
        "screen": "CONFIRM",
        "data": {"summary": "Booked 2026-12-03"},
    }
    assert decrypt_answer(back, k3, iv3) == {"screen": "PICK_DATE", "data": {"dates": []}}
    assert booking["seen"] == [
        ("INIT", None, {}, "16315551181"),
        ("data_exchange", "PICK_DATE", {"date": "2026-12-03"}, "16315551181"),
        ("BACK", "CONFIRM", {}, "16315551181"),
    ]


def test_a_request_encrypted_with_another_key_gets_421(booking):
    _, other_public = generate_business_key_pair()
    response, _, _ = call({"version": "3.0", "action": "ping"}, other_public.decode())
    assert response.status_code == 421 and booking["seen"] == []

    client = ApiClient("localhost")
    raw = b"not json at all"
    garbage = client.post(
        f"/flows/endpoint/alpha/{PHONE_NUMBER_ID}",
        data=raw,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=compute_signature(raw, APP_SECRET),
    )
    assert garbage.status_code == 421


def test_stale_unknown_or_rejected_tokens_get_427(booking, tenant_a, in_tenant, alpha_contact):
    public = booking["key"].public_key_pem
    with in_tenant(tenant_a):
        stale = FlowTokenFactory(flow=booking["flow"], contact=alpha_contact, expires_at=timezone.now())
        used = FlowTokenFactory(flow=booking["flow"], contact=alpha_contact, used_at=timezone.now())
    for token in (stale.token, used.token, "ft_never_issued", None):
        response, _, _ = call({"version": "3.0", "action": "INIT", "flow_token": token}, public)
        assert response.status_code == 427, token
        assert response.json() == {"error_msg": "The flow token is no longer valid."}
    rejected, _, _ = call(
        {
            "version": "3.0",
            "action": "data_exchange",
            "data": {"date": "closed"},
            "flow_token": booking["token"].token,
        },
        public,
    )
    assert rejected.status_code == 427
    assert [seen[0] for seen in booking["seen"]] == [
        "data_exchange"
    ]  # only the live token reached the handler


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, None, "sha1=abc"])
def test_bad_or_missing_signature_gets_432_and_nothing_is_decrypted(booking, monkeypatch, signature):
    decrypted = []
    monkeypatch.setattr(
        "flows_builder.endpoint.exchange.decrypt_request", lambda *args: decrypted.append(args) or None
    )
    response, _, _ = call(
        {"version": "3.0", "action": "ping"}, booking["key"].public_key_pem, signature=signature
    )
    assert response.status_code == 432 and decrypted == []


def test_signature_with_another_app_secret_gets_432(booking):
    response, _, _ = call(
        {"version": "3.0", "action": "ping"}, booking["key"].public_key_pem, secret="other-secret"
    )
    assert response.status_code == 432


def test_endpoint_of_another_tenant_or_number_is_not_found(booking, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        PhoneNumberFactory(
            account=WhatsAppAccountFactory(waba_id="200000000000888"), phone_number_id="300000000000888"
        )
    public = booking["key"].public_key_pem
    # beta's number under alpha's slug, alpha's number under beta's slug, unknown slug: all 404.
    for path in (
        "/flows/endpoint/alpha/300000000000888",
        f"/flows/endpoint/beta/{PHONE_NUMBER_ID}",
        f"/flows/endpoint/nobody/{PHONE_NUMBER_ID}",
    ):
        response, _, _ = call({"version": "3.0", "action": "ping"}, public, path=path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert ApiClient("localhost").get(f"/flows/endpoint/alpha/{PHONE_NUMBER_ID}").status_code == 405


def test_private_key_is_loaded_once_per_key_version(booking, monkeypatch, tenant_a, in_tenant, alpha_number):
    loads = []
    real_load = keys_module.load_private_key
    monkeypatch.setattr(keys_module, "load_private_key", lambda pem: loads.append(1) or real_load(pem))
    for _ in range(3):
        response, _, _ = call({"version": "3.0", "action": "ping"}, booking["key"].public_key_pem)
        assert response.status_code == 200
    assert len(loads) == 1

    with in_tenant(tenant_a):
        rotated = flow_endpoint_key_ensure(phone_number=alpha_number, rotate=True)
    assert rotated.key_version == 2
    old, _, _ = call({"version": "3.0", "action": "ping"}, booking["key"].public_key_pem)
    new, _, _ = call({"version": "3.0", "action": "ping"}, rotated.public_key_pem)
    assert (old.status_code, new.status_code) == (421, 200)  # 421 makes Meta fetch the new public key
    assert len(loads) == 2


def test_decrypted_bodies_never_reach_the_logs(booking, caplog):
    caplog.set_level(logging.DEBUG)
    token = booking["token"].token
    call(
        {"version": "3.0", "action": "data_exchange", "data": {"date": SECRET_ANSWER}, "flow_token": token},
        booking["key"].public_key_pem,
    )
    call(
        {"version": "3.0", "action": "data_exchange", "data": {"date": SECRET_ANSWER}},
        booking["key"].public_key_pem,
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "flow endpoint" in logged  # the outcome is logged...
    assert SECRET_ANSWER not in logged and token not in logged  # ...the content never


def test_meta_error_notifications_are_acknowledged(booking):
    response, aes_key, iv = call(
        {
            "version": "3.0",
            "action": "data_exchange",
            "flow_token": booking["token"].token,
            "data": {"error": "INVALID_SCREEN", "error_message": "Screen CONFIRM does not exist"},
        },
        booking["key"].public_key_pem,
    )
    assert response.status_code == 200
    assert decrypt_answer(response, aes_key, iv) == {"data": {"acknowledged": True}}
    assert booking["seen"] == []


def test_a_token_of_another_accounts_flow_gets_427_at_this_numbers_endpoint(booking, tenant_a, in_tenant, alpha_contact):
    """A flow token only works at the endpoint of a number of the account its flow belongs to."""
    other_seen = []
    FLOW_ENDPOINT_HANDLERS.register("other_account_flow")(lambda request: other_seen.append(request) or {})
    try:
        with in_tenant(tenant_a):
            other_account = WhatsAppAccountFactory(waba_id="200000000000999")
            PhoneNumberFactory(account=other_account, phone_number_id="300000000000999")
            other_flow = WhatsAppFlowFactory(account=other_account, name="other_account_flow",
                                             flow_json=ENDPOINT_FLOW_JSON, endpoint_enabled=True)
            foreign = FlowTokenFactory(flow=other_flow, contact=alpha_contact)

        response, _, _ = call({"version": "3.0", "action": "INIT", "flow_token": foreign.token},
                              booking["key"].public_key_pem)
    finally:
        FLOW_ENDPOINT_HANDLERS.unregister("other_account_flow")

    assert response.status_code == 427
    assert response.json() == {"error_msg": "The flow token is no longer valid."}
    assert other_seen == [] and booking["seen"] == []


def _signed_post(raw: bytes):
    headers: dict[str, Any] = {"HTTP_X_HUB_SIGNATURE_256": compute_signature(raw, APP_SECRET)}
    return ApiClient("localhost").post(
        f"/flows/endpoint/alpha/{PHONE_NUMBER_ID}", data=raw, content_type="application/json", **headers
    )


def _encrypted_text(plaintext: bytes, public_pem: str) -> bytes:
    """A request whose decrypted payload is `plaintext` exactly (not necessarily JSON we could dump)."""
    body, aes_key, iv = meta_encrypts({}, public_pem.encode())
    body["encrypted_flow_data"] = base64.b64encode(AESGCM(aes_key).encrypt(iv, plaintext, None)).decode()
    return json.dumps(body).encode()


def test_a_body_nested_deeper_than_the_parser_allows_gets_421_not_a_500(booking, caplog):
    response = _signed_post(b"[" * 100_000 + b"]" * 100_000)

    assert response.status_code == 421
    assert "Traceback" not in caplog.text


def test_a_decrypted_payload_nested_too_deeply_gets_421_not_a_500(booking, caplog):
    response = _signed_post(_encrypted_text(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, booking["key"].public_key_pem))

    assert response.status_code == 421
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("action", [["INIT"], {"name": "INIT"}, None, 7])
def test_an_action_that_is_not_a_string_gets_400(booking, action):
    payload = {"version": "3.0", "action": action, "flow_token": booking["token"].token}

    response, _, _ = call(payload, booking["key"].public_key_pem)

    assert response.status_code == 400
    assert booking["seen"] == []


def test_nul_characters_and_lone_surrogates_after_decryption_are_replaced_not_a_500(booking):
    pem = booking["key"].public_key_pem
    token = booking["token"].token
    raw = json.dumps({"version": "3.0", "action": "data_exchange", "screen": "PICK_DATE", "flow_token": token + "\x00",
                      "data": {"date": "x"}}).encode()
    forged, _, _ = call(json.loads(raw), pem)
    assert forged.status_code == 427  # the token with U+FFFD is not a token we issued

    response, aes_key, iv = call({"version": "3.0", "action": "data_exchange", "screen": "PICK_DATE",
                                  "flow_token": token, "data": {"date": "3 Dec\x00 \ud83d"}}, pem)

    assert response.status_code == 200
    assert decrypt_answer(response, aes_key, iv)["data"] == {"summary": "Booked 3 Dec\ufffd \ufffd"}
    assert booking["seen"][-1][2] == {"date": "3 Dec\ufffd \ufffd"}


def test_a_number_id_holding_a_nul_is_not_found_not_a_500(booking):
    raw = b"{}"
    response = ApiClient("localhost").post(
        "/flows/endpoint/alpha/1%00", data=raw, content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=compute_signature(raw, APP_SECRET),
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

