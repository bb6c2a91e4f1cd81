""""Connect with Facebook" on the console's setup page: the button, the post the page makes once
Facebook's window (here the simulator's stand-in) answered, roles, CSRF and the outsider.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from team.models import Membership
from team.roles import Role
from tests.conftest import host_of
from tests.console.conftest import console_client, owner_make
from tests.console.test_auth import _csrf
from tests.waba.conftest import PHONE_ID, WABA_ID
from tests.waba.test_embedded_signup import PLATFORM_APP_ID, PLATFORM_APP_SECRET, completion, signup_window
from waba.models import WhatsAppAccount


@pytest.fixture
def platform_app(sim, settings):
    """The platform's own Meta app, known to the simulator and configured in the settings."""
    sim.seed({"apps": [{"app_id": PLATFORM_APP_ID, "app_secret": PLATFORM_APP_SECRET, "name": "Platform"}]})
    settings.META_APP_ID = PLATFORM_APP_ID
    settings.META_APP_SECRET = PLATFORM_APP_SECRET
    return sim


@pytest.fixture
def console_a(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        user = owner_make(User.objects.create_user("ana", password="correct horse battery staple"))
        return console_client(host_of(tenant_a), user)


@pytest.fixture
def console_b(tenant_b, in_tenant):
    with in_tenant(tenant_b):
        user = owner_make(User.objects.create_user("bruno", password="correct horse battery staple"))
        return console_client(host_of(tenant_b), user)


def _post(client, data: dict):
    return client.post("/app/setup/embedded-signup/", {**data, "csrfmiddlewaretoken": _csrf(client, "/app/setup/")})


def test_the_setup_page_offers_connect_with_facebook_next_to_the_manual_path(platform_app, console_a, settings):
    settings.EMBEDDED_SIGNUP_POPUP = "simulator"
    settings.META_EMBEDDED_SIGNUP_CONFIG_ID = "4242"

    page = console_a.get("/app/setup/")

    body = page.content.decode()
    assert page.status_code == 200
    assert page["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"
    button = re.search(r'<button type="button" class="button button-facebook" id="connect-facebook"(.*?)>', body, re.S)
    assert button, body
    attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', button.group(1)))
    assert attributes == {
        "mode": "simulator",
        "app-id": PLATFORM_APP_ID,
        "config-id": "4242",
        "graph-version": settings.GRAPH_API_VERSION,
        "dialog-url": f"{platform_app.base_url}/_signup/dialog",
    }
    assert "console/embedded_signup.js" in body
    assert "Set up by hand" in body and 'action="/app/setup/start/"' in body


def test_without_the_platform_app_the_button_is_disabled_and_says_why(sim, console_a, settings):
    settings.META_APP_ID = ""

    body = console_a.get("/app/setup/").content.decode()

    assert 'id="connect-facebook"' not in body and "embedded_signup.js" not in body
    assert "use the manual setup" in body


def test_posting_what_the_window_answered_connects_the_account_and_shows_the_pin_once(
    platform_app, console_a, tenant_a, in_tenant
):
    signup = signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")

    response = _post(console_a, completion(signup))

    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/app/accounts/{account.pk}/"
    assert account.status == "active" and account.phone_numbers.get().phone_number_id == PHONE_ID
    page = console_a.get(response["Location"]).content.decode()
    pin = platform_app.state.phones[PHONE_ID].pin
    assert "Alpha Coffee is connected and live." in page and f"PIN is {pin}" in page
    assert f"PIN is {pin}" not in console_a.get(response["Location"]).content.decode()


def test_a_refused_code_comes_back_to_the_setup_page_with_what_to_do(platform_app, console_a, tenant_a, in_tenant):
    response = _post(console_a, {"code": "AQnot-a-code", "waba_id": WABA_ID, "phone_number_id": PHONE_ID})

    assert response.status_code == 302 and response["Location"] == "/app/setup/"
    page = console_a.get("/app/setup/").content.decode()
    assert "Meta does not accept this sign-in code" in page and "Connect with Facebook" in page
    with in_tenant(tenant_a):
        assert not WhatsAppAccount.objects.exists()


def test_the_post_needs_the_csrf_token(platform_app, console_a):
    response = console_a.post("/app/setup/embedded-signup/", {"code": "x", "waba_id": WABA_ID, "phone_number_id": PHONE_ID})

    assert response.status_code == 403
    assert platform_app.requests() == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_roles_that_may_not_change_the_setup_are_refused(platform_app, console_a, tenant_a, in_tenant, role):
    token = _csrf(console_a, "/app/setup/")
    with in_tenant(tenant_a):
        Membership.objects.filter(user__username="ana").update(role=role)
    signup = signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")

    response = console_a.post("/app/setup/embedded-signup/", {**completion(signup), "csrfmiddlewaretoken": token})

    assert response.status_code == 403
    assert not [r for r in platform_app.requests() if r["object_id"] == "oauth"]
    with in_tenant(tenant_a):
        assert not WhatsAppAccount.objects.exists()


def test_another_workspace_cannot_complete_into_or_see_the_connected_account(
    platform_app, console_a, console_b, tenant_a, tenant_b, in_tenant
):
    body = completion(signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}"))
    connected = _post(console_a, body)
    account_path = connected["Location"]

    stolen = _post(console_b, completion(signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")))

    assert stolen.status_code == 302 and stolen["Location"] == "/app/setup/"
    assert "already connected to another workspace" in console_b.get("/app/setup/").content.decode()
    assert console_b.get(account_path).status_code == 404
    with in_tenant(tenant_b):
        assert not WhatsAppAccount.objects.exists()
    anonymous = console_client(host_of(tenant_a)).post("/app/setup/embedded-signup/", body)
    assert anonymous.status_code in (302, 403)


def test_the_webhook_settings_page_of_a_connected_account_has_nothing_to_paste(platform_app, console_a, tenant_a, in_tenant):
    account_path = _post(console_a, completion(signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")))["Location"]
    account_id = account_path.rstrip("/").rsplit("/", 1)[1]

    page = console_a.get(f"/app/setup/{account_id}/finish/").content.decode()

    assert "Connected with Facebook" in page and "nothing to set up in Meta's App Dashboard" in page
    assert 'id="webhook-verify-token"' not in page and "Check with Meta again" not in page


def test_with_real_meta_the_page_loads_facebooks_sdk_and_asks_for_a_code_with_the_configuration(
    platform_app, console_a, settings
):
    from django.contrib.staticfiles import finders

    settings.EMBEDDED_SIGNUP_POPUP = "facebook"
    settings.META_EMBEDDED_SIGNUP_CONFIG_ID = "4242"

    body = console_a.get("/app/setup/").content.decode()

    assert 'data-mode="facebook"' in body and 'data-config-id="4242"' in body
    assert "Graph API simulator plays" not in body
    script = Path(finders.find("console/embedded_signup.js")).read_text()
    assert "https://connect.facebook.net/en_US/sdk.js" in script
    for option in ('config_id: button.dataset.configId', 'response_type: "code"', "override_default_response_type: true",
                   'version: "v4"'):
        assert option in script
    assert '["https://www.facebook.com", "https://web.facebook.com"]' in script
