"""A Flow's data-exchange form in Chromium: forward to the tenant's URL (secret shown once), then
static answers, and the page at phone width."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for
from tests.flows_builder.test_endpoint import ENDPOINT_FLOW_JSON

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

FLOW_NAME = "browser_booking"


def _seed(site) -> tuple[int, int]:
    from flows_builder.models import WhatsAppFlow
    from waba.models import PhoneNumber

    with schema_context(site.tenant.schema_name):
        phone = PhoneNumber.objects.select_related("account").get(phone_number_id=site.phone_number_id)
        flow = WhatsAppFlow.objects.create(
            account=phone.account,
            name=FLOW_NAME,
            friendly_name="Table booking",
            flow_json=ENDPOINT_FLOW_JSON,
            endpoint_enabled=True,
            endpoint_phone_number=phone,
        )
        return phone.account_id, flow.pk


def _clean(site) -> None:
    from flows_builder.models import WhatsAppFlow

    with schema_context(site.tenant.schema_name):
        WhatsAppFlow.objects.filter(name=FLOW_NAME).delete()


def test_a_flow_is_forwarded_then_answered_statically(browser, site, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_ENDPOINTS = True
    account_id, flow_id = committed(_seed, site)
    try:
        log_in(browser, site, next_path=f"/app/accounts/{account_id}/")
        wait_for(browser, lambda d: "Table booking" in d.page_source)
        browser.find_element(By.PARTIAL_LINK_TEXT, "Data exchange").click()
        wait_for(browser, lambda d: "Nothing answers this flow" in d.page_source)
        screenshot(browser, "55-flow-exchange-empty")

        browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=forward]").click()
        browser.find_element(By.ID, "id_url").send_keys("https://flows.example.com/booking")
        browser.find_element(By.CSS_SELECTOR, "form.endpoint-form button[type=submit]").click()
        secret = wait_for(browser, lambda d: d.find_element(By.ID, "secret").get_attribute("value"))
        assert secret.startswith("whsec_") and "shown only once" in browser.page_source
        screenshot(browser, "56-flow-exchange-secret-once")

        browser.get(site.tenant_url(f"/app/accounts/{account_id}/flows/{flow_id}/data-exchange/"))
        assert secret not in browser.page_source
        browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=static]").click()
        area = browser.find_element(By.ID, "id_static_screens")
        area.clear()
        area.send_keys(json.dumps({"INIT": {"screen": "PICK_DATE", "data": {"dates": []}}}))
        browser.find_element(By.CSS_SELECTOR, "form.endpoint-form button[type=submit]").click()
        wait_for(browser, lambda d: "data exchange saved" in d.page_source)
        assert "static answers" in browser.find_element(By.TAG_NAME, "main").text
        screenshot(browser, "57-flow-exchange-static")

        browser.set_window_size(390, 844)
        browser.refresh()
        assert_fits_the_width(browser)
        screenshot(browser, "58-flow-exchange-phone")
    finally:
        committed(_clean, site)
