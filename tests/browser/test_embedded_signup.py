""""Connect with Facebook" in Chromium: the setup page opens the simulator's stand-in for Facebook's
window, the business creates a WABA and number there, and the console shows the connected account."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, log_in, screenshot, wait_for
from waba.models import WhatsAppAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PLATFORM_APP_ID, PLATFORM_APP_SECRET = "7700901", "platform-browser-secret-0901"
SHOTS = Path("/tmp/shots")


def _shot(browser, name: str) -> None:
    screenshot(browser, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


@pytest.fixture
def platform_app(site, settings):
    httpx.post(
        f"{site.simulator_url}/_sim/seed",
        json={"apps": [{"app_id": PLATFORM_APP_ID, "app_secret": PLATFORM_APP_SECRET, "name": "Bean & Leaf Platform",
                        "webhook_url": f"{site.url}/webhooks/whatsapp/{PLATFORM_APP_ID}"}]},
        timeout=5,
    ).raise_for_status()
    settings.META_APP_ID = PLATFORM_APP_ID
    settings.META_APP_SECRET = PLATFORM_APP_SECRET
    settings.META_VERIFY_TOKEN = "platform-browser-verify-0901"
    settings.EMBEDDED_SIGNUP_POPUP = "simulator"
    settings.EMBEDDED_SIGNUP_SIMULATOR_URL = site.simulator_url
    settings.META_EMBEDDED_SIGNUP_CONFIG_ID = "880001"


def test_connect_with_facebook_creates_a_live_account_from_the_stand_in_window(browser, site, platform_app):
    log_in(browser, site, next_path="/app/setup/")
    button = wait_for(browser, lambda d: d.find_element(By.ID, "connect-facebook"))
    assert button.text == "Connect with Facebook"
    assert browser.find_element(By.ID, "start-heading").text == "Set up by hand"
    _shot(browser, "signup_1_setup_page")
    setup_window = browser.current_window_handle

    button.click()
    wait_for(browser, lambda d: len(d.window_handles) == 2, message="the signup window did not open")
    popup = next(handle for handle in browser.window_handles if handle != setup_window)
    browser.switch_to.window(popup)
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "input[value=new]"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Connect WhatsApp to Bean & Leaf Platform"
    browser.find_element(By.CSS_SELECTOR, "input[value=new]").click()
    browser.find_element(By.NAME, "business_name").send_keys("Bean & Leaf Roastery")
    browser.find_element(By.NAME, "display_phone_number").send_keys("+1 555 010 0888")
    _shot(browser, "signup_2_facebook_window")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()

    wait_for(browser, lambda d: len(d.window_handles) == 1, message="the signup window did not close")
    browser.switch_to.window(setup_window)
    wait_for(browser, lambda d: "/app/accounts/" in d.current_url, timeout=20, message="the account page did not open")
    flash = browser.find_element(By.CSS_SELECTOR, ".flash-success").text
    assert "Bean & Leaf Roastery is connected and live." in flash and "two-step verification PIN" in flash
    assert "+1 555 010 0888" in browser.page_source or "+1 555-010-0888" in browser.page_source
    _shot(browser, "signup_3_connected_account")

    account_id = int(browser.current_url.rstrip("/").rsplit("/", 1)[1])
    from django_tenants.utils import schema_context

    with schema_context(site.tenant.schema_name):
        account = WhatsAppAccount.objects.get(pk=account_id)
        assert account.status == "active" and account.app_id == PLATFORM_APP_ID
        phone = account.phone_numbers.get()
        assert phone.is_registered and phone.status == "CONNECTED"

    browser.get(site.tenant_url("/app/setup/"))
    connected = wait_for(browser, lambda d: d.find_element(By.ID, "connected-heading"))
    assert connected.is_displayed()
    assert "Bean & Leaf Roastery" in browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=connected-heading]").text
    _shot(browser, "signup_4_setup_page_after")

    browser.set_window_size(390, 844)
    browser.refresh()
    wait_for(browser, lambda d: d.find_element(By.ID, "connect-facebook").is_displayed())
    assert_fits_the_width(browser)
    _shot(browser, "signup_5_setup_page_phone")
