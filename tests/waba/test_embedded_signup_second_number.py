"""Embedded Signup of a second number of a WABA this workspace already connected: the number joins the
account (registered, the app's subscription kept), a retry stays idempotent, a refusal leaves the account
as it was, and another workspace holding the WABA is still refused without being named.
"""

from __future__ import annotations

import pytest

from tenants.models import MetaRoute
from tests.waba import test_embedded_signup as signup_tests
from tests.waba import test_embedded_signup_console as console_tests
from tests.waba.conftest import PHONE_ID, SECOND_PHONE_ID, WABA_ID, wizard_run
from tests.waba.test_embedded_signup import PLATFORM_APP_ID, URL, completion, graph_calls, signup_window
from waba.models import PhoneNumber, WhatsAppAccount

platform_app = signup_tests.platform_app
_fresh_limiter = signup_tests._fresh_limiter
console_a = console_tests.console_a


@pytest.fixture
def connected(platform_app, api_a):
    """Alpha connected WABA_ID with PHONE_ID through Embedded Signup; returns the account's id."""
    response = api_a.post_json(URL, completion(signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")))
    assert response.status_code == 201, response.content
    return response.json()["account"]["id"]


def _platform_tokens(sim) -> list[str]:
    return [t["token"] for t in sim.state.snapshot()["tokens"] if t["app_id"] == PLATFORM_APP_ID]


def test_a_second_number_of_the_same_waba_joins_the_connected_account(
    platform_app, connected, api_a, tenant_a, in_tenant
):
    sim = platform_app
    signup = signup_window(sim, account=f"{WABA_ID}:{SECOND_PHONE_ID}")
    before = len(sim.requests())

    response = api_a.post_json(URL, completion(signup, pin="135790"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["phone_number_added"], body["templates"]) == (False, True, None)
    assert body["two_step_pin"] is None
    assert body["account"]["id"] == connected
    numbers = {n["phone_number_id"]: n for n in body["account"]["phone_numbers"]}
    assert set(numbers) == {PHONE_ID, SECOND_PHONE_ID}
    assert numbers[SECOND_PHONE_ID]["is_registered"] is True
    assert numbers[SECOND_PHONE_ID]["verified_name"] == "Alpha Two"
    assert graph_calls(sim, before) == [
        ("GET", "oauth", "access_token"),
        ("GET", "debug_token", None),
        ("GET", WABA_ID, None),
        ("GET", WABA_ID, "phone_numbers"),
        ("POST", SECOND_PHONE_ID, "register"),
        ("GET", SECOND_PHONE_ID, None),
    ]
    register = sim.requests(path_contains=f"{SECOND_PHONE_ID}/register")[-1]
    assert register["body"] == {"messaging_product": "whatsapp", "pin": "135790"}
    assert [s["app_id"] for s in sim.state.snapshot()["wabas"][0]["subscribed_apps"]] == [PLATFORM_APP_ID]
    assert set(MetaRoute.objects.filter(tenant=tenant_a).values_list("kind", "external_id")) == {
        (MetaRoute.Kind.WABA, WABA_ID),
        (MetaRoute.Kind.PHONE_NUMBER, PHONE_ID),
        (MetaRoute.Kind.PHONE_NUMBER, SECOND_PHONE_ID),
    }
    newest_token = _platform_tokens(sim)[-1]
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get()
        assert account.access_token.reveal() == newest_token
        assert account.status == WhatsAppAccount.Status.ACTIVE


def test_the_second_number_gets_a_pin_chosen_and_shown_once_when_none_is_sent(platform_app, connected, api_a):
    response = api_a.post_json(URL, completion(signup_window(platform_app, account=f"{WABA_ID}:{SECOND_PHONE_ID}")))

    assert response.status_code == 201, response.content
    pin = response.json()["two_step_pin"]
    register = platform_app.requests(path_contains=f"{SECOND_PHONE_ID}/register")[-1]
    assert register["body"] == {"messaging_product": "whatsapp", "pin": pin}


def test_a_retried_completion_of_the_second_number_asks_meta_nothing(platform_app, connected, api_a, tenant_a, in_tenant):
    sim = platform_app
    body = completion(signup_window(sim, account=f"{WABA_ID}:{SECOND_PHONE_ID}"))
    assert api_a.post_json(URL, body).status_code == 201
    calls = len(sim.requests())

    again = api_a.post_json(URL, body)

    assert again.status_code == 200, again.content
    assert (again.json()["created"], again.json()["phone_number_added"]) == (False, False)
    assert again.json()["account"]["id"] == connected
    assert len(sim.requests()) == calls
    with in_tenant(tenant_a):
        assert PhoneNumber.objects.filter(phone_number_id=SECOND_PHONE_ID).count() == 1


def test_a_refused_registration_leaves_the_account_and_its_subscription_as_they_were(
    platform_app, connected, api_a, tenant_a, in_tenant
):
    sim = platform_app
    sim.seed({"phone_numbers": [{"id": SECOND_PHONE_ID, "waba_id": WABA_ID, "display_phone_number": "+1 555-010-0003",
                                 "pin": "111111"}]})
    with in_tenant(tenant_a):
        token_before = WhatsAppAccount.objects.get().access_token.reveal()

    response = api_a.post_json(URL, completion(signup_window(sim, account=f"{WABA_ID}:{SECOND_PHONE_ID}"), pin="222222"))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "phone_number_registration_failed" and error["details"]["meta_code"] == 133005
    assert ("DELETE", WABA_ID, "subscribed_apps") not in graph_calls(sim)
    assert [s["app_id"] for s in sim.state.snapshot()["wabas"][0]["subscribed_apps"]] == [PLATFORM_APP_ID]
    assert not MetaRoute.objects.filter(external_id=SECOND_PHONE_ID).exists()
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get()
        assert list(account.phone_numbers.values_list("phone_number_id", flat=True)) == [PHONE_ID]
        assert account.access_token.reveal() == token_before


def test_another_workspace_cannot_add_a_number_of_the_waba_and_is_not_told_who_holds_it(
    platform_app, connected, api_b, tenant_a, tenant_b, in_tenant
):
    response = api_b.post_json(URL, completion(signup_window(platform_app, account=f"{WABA_ID}:{SECOND_PHONE_ID}")))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_claimed"
    text = response.content.decode().lower()
    assert tenant_a.slug not in text and tenant_a.name.lower() not in text
    assert not MetaRoute.objects.filter(external_id=SECOND_PHONE_ID).exists()
    with in_tenant(tenant_b):
        assert not WhatsAppAccount.objects.exists()


def test_a_waba_connected_with_the_workspaces_own_app_is_still_a_conflict(
    platform_app, api_a, step_data, tenant_a, in_tenant
):
    account_id, completed = wizard_run(api_a, step_data)
    assert completed.status_code == 200, completed.content

    response = api_a.post_json(URL, completion(signup_window(platform_app, account=f"{WABA_ID}:{SECOND_PHONE_ID}")))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "waba_exists"
    assert f"account {account_id}" in error["message"] and SECOND_PHONE_ID in error["message"]
    with in_tenant(tenant_a):
        assert not PhoneNumber.objects.filter(phone_number_id=SECOND_PHONE_ID).exists()


def test_the_console_says_the_number_was_added_and_shows_its_pin_once(platform_app, connected, console_a, tenant_a):
    signup = signup_window(platform_app, account=f"{WABA_ID}:{SECOND_PHONE_ID}")

    response = console_tests._post(console_a, completion(signup))

    assert response.status_code == 302 and response["Location"] == f"/app/accounts/{connected}/"
    page = console_a.get(response["Location"]).content.decode()
    pin = platform_app.state.phones[SECOND_PHONE_ID].pin
    assert "The number is added to Alpha Coffee and live." in page and f"PIN is {pin}" in page
    assert "already connected" not in page
