"""Connecting a second WhatsApp number through the six wizard pages, in Chromium, against the simulator."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

APP_ID, WABA_ID, BUSINESS_ID, PHONE_ID = "7700101", "7700201", "7700301", "7700401"
TOKEN, APP_SECRET = "EAAGbrowserwizard0123456789abcdef", "b7e1c0ffee5ecret0123456789abcdef"


def _seed_second_business(site) -> None:
    document = {
        "apps": [{"app_id": APP_ID, "app_secret": APP_SECRET, "name": "Bean & Leaf kiosk app",
                  "webhook_url": f"{site.url}/webhooks/whatsapp/{APP_ID}"}],
        "wabas": [{"id": WABA_ID, "name": "Bean & Leaf kiosk", "business_id": BUSINESS_ID, "app_id": APP_ID,
                   "phone_numbers": [{"id": PHONE_ID, "display_phone_number": "+1 555-010-0777",
                                      "verified_name": "Bean & Leaf kiosk", "quality_rating": "GREEN",
                                      "status": "CONNECTED", "messaging_limit_tier": "TIER_1K",
                                      "throughput": {"level": "STANDARD"}}]}],
        "tokens": [{"token": TOKEN, "app_id": APP_ID, "waba_ids": [WABA_ID], "valid": True, "expires_at": 0}],
    }
    httpx.post(f"{site.simulator_url}/_sim/seed", json=document, timeout=5).raise_for_status()


def _fill(browser, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def _save(browser, step: int) -> None:
    screenshot(browser, f"20-wizard-step-{step}")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def test_a_number_is_connected_through_the_wizard_pages(browser, site):
    _seed_second_business(site)
    log_in(browser, site, next_path="/app/setup/")
    _fill(browser, {"display_name": "Bean & Leaf kiosk"})
    browser.find_element(By.CSS_SELECTOR, "form.setup-start button[type=submit]").click()
    wait_for(browser, lambda d: "/step/1/" in d.current_url)

    # A mistake first: the WABA id must be digits; the page says so next to the field.
    _fill(browser, {"waba_id": "not-a-number", "business_account_id": BUSINESS_ID, "app_id": APP_ID,
                    "app_secret": APP_SECRET})
    _save(browser, 1)
    error = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".has-error .errorlist"))
    assert error.is_displayed() and error.text
    screenshot(browser, "21-wizard-field-error")
    _fill(browser, {"waba_id": WABA_ID, "app_secret": APP_SECRET})
    _save(browser, 1)
    wait_for(browser, lambda d: "/step/2/" in d.current_url, message="step 1 was not accepted")

    _fill(browser, {"phone_number_id": PHONE_ID, "phone_number": "+1 555 010 0777"})
    _save(browser, 2)
    wait_for(browser, lambda d: "/step/3/" in d.current_url, message="step 2 was not accepted")

    _fill(browser, {"access_token": TOKEN})
    _save(browser, 3)
    wait_for(browser, lambda d: "/step/4/" in d.current_url, message="step 3 was not accepted")
    browser.back()  # the saved token is never shown again
    wait_for(browser, lambda d: "/step/3/" in d.current_url)
    browser.refresh()
    assert browser.find_element(By.NAME, "access_token").get_attribute("value") == ""
    assert TOKEN not in browser.page_source
    browser.get(browser.current_url.replace("/step/3/", "/step/4/"))

    _fill(browser, {"profile_name": "Bean & Leaf kiosk"})
    _save(browser, 4)
    wait_for(browser, lambda d: "/step/5/" in d.current_url, message="step 4 was not accepted")
    _save(browser, 5)
    wait_for(browser, lambda d: "/step/6/" in d.current_url, message="step 5 was not accepted")
    progress = browser.find_element(By.CSS_SELECTOR, "progress")
    assert progress.get_attribute("value") == "5"
    _save(browser, 6)
    wait_for(browser, lambda d: "/finish/" in d.current_url, message="step 6 was not accepted")
    screenshot(browser, "22-wizard-finish")

    browser.find_element(By.XPATH, "//button[contains(., 'Go live')]").click()
    callback = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"[value$='/webhooks/whatsapp/{APP_ID}'], code"))
    assert f"/webhooks/whatsapp/{APP_ID}" in browser.page_source
    assert browser.find_elements(By.CSS_SELECTOR, "button[data-copy]")
    screenshot(browser, "23-wizard-live")
    assert callback is not None

    subscribed = httpx.get(f"{site.simulator_url}/_sim/requests", params={"path_contains": f"{WABA_ID}/subscribed_apps",
                                                                           "method": "POST"}, timeout=5).json()
    assert subscribed["count"] >= 1
