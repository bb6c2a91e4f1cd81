"""Embedded Signup in the simulator: the stand-in for Facebook's window and `GET /oauth/access_token`."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.graph_simulator.conftest import (
    APP_ID,
    APP_SECRET,
    OTHER_PHONE_ID,
    OTHER_WABA_ID,
    PHONE_ID,
    WABA_ID,
)

OPENER = "http://alpha.localhost:8000"


def finish(sim, **form) -> dict:
    """Submit the window and return what it posts to its opener (origin and messages)."""
    response = httpx.post(f"{sim.base_url}/_signup/dialog", data={"client_id": APP_ID, "origin": OPENER, **form})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    found = re.search(r'<script type="application/json" id="signup-result">(.*?)</script>', response.text)
    assert found, response.text
    return json.loads(found.group(1))


def exchange(sim, code: str, *, secret: str = APP_SECRET, app_id: str = APP_ID) -> httpx.Response:
    return httpx.get(
        f"{sim.base_url}/v23.0/oauth/access_token",
        params={"client_id": app_id, "client_secret": secret, "code": code},
    )


def code_of(result: dict) -> str:
    return result["messages"][1]["response"]["authResponse"]["code"]


def oauth_error(response: httpx.Response) -> dict:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "OAuthException" and error["fbtrace_id"]
    return error


def test_the_window_lists_the_wabas_and_numbers_and_offers_a_new_one(sim):
    page = httpx.get(f"{sim.base_url}/_signup/dialog", params={"client_id": APP_ID, "origin": OPENER, "config_id": "77"})

    assert page.status_code == 200
    assert f'value="{WABA_ID}:{PHONE_ID}"' in page.text and f'value="{OTHER_WABA_ID}:{OTHER_PHONE_ID}"' in page.text
    assert 'value="new"' in page.text and "Connect WhatsApp to Platform" in page.text


@pytest.mark.parametrize(
    ("params", "status"),
    [({"client_id": "999", "origin": OPENER}, 404), ({"client_id": APP_ID, "origin": "javascript:alert(1)"}, 400)],
    ids=["unknown-app", "bad-origin"],
)
def test_the_window_refuses_an_unknown_app_or_origin(sim, params, status):
    assert httpx.get(f"{sim.base_url}/_signup/dialog", params=params).status_code == status


def test_finishing_posts_the_session_info_and_the_code_to_the_opener_only(sim):
    result = finish(sim, account=f"{WABA_ID}:{PHONE_ID}")

    session_info, login = result["messages"]
    assert result["origin"] == OPENER
    assert session_info == {
        "type": "WA_EMBEDDED_SIGNUP",
        "event": "FINISH",
        "data": {"phone_number_id": PHONE_ID, "waba_id": WABA_ID, "business_id": "900"},
        "version": "3",
    }
    assert login["type"] == "SIMULATOR_FB_LOGIN" and login["response"]["status"] == "connected"
    assert login["response"]["authResponse"]["code"].startswith("AQ")


def test_a_code_is_exchanged_once_for_a_token_that_sees_only_the_shared_waba(sim):
    code = code_of(finish(sim, account=f"{WABA_ID}:{PHONE_ID}"))

    answer = exchange(sim, code)

    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer"
    token = answer.json()["access_token"]
    data = httpx.get(f"{sim.base_url}/v23.0/debug_token", params={"input_token": token}).json()["data"]
    assert data["is_valid"] is True and data["app_id"] == APP_ID
    assert {"scope": "whatsapp_business_management", "target_ids": [WABA_ID]} in data["granular_scopes"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{sim.base_url}/v23.0/{WABA_ID}/phone_numbers", headers=bearer).status_code == 200
    assert httpx.get(f"{sim.base_url}/v23.0/{OTHER_WABA_ID}", headers=bearer).json()["error"]["code"] == 200

    used = oauth_error(exchange(sim, code))
    assert (used["code"], used["error_subcode"]) == (100, 36009)
    assert used["message"] == "This authorization code has been used."


def test_a_wrong_secret_or_app_is_refused_and_the_code_stays_usable(sim, control):
    control.post("/seed", json={"apps": [{"app_id": "555", "app_secret": "other"}]}).raise_for_status()
    code = code_of(finish(sim, account=f"{WABA_ID}:{PHONE_ID}"))

    wrong_secret = oauth_error(exchange(sim, code, secret="nope"))
    unknown_app = oauth_error(exchange(sim, code, app_id="999"))
    other_app = oauth_error(exchange(sim, code, app_id="555", secret="other"))

    assert (wrong_secret["code"], wrong_secret["message"]) == (1, "Error validating client secret.")
    assert unknown_app["code"] == 101
    assert (other_app["code"], other_app["error_subcode"]) == (100, 36008)
    assert exchange(sim, code).status_code == 200
    logged = sim.requests(path_contains="/oauth/access_token")[0]
    assert logged["query"]["client_secret"] == "…nope"  # the simulator's log keeps the last 4 characters


def test_codes_expire_and_unknown_codes_are_refused(sim, control):
    control.post("/config", json={"signup_code_ttl_s": 0}).raise_for_status()
    code = code_of(finish(sim, account=f"{WABA_ID}:{PHONE_ID}"))

    expired = oauth_error(exchange(sim, code))
    unknown = oauth_error(exchange(sim, "AQnot-a-code"))

    assert (expired["code"], expired["error_subcode"]) == (100, 36007)
    assert unknown["code"] == 100 and "error_subcode" not in unknown


def test_a_new_waba_waits_for_registration_before_it_can_send(sim):
    result = finish(sim, account="new", business_name="Gamma Bakery", display_phone_number="+1 555 010 0444")
    data = result["messages"][0]["data"]
    token = exchange(sim, code_of(result)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    base = f"{sim.base_url}/v23.0"

    waba = httpx.get(f"{base}/{data['waba_id']}", headers=bearer).json()
    assert waba["name"] == "Gamma Bakery" and waba["owner_business_info"]["id"] == data["business_id"]
    phone = httpx.get(f"{base}/{data['phone_number_id']}", headers=bearer).json()
    assert (phone["display_phone_number"], phone["status"]) == ("+1 555 010 0444", "PENDING")
    send = {"messaging_product": "whatsapp", "to": "15550001111", "type": "text", "text": {"body": "hi"}}
    assert httpx.post(f"{base}/{data['phone_number_id']}/messages", headers=bearer, json=send).json()["error"]["code"] == 133010

    registered = httpx.post(
        f"{base}/{data['phone_number_id']}/register", headers=bearer, json={"messaging_product": "whatsapp", "pin": "246810"}
    )
    assert registered.json() == {"success": True}
    assert httpx.post(f"{base}/{data['phone_number_id']}/messages", headers=bearer, json=send).status_code == 200


def test_a_new_waba_needs_a_name_and_a_number_not_taken(sim):
    for form in ({"business_name": "", "display_phone_number": "+1 555 010 0444"},
                 {"business_name": "Copy", "display_phone_number": "+1 555-010-0001"}):
        response = httpx.post(
            f"{sim.base_url}/_signup/dialog", data={"client_id": APP_ID, "origin": OPENER, "account": "new", **form}
        )
        assert response.status_code == 200
        assert 'role="alert"' in response.text and "signup-result" not in response.text
