"""The integrations pages in Chromium: add an endpoint (its secret shown once), send a test event
that reaches a local receiver signed, see it in the delivery log, and use the pages at phone width."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from selenium.webdriver.common.by import By

from integrations.worker import deliveries_run_once
from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for
from tests.integrations.conftest import allow_private, receiver  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _signature_valid(secret: str, headers: dict[str, str], body: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in headers["webhook-signature"].split(" ")


def test_an_endpoint_is_added_tested_and_its_delivery_logged(browser, site, receiver):  # noqa: F811
    log_in(browser, site, next_path="/app/integrations/")
    wait_for(browser, lambda d: "Integrations" in d.find_element(By.TAG_NAME, "h1").text)
    screenshot(browser, "40-integrations-empty")

    browser.find_element(By.LINK_TEXT, "Add an endpoint").click()
    browser.find_element(By.ID, "id_url").send_keys(receiver.url)
    browser.find_element(By.ID, "id_description").send_keys("Order system")
    for value in ("order.created", "support_ticket.created"):
        browser.find_element(By.CSS_SELECTOR, f"input[name=event_types][value='{value}']").click()
    screenshot(browser, "41-integrations-form")
    browser.find_element(By.CSS_SELECTOR, "form.endpoint-form button[type=submit]").click()

    secret = wait_for(browser, lambda d: d.find_element(By.ID, "secret").get_attribute("value"))
    assert secret.startswith("whsec_")
    assert "shown only once" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "42-integrations-secret-once")

    browser.find_element(By.PARTIAL_LINK_TEXT, "go to the endpoint").click()
    wait_for(browser, lambda d: "Send test event" in d.page_source)
    assert secret not in browser.page_source
    browser.find_element(By.XPATH, "//button[normalize-space()='Send test event']").click()
    wait_for(browser, lambda d: "A test event (ping) is queued" in d.page_source)

    assert committed(deliveries_run_once) == 1
    [request] = receiver.requests
    assert request.json["type"] == "ping"
    assert _signature_valid(secret, request.headers, request.body)

    browser.refresh()
    row = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table tbody tr"))
    assert "ping" in row.text and "Succeeded" in row.text and "200" in row.text
    screenshot(browser, "43-integrations-delivery-log")

    browser.set_window_size(390, 844)
    browser.refresh()
    assert_fits_the_width(browser)
    screenshot(browser, "44-integrations-endpoint-phone")
    browser.find_element(By.CSS_SELECTOR, "table tbody tr a").click()
    wait_for(browser, lambda d: "Request body" in d.page_source)
    assert request.json["id"] in browser.find_element(By.CSS_SELECTOR, "pre.payload").text
    assert_fits_the_width(browser)
    screenshot(browser, "45-integrations-delivery-phone")
    browser.get(site.tenant_url("/app/integrations/"))
    assert_fits_the_width(browser)
    screenshot(browser, "46-integrations-list-phone")
