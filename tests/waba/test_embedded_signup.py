"""Embedded Signup through the tenant API against the Graph API simulator: the code from the
simulator's stand-in for Facebook's window, what Meta is asked, what is stored, what a failure
leaves (nothing), and the outsider workspace.
"""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
from django.db import connection

from messaging.models import Message
from tenants.models import MetaApp, MetaRoute
from tests.sending.helpers import drain
from tests.waba.conftest import OTHER_PHONE_ID, OTHER_WABA_ID, PHONE_ID, WABA_ID, sim_fault
from waba.models import MessageTemplate, WhatsAppAccount

PLATFORM_APP_ID = "710000000000099"
PLATFORM_APP_SECRET = "platform-app-secret-0099"
ORIGIN = "http://alpha.localhost:8000"
URL = "/api/v1/setup/embedded-signup"


@pytest.fixture
def platform_app(sim, settings):
    """The platform's own Meta app, known to the simulator and configured in the settings."""
    sim.seed({"apps": [{"app_id": PLATFORM_APP_ID, "app_secret": PLATFORM_APP_SECRET, "name": "Platform"}]})
    settings.META_APP_ID = PLATFORM_APP_ID
    settings.META_APP_SECRET = PLATFORM_APP_SECRET
    settings.META_VERIFY_TOKEN = "platform-verify-token-0099"
    return sim


@pytest.fixture(autouse=True)
def _fresh_limiter(monkeypatch):
    import sending.limiter as limiter_module

    monkeypatch.setattr(limiter_module, "_limiter", None)


def signup_window(sim, **form) -> dict:
    """Finish the simulator's stand-in for Facebook's window; returns what it posts to the opener:
    the session-info data plus the login response's code."""
    response = httpx.post(
        f"{sim.base_url}/_signup/dialog", data={"client_id": PLATFORM_APP_ID, "origin": ORIGIN, **form}, timeout=5
    )
    assert response.status_code == 200, response.text
    found = re.search(r'<script type="application/json" id="signup-result">(.*?)</script>', response.text)
    assert found, response.text
    result = json.loads(found.group(1))
    assert result["origin"] == ORIGIN
    session_info, login = result["messages"]
    assert session_info["type"] == "WA_EMBEDDED_SIGNUP" and session_info["event"] == "FINISH"
    assert login["response"]["status"] == "connected"
    return {**session_info["data"], "code": login["response"]["authResponse"]["code"]}


def completion(signup: dict, **extra) -> dict:
    return {"code": signup["code"], "waba_id": signup["waba_id"], "phone_number_id": signup["phone_number_id"], **extra}


def graph_calls(sim, since: int = 0) -> list[tuple[str, str | None, str | None]]:
    """What the platform asked Meta, in order; the pages of one listing count once."""
    calls: list[tuple[str, str | None, str | None]] = []
    for request in sim.requests()[since:]:
        call = (request["method"], request["object_id"], request["edge"])
        if not (calls and calls[-1] == call and "after" in (request["query"] or {})):
            calls.append(call)
    return calls


def nothing_made(tenant, in_tenant) -> None:
    assert not MetaRoute.objects.filter(tenant=tenant).exists()
    assert not MetaApp.objects.filter(tenant=tenant).exists()
    with in_tenant(tenant):
        assert not WhatsAppAccount.objects.exists()


def test_connecting_asks_meta_exactly_what_embedded_signup_needs_and_stores_a_live_account(
    platform_app, api_a, tenant_a, in_tenant
):
    sim = platform_app
    signup = signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}")
    before = len(sim.requests())

    response = api_a.post_json(URL, completion(signup, pin="246810"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert graph_calls(sim, before) == [
        ("GET", "oauth", "access_token"),
        ("GET", "debug_token", None),
        ("GET", WABA_ID, None),
        ("GET", WABA_ID, "phone_numbers"),
        ("POST", WABA_ID, "subscribed_apps"),
        ("POST", PHONE_ID, "register"),
        ("GET", PHONE_ID, None),
        ("GET", WABA_ID, "message_templates"),
    ]
    exchange, *rest = sim.requests()[before:]
    assert exchange["query"] == {
        "client_id": PLATFORM_APP_ID,
        "client_secret": "…" + PLATFORM_APP_SECRET[-4:],
        "code": signup["code"],
    }
    assert exchange["authorization"] is None and exchange["status"] == 200
    [token] = [t["token"] for t in sim.state.snapshot()["tokens"] if t["app_id"] == PLATFORM_APP_ID]
    assert {r["authorization"] for r in rest if r["object_id"] != "debug_token"} == {"Bearer …" + token[-4:]}
    register = next(r for r in rest if r["edge"] == "register")
    assert register["body"] == {"messaging_product": "whatsapp", "pin": "246810"}
    assert [s["app_id"] for s in sim.state.snapshot()["wabas"][0]["subscribed_apps"]] == [PLATFORM_APP_ID]

    assert body["created"] is True and body["two_step_pin"] is None
    account = body["account"]
    assert account["status"] == "active" and account["waba_id"] == WABA_ID
    assert account["display_name"] == "Alpha Coffee" and account["app_id"] == PLATFORM_APP_ID
    assert account["access_token"] == {"set": True, "last4": token[-4:]}
    assert account["setup_completed_steps"] == [1, 2, 3, 4, 5, 6]
    [phone] = account["phone_numbers"]
    assert (phone["phone_number_id"], phone["e164_number"], phone["verified_name"]) == (
        PHONE_ID, "+15550100001", "Alpha Coffee",
    )
    assert phone["is_registered"] is True
    assert body["templates"]["imported"] is True

    assert set(MetaRoute.objects.filter(tenant=tenant_a).values_list("kind", "external_id")) == {
        (MetaRoute.Kind.WABA, WABA_ID), (MetaRoute.Kind.PHONE_NUMBER, PHONE_ID),
    }
    assert not MetaApp.objects.filter(app_id=PLATFORM_APP_ID).exists()  # the platform's app stays in the settings
    with in_tenant(tenant_a):
        with connection.cursor() as cursor:
            cursor.execute("SELECT access_token FROM waba_whatsappaccount WHERE id = %s", [account["id"]])
            [stored] = cursor.fetchone()
    assert stored.startswith("gAAAAA") and token not in stored
    with in_tenant(tenant_a):
        verify_token = WhatsAppAccount.objects.get().webhook_verify_token.reveal()
    assert verify_token and verify_token != "platform-verify-token-0099"  # the platform's stays in the settings
    progress = api_a.get(f"/api/v1/setup/{account['id']}").json()
    assert progress["ready_to_complete"] is True and progress["status"] == "active"


def test_the_code_and_the_app_secret_never_reach_the_logs(platform_app, api_a, caplog):
    signup = signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")

    with caplog.at_level(logging.DEBUG):
        assert api_a.post_json(URL, completion(signup)).status_code == 201

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "oauth/access_token?client_id=" + PLATFORM_APP_ID in logged
    assert signup["code"] not in logged and PLATFORM_APP_SECRET not in logged


def test_a_new_waba_made_in_the_window_is_registered_with_a_pin_chosen_and_shown_once(
    platform_app, api_a, tenant_a, in_tenant
):
    sim = platform_app
    signup = signup_window(sim, account="new", business_name="Gamma Bakery", display_phone_number="+1 555 010 0444")
    assert signup["waba_id"] not in (WABA_ID, OTHER_WABA_ID)

    response = api_a.post_json(URL, completion(signup))

    assert response.status_code == 201, response.content
    body = response.json()
    pin = body["two_step_pin"]
    assert re.fullmatch(r"\d{6}", pin)
    register = sim.requests(path_contains=f"{signup['phone_number_id']}/register")[-1]
    assert register["body"] == {"messaging_product": "whatsapp", "pin": pin}
    [phone] = body["account"]["phone_numbers"]
    assert phone["status"] == "CONNECTED" and phone["e164_number"] == "+15550100444"  # as Meta says after registering
    assert body["account"]["display_name"] == "Gamma Bakery"
    assert body["account"]["business_account_id"] == signup["business_id"]
    with in_tenant(tenant_a):
        assert pin not in json.dumps(list(WhatsAppAccount.objects.values()), default=str)


def test_a_retried_completion_answers_the_connected_account_without_asking_meta_again(platform_app, api_a, tenant_a, in_tenant):
    sim = platform_app
    body = completion(signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}"))
    first = api_a.post_json(URL, body)
    assert first.status_code == 201, first.content
    calls = len(sim.requests())

    again = api_a.post_json(URL, body)

    assert again.status_code == 200, again.content
    assert again.json()["created"] is False and again.json()["account"]["id"] == first.json()["account"]["id"]
    assert again.json()["templates"] is None
    assert len(sim.requests()) == calls
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.count() == 1


def test_a_used_code_is_refused_saying_to_start_again_and_leaves_nothing(platform_app, api_a, tenant_a, in_tenant):
    sim = platform_app
    signup = signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}")
    httpx.get(
        f"{sim.base_url}/v23.0/oauth/access_token",
        params={"client_id": PLATFORM_APP_ID, "client_secret": PLATFORM_APP_SECRET, "code": signup["code"]},
    ).raise_for_status()

    response = api_a.post_json(URL, completion(signup))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "signup_code_used"
    assert "Connect with Facebook" in error["message"]
    assert signup["code"] not in response.content.decode()
    assert graph_calls(sim)[-1] == ("GET", "oauth", "access_token")
    nothing_made(tenant_a, in_tenant)


def test_an_expired_code_is_refused(platform_app, api_a, tenant_a, in_tenant):
    platform_app.configure(signup_code_ttl_s=0)
    signup = signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")

    response = api_a.post_json(URL, completion(signup))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "signup_code_expired"
    nothing_made(tenant_a, in_tenant)


def test_a_waba_that_was_not_shared_is_refused_before_anything_is_written(platform_app, api_a, tenant_a, in_tenant):
    sim = platform_app
    signup = signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}")

    response = api_a.post_json(URL, completion(signup, waba_id=OTHER_WABA_ID, phone_number_id=OTHER_PHONE_ID))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "waba_not_shared"
    assert OTHER_WABA_ID in error["message"] and "Connect with Facebook" in error["message"]
    assert ("POST", OTHER_WABA_ID, "subscribed_apps") not in graph_calls(sim)
    nothing_made(tenant_a, in_tenant)


def test_a_number_outside_the_shared_waba_is_refused(platform_app, api_a, tenant_a, in_tenant):
    signup = signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")

    response = api_a.post_json(URL, completion(signup, phone_number_id=OTHER_PHONE_ID))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "phone_number_not_in_waba" and OTHER_PHONE_ID in error["message"]
    nothing_made(tenant_a, in_tenant)


def test_a_refused_registration_rolls_everything_back_and_undoes_the_subscription(platform_app, api_a, tenant_a, in_tenant):
    sim = platform_app
    sim.seed({"phone_numbers": [{"id": PHONE_ID, "waba_id": WABA_ID, "display_phone_number": "+1 555-010-0001",
                                 "pin": "111111"}]})
    signup = signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}")

    response = api_a.post_json(URL, completion(signup, pin="222222"))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "phone_number_registration_failed"
    assert error["details"]["meta_code"] == 133005
    assert "two-step verification PIN" in error["message"] and "Nothing was connected" in error["message"]
    assert graph_calls(sim)[-3:] == [
        ("POST", WABA_ID, "subscribed_apps"),
        ("POST", PHONE_ID, "register"),
        ("DELETE", WABA_ID, "subscribed_apps"),
    ]
    assert sim.state.snapshot()["wabas"][0]["subscribed_apps"] == []
    nothing_made(tenant_a, in_tenant)

    retry = api_a.post_json(URL, completion(signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}"), pin="111111"))
    assert retry.status_code == 201, retry.content


def test_meta_unavailable_while_registering_leaves_nothing(platform_app, api_a, tenant_a, in_tenant):
    signup = signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")
    sim_fault(platform_app, path_contains=f"{PHONE_ID}/register", status=503, error_code=2)

    response = api_a.post_json(URL, completion(signup, pin="246810"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "meta_unavailable"
    nothing_made(tenant_a, in_tenant)


def test_a_wrong_platform_secret_is_an_operator_problem_and_the_code_stays_unused(platform_app, api_a, settings, tenant_a, in_tenant):
    settings.META_APP_SECRET = "not-the-secret"
    signup = signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")

    response = api_a.post_json(URL, completion(signup))

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "embedded_signup_not_configured" and "META_APP_SECRET" in error["message"]
    assert "not-the-secret" not in response.content.decode()
    nothing_made(tenant_a, in_tenant)
    settings.META_APP_SECRET = PLATFORM_APP_SECRET
    assert api_a.post_json(URL, completion(signup)).status_code == 201


def test_without_the_platform_app_it_says_to_use_the_manual_setup(sim, api_a, settings):
    settings.META_APP_ID = ""

    response = api_a.post_json(URL, {"code": "AQabc", "waba_id": WABA_ID, "phone_number_id": PHONE_ID})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "embedded_signup_not_configured"
    assert sim.requests() == []


def test_the_body_is_checked_field_by_field(platform_app, api_a):
    response = api_a.post_json(URL, {"waba_id": "abc", "phone_number_id": PHONE_ID, "pin": "12"})

    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"code", "waba_id", "pin"}


def test_another_workspace_can_neither_take_the_waba_nor_see_the_account(platform_app, api_a, api_b, tenant_b, in_tenant):
    sim = platform_app
    body = completion(signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}"))
    account_id = api_a.post_json(URL, body).json()["account"]["id"]

    replayed = api_b.post_json(URL, body)
    fresh = api_b.post_json(URL, completion(signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}")))

    for response in (replayed, fresh):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "already_claimed"
    assert api_b.get(f"/api/v1/accounts/{account_id}").status_code == 404
    assert api_b.get(f"/api/v1/setup/{account_id}").status_code == 404
    with in_tenant(tenant_b):
        assert not WhatsAppAccount.objects.exists()


def test_the_connected_account_sends_a_template_through_the_send_pipeline(platform_app, api_a, tenant_a, in_tenant):
    sim = platform_app
    sim.seed({"templates": [{"waba_id": WABA_ID, "name": "order_ready", "language": "en_US", "category": "UTILITY",
                             "status": "APPROVED", "components": [{"type": "BODY", "text": "Hi {{1}}, order {{2}} is ready."}]}]})
    connected = api_a.post_json(URL, completion(signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}"), pin="246810"))
    assert connected.status_code == 201, connected.content
    assert connected.json()["templates"]["counts"]["created"] == 1

    queued = api_a.post_json("/api/v1/messages", {
        "phone_number_id": PHONE_ID, "to": "+49 151 12345678", "type": "template",
        "template": {"name": "order_ready", "language": "en_US", "body_parameters": ["Ada", "A-17"]},
    })
    assert queued.status_code == 202, queued.content
    drain(tenant_a)

    [send] = sim.requests(path_contains=f"/{PHONE_ID}/messages", method="POST")
    [token] = [t["token"] for t in sim.state.snapshot()["tokens"] if t["app_id"] == PLATFORM_APP_ID]
    assert send["status"] == 200 and send["authorization"] == "Bearer …" + token[-4:]
    assert send["body"]["to"] == "4915112345678" and send["body"]["template"]["name"] == "order_ready"
    with in_tenant(tenant_a):
        message = Message.objects.get(pk=queued.json()["id"])
        assert message.status == "sent" and message.wamid.startswith("wamid.")
        assert MessageTemplate.objects.filter(name="order_ready", status="APPROVED").exists()
