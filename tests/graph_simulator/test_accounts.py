"""Tokens, debug_token, phone numbers, registration, subscribed apps, encryption key."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.graph_simulator.conftest import OTHER_PHONE_ID, OTHER_WABA_ID, PHONE_ID, TOKEN, WABA_ID


def assert_meta_error(response: httpx.Response, status: int, code: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] and error["message"] and error["fbtrace_id"]
    return error


def test_debug_token_reports_scopes_and_targets(graph):
    data = graph.get("/debug_token", params={"input_token": TOKEN}).json()["data"]
    assert data["is_valid"] is True
    assert data["type"] == "SYSTEM_USER"
    assert data["expires_at"] == 0
    assert {"scope": "whatsapp_business_messaging", "target_ids": [WABA_ID]} in data["granular_scopes"]
    assert {"scope": "whatsapp_business_management", "target_ids": [WABA_ID]} in data["granular_scopes"]


def test_debug_token_of_unknown_and_expired_tokens(graph, control):
    unknown = graph.get("/debug_token", params={"input_token": "nope"}).json()["data"]
    assert unknown["is_valid"] is False and unknown["error"]["code"] == 190
    control.post("/seed", json={"tokens": [{"token": "old", "waba_ids": [WABA_ID], "expires_at": 1}]})
    expired = graph.get("/debug_token", params={"input_token": "old"}).json()["data"]
    assert expired["is_valid"] is False and expired["error"]["subcode"] == 463


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer unknown"}, {}], ids=["unknown", "missing"])
def test_bad_or_missing_token_is_190(sim, control, headers):
    response = control.get(f"{sim.base_url}/v23.0/{PHONE_ID}", headers=headers)
    error = assert_meta_error(response, 401, 190)
    assert error["type"] == "OAuthException"


def test_expired_and_invalidated_tokens_are_190_with_subcodes(sim, control):
    control.post(
        "/seed",
        json={
            "tokens": [
                {"token": "expired", "waba_ids": [WABA_ID], "expires_at": int(time.time()) - 5},
                {"token": "revoked", "waba_ids": [WABA_ID], "valid": False},
            ]
        },
    )
    for token, subcode in (("expired", 463), ("revoked", 460)):
        response = control.get(
            f"{sim.base_url}/v23.0/{PHONE_ID}", headers={"Authorization": f"Bearer {token}"}
        )
        assert assert_meta_error(response, 401, 190)["error_subcode"] == subcode


def test_access_token_query_parameter_works(sim, control):
    response = control.get(f"{sim.base_url}/v23.0/{PHONE_ID}", params={"access_token": TOKEN})
    assert response.status_code == 200


def test_outsider_wabas_and_numbers_are_refused(graph):
    assert_meta_error(graph.get(f"/{OTHER_WABA_ID}/phone_numbers"), 403, 200)
    assert_meta_error(
        graph.post(
            f"/{OTHER_PHONE_ID}/messages",
            json={
                "messaging_product": "whatsapp",
                "to": "15550001111",
                "type": "text",
                "text": {"body": "hi"},
            },
        ),
        403,
        200,
    )


def test_unknown_object_and_unknown_edge(graph):
    error = assert_meta_error(graph.get("/123456789"), 400, 100)
    assert error["error_subcode"] == 33
    assert (
        "nonexisting field (bogus)" in assert_meta_error(graph.get(f"/{WABA_ID}/bogus"), 400, 100)["message"]
    )


def test_phone_numbers_list_and_fields(graph):
    body = graph.get(f"/{WABA_ID}/phone_numbers").json()
    (number,) = body["data"]
    assert number["id"] == PHONE_ID
    assert number["throughput"] == {"level": "STANDARD"}
    assert {
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "code_verification_status",
        "platform_type",
        "status",
        "name_status",
        "messaging_limit_tier",
    } <= number.keys()
    selected = graph.get(f"/{PHONE_ID}", params={"fields": "quality_rating,throughput{level}"}).json()
    assert selected == {"id": PHONE_ID, "quality_rating": "GREEN", "throughput": {"level": "STANDARD"}}


def test_paths_without_version_prefix_work(sim, control):
    response = control.get(f"{sim.base_url}/{PHONE_ID}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.json()["id"] == PHONE_ID


def test_register_needs_a_six_digit_pin(graph):
    assert graph.post(
        f"/{PHONE_ID}/register", json={"messaging_product": "whatsapp", "pin": "123456"}
    ).json() == {"success": True}
    assert_meta_error(
        graph.post(f"/{PHONE_ID}/register", json={"messaging_product": "whatsapp", "pin": "12"}), 400, 100
    )
    assert_meta_error(
        graph.post(f"/{PHONE_ID}/register", json={"messaging_product": "whatsapp", "pin": "654321"}),
        400,
        133005,
    )


def test_subscribed_apps_cycle(graph):
    assert graph.get(f"/{WABA_ID}/subscribed_apps").json() == {"data": []}
    assert graph.post(f"/{WABA_ID}/subscribed_apps").json() == {"success": True}
    (app,) = graph.get(f"/{WABA_ID}/subscribed_apps").json()["data"]
    assert app["whatsapp_business_api_data"]["name"] == "Platform"
    assert graph.delete(f"/{WABA_ID}/subscribed_apps").json() == {"success": True}
    assert graph.get(f"/{WABA_ID}/subscribed_apps").json() == {"data": []}


def test_business_public_key_set_and_get(graph):
    key = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"
    assert graph.post(
        f"/{PHONE_ID}/whatsapp_business_encryption", data={"business_public_key": key}
    ).json() == {"success": True}
    (item,) = graph.get(f"/{PHONE_ID}/whatsapp_business_encryption").json()["data"]
    assert item == {"business_public_key": key, "business_public_key_signature_status": "VALID"}
    assert_meta_error(
        graph.post(f"/{PHONE_ID}/whatsapp_business_encryption", data={"business_public_key": "x"}), 400, 100
    )
