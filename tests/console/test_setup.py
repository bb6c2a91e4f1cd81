"""The setup wizard's pages, driven like a browser against the Graph API simulator: each step's form,
the progress, the services' per-field errors, masked secrets, going live and the webhook settings.
"""

from __future__ import annotations

import copy
import re

import pytest

from tenants.models import MetaApp, MetaRoute
from tests.conftest import host_of
from tests.console.test_auth import _csrf
from tests.factories import AccountFactory
from tests.waba.conftest import (
    APP_ID,
    APP_SECRET,
    DEAD_TOKEN,
    PHONE_ID,
    SEED,
    STEP_DATA,
    STEP_KEYS,
    TOKEN,
    VERIFY_TOKEN,
    WABA_ID,
)
from waba.models import WhatsAppAccount


@pytest.fixture
def sim(graph_simulator):
    """The simulator seeded as the waba wizard tests seed it (our WABA, its numbers, the tokens)."""
    graph_simulator.seed(copy.deepcopy(SEED))
    return graph_simulator


def _form(step_key: str) -> dict:
    """A step's inputs as the browser posts them (checkbox on, lists as repeated keys)."""
    data: dict = copy.deepcopy(STEP_DATA[step_key])  # type: ignore[arg-type]
    if data.get("auto_reply_enabled") is True:
        data["auto_reply_enabled"] = "on"
    return data


def _start(client) -> int:
    token = _csrf(client, "/app/setup/")
    response = client.post(
        "/app/setup/start/", {"display_name": "Alpha Coffee", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    found = re.search(r"/app/setup/(\d+)/step/1/", response.url)
    assert found is not None
    return int(found.group(1))


def _save(client, account_id: int, number: int, data: dict):
    path = f"/app/setup/{account_id}/step/{number}/"
    return client.post(path, {**data, "csrfmiddlewaretoken": _csrf(client, path)})


def _graph_calls(sim) -> list[tuple[str, str | None, str | None]]:
    return [(r["method"], r["object_id"], r["edge"]) for r in sim.requests()]


def _field_errors(page: str, name: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="id_{name}_errors">(.*?)</ul>', page, re.S)
    return found.group(1) if found else ""


def _foreign_account_id(tenant_a, tenant_b, in_tenant) -> int:
    """An account of beta whose id alpha does not have."""
    with in_tenant(tenant_a):
        taken = set(WhatsAppAccount.objects.values_list("pk", flat=True))
    with in_tenant(tenant_b):
        while True:
            account = AccountFactory.create(status=WhatsAppAccount.Status.DRAFT)
            if account.pk not in taken:
                return account.pk


def test_the_setup_page_offers_to_start_and_lists_nothing_yet(console_a):
    page = console_a.get("/app/setup/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Connect a WhatsApp number" in body
    assert "No setup in progress." in body
    assert 'aria-current="page"' in body and ">Connect a number</a>" in body


def test_starting_makes_a_draft_and_opens_step_one(console_a, tenant_a, in_tenant):
    account_id = _start(console_a)
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=account_id)
        assert account.status == "draft" and account.display_name == "Alpha Coffee"
    page = console_a.get(f"/app/setup/{account_id}/step/1/").content.decode()
    assert "Step 1 of 6: Meta business account" in page
    assert "0 of 6 steps done" in page
    assert '<label for="id_waba_id">' in page


def test_the_whole_wizard_through_the_pages_goes_live_against_the_simulator(
    sim, console_a, tenant_a, in_tenant
):
    account_id = _start(console_a)

    for number, key in enumerate(STEP_KEYS, start=1):
        response = _save(console_a, account_id, number, _form(key))
        assert response.status_code == 302, response.content.decode()
        expected_next = (
            f"/app/setup/{account_id}/step/{number + 1}/"
            if number < 6
            else f"/app/setup/{account_id}/finish/"
        )
        assert response.url == expected_next
        page = console_a.get(response.url).content.decode()
        assert f"{number} of 6 steps done" in page
        assert f"Step {number} (" in page  # the flash message of the saved step

    # Steps 2 and 3 asked Meta: the token's facts, then the WABA's numbers.
    assert ("GET", "debug_token", None) in _graph_calls(sim)
    assert ("GET", WABA_ID, "phone_numbers") in _graph_calls(sim)

    finish = console_a.get(f"/app/setup/{account_id}/finish/").content.decode()
    assert "Review and go live" in finish and "Go live" in finish
    sim.simulator.requests.clear()

    response = console_a.post(
        f"/app/setup/{account_id}/finish/",
        {"csrfmiddlewaretoken": _csrf(console_a, f"/app/setup/{account_id}/finish/")},
    )

    assert response.status_code == 302 and response.url == f"/app/setup/{account_id}/finish/"
    assert ("POST", WABA_ID, "subscribed_apps") in _graph_calls(sim)
    page = console_a.get(response.url).content.decode()
    assert "Alpha Coffee is live." in page
    callback_url = f"http://localhost:8000/webhooks/whatsapp/{APP_ID}"
    assert f'id="webhook-callback-url" value="{callback_url}"' in page
    assert f'id="webhook-verify-token" value="{VERIFY_TOKEN}"' in page
    assert (
        '<button type="button" class="button secondary small" data-copy="webhook-callback-url">Copy</button>'
        in page
    )
    assert 'data-copy="webhook-verify-token"' in page
    assert "WhatsApp &gt; Configuration" in page and "Verify and save" in page
    assert "<code>messages</code>" in page and "<code>message_template_status_update</code>" in page
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=account_id)
        assert account.status == "active" and account.setup_completed_steps == [1, 2, 3, 4, 5, 6]
    assert set(MetaRoute.objects.filter(tenant=tenant_a).values_list("external_id", flat=True)) == {
        WABA_ID,
        PHONE_ID,
    }
    assert MetaApp.objects.get(app_id=APP_ID).tenant_id == tenant_a.id


def test_saved_secrets_are_masked_and_an_empty_field_keeps_them(sim, console_a, tenant_a, in_tenant):
    account_id = _start(console_a)
    _save(console_a, account_id, 1, _form("business_account"))
    _save(console_a, account_id, 3, _form("access_tokens"))

    step_1 = console_a.get(f"/app/setup/{account_id}/step/1/").content.decode()
    step_3 = console_a.get(f"/app/setup/{account_id}/step/3/").content.decode()

    assert APP_SECRET not in step_1 and f"•••• {APP_SECRET[-4:]}" in step_1
    assert 'name="app_secret"' in step_1 and 'type="password"' in step_1
    assert TOKEN not in step_3 and f"•••• {TOKEN[-4:]}" in step_3
    assert VERIFY_TOKEN not in step_3 and f"•••• {VERIFY_TOKEN[-4:]}" in step_3
    assert f'value="{WABA_ID}"' in step_1  # what is not secret comes back to edit

    renamed = {**_form("business_account"), "display_name": "Alpha Roasters", "app_secret": ""}
    assert _save(console_a, account_id, 1, renamed).status_code == 302
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.get(pk=account_id)
        assert account.display_name == "Alpha Roasters"
        assert account.app_secret.reveal() == APP_SECRET


def test_the_services_errors_appear_next_to_their_fields_and_nothing_is_saved(console_a, tenant_a, in_tenant):
    account_id = _start(console_a)
    bad = {**_form("business_account"), "waba_id": "not-a-number", "app_secret": ""}

    response = _save(console_a, account_id, 1, bad)

    assert response.status_code == 422
    page = response.content.decode()
    assert _field_errors(page, "waba_id")
    assert _field_errors(page, "app_secret") == "<li>This field is required.</li>"
    assert not _field_errors(page, "display_name")
    assert 'value="not-a-number"' in page  # the input stays to be corrected
    assert 'aria-invalid="true"' in page
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.get(pk=account_id).setup_completed_steps == []


def test_cross_field_rules_name_their_fields(console_a):
    account_id = _start(console_a)
    bot = {**_form("bot_configuration"), "business_hours_end": "", "fallback_message": ""}
    page = _save(console_a, account_id, 5, bot).content.decode()
    assert "Give both business hours or neither." in _field_errors(page, "business_hours_end")
    assert "Required when auto-reply is on." in _field_errors(page, "fallback_message")

    webhook = _save(console_a, account_id, 6, {"subscribed_fields": ["account_update"]}).content.decode()
    assert "Must include &#x27;messages&#x27;" in webhook


def test_a_token_meta_refuses_is_shown_at_its_field_without_echoing_it(sim, console_a, tenant_a, in_tenant):
    account_id = _start(console_a)
    _save(console_a, account_id, 1, _form("business_account"))

    response = _save(console_a, account_id, 3, {"access_token": DEAD_TOKEN, "webhook_verify_token": ""})

    assert response.status_code == 422
    page = response.content.decode()
    assert DEAD_TOKEN not in page
    assert "invalidated" in _field_errors(page, "access_token")
    assert ("GET", "debug_token", None) in _graph_calls(sim)
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.get(pk=account_id).access_token is None


def test_setup_resumes_at_the_first_step_not_saved(sim, console_a):
    account_id = _start(console_a)
    _save(console_a, account_id, 1, _form("business_account"))
    _save(console_a, account_id, 2, _form("phone_number"))

    listing = console_a.get("/app/setup/").content.decode()
    assert "2 of 6 steps" in listing and "Next: step 3, Access tokens." in listing
    assert f'href="/app/setup/{account_id}/"' in listing

    response = console_a.get(f"/app/setup/{account_id}/")
    assert response.status_code == 302 and response.url == f"/app/setup/{account_id}/step/3/"


def test_going_live_too_early_lists_the_unfinished_steps(console_a):
    account_id = _start(console_a)
    _save(console_a, account_id, 5, {})  # bot configuration has no required field

    path = f"/app/setup/{account_id}/finish/"
    response = console_a.post(path, {"csrfmiddlewaretoken": _csrf(console_a, path)})

    assert response.status_code == 422
    page = response.content.decode()
    assert "Save every step before completing" in page
    assert (
        f'<a href="/app/setup/{account_id}/step/1/">Step 1</a>: missing waba_id, business_account_id, app_id, app_secret'
        in page
    )
    assert "webhook-verify-token" not in page


def test_an_unknown_step_is_404(console_a):
    account_id = _start(console_a)
    assert console_a.get(f"/app/setup/{account_id}/step/7/").status_code == 404


def test_another_tenants_account_is_404_on_every_setup_page(console_a, tenant_a, tenant_b, in_tenant):
    foreign = _foreign_account_id(tenant_a, tenant_b, in_tenant)
    token = _csrf(console_a, "/app/setup/")
    assert console_a.get(f"/app/setup/{foreign}/").status_code == 404
    assert console_a.get(f"/app/setup/{foreign}/step/1/").status_code == 404
    assert (
        console_a.post(
            f"/app/setup/{foreign}/step/4/", {"profile_name": "x", "csrfmiddlewaretoken": token}
        ).status_code
        == 404
    )
    assert console_a.get(f"/app/setup/{foreign}/finish/").status_code == 404
    assert console_a.post(f"/app/setup/{foreign}/finish/", {"csrfmiddlewaretoken": token}).status_code == 404
    with in_tenant(tenant_b):
        assert WhatsAppAccount.objects.get(pk=foreign).profile_name == ""


def test_another_tenants_session_is_sent_to_the_login_page(console_b, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account_id = AccountFactory.create(status=WhatsAppAccount.Status.DRAFT).pk
    alpha = host_of(tenant_a)
    for path in (
        "/app/setup/",
        f"/app/setup/{account_id}/",
        f"/app/setup/{account_id}/step/1/",
        f"/app/setup/{account_id}/finish/",
    ):
        response = console_b.get(path, HTTP_HOST=alpha)
        assert response.status_code == 302 and response.url.startswith("/app/login/"), path
    login = console_b.get("/app/login/", HTTP_HOST=alpha).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    response = console_b.post(
        f"/app/setup/{account_id}/finish/", {"csrfmiddlewaretoken": token}, HTTP_HOST=alpha
    )
    assert response.status_code == 302 and response.url.startswith("/app/login/")
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.get(pk=account_id).status == "draft"
