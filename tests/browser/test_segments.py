"""Segments in Chromium: the builder's count follows the conditions live (htmx), the saved segment
lists its contacts, and the builder fits a phone's width."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TAG = "segment-browser"


def _seed(site) -> None:
    from messaging.models import Contact

    with schema_context(site.tenant.schema_name):
        Contact.objects.create(wa_id="4915177700001", profile_name="Ida Segment", tags=[TAG])
        Contact.objects.create(wa_id="4915177700002", profile_name="Jon Segment", tags=[TAG], blocked=True)


def _clean(site) -> None:
    from contacts.models import Segment
    from messaging.models import Contact

    with schema_context(site.tenant.schema_name):
        Segment.objects.filter(name="Browser VIPs").delete()
        Contact.objects.filter(wa_id__in=["4915177700001", "4915177700002"]).delete()


def _preview_count(driver) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, "#segment-preview [data-preview-count]")
    return found[0].text if found else ""


def test_builder_counts_live_and_the_segment_lists_its_contacts(browser, site):
    committed(_seed, site)
    try:
        log_in(browser, site, next_path="/app/contacts/segments/")
        browser.get(site.tenant_url("/app/contacts/segments/new/"))
        browser.find_element(By.ID, "segment-name").send_keys("Browser VIPs")
        Select(browser.find_element(By.ID, "c-0-rule")).select_by_value("tags:has_any")
        browser.find_element(By.ID, "c-0-value").send_keys(TAG)
        wait_for(browser, lambda d: _preview_count(d) == "2", message="the live count did not show 2")
        assert "Ida Segment" in browser.find_element(By.ID, "segment-preview").text
        screenshot(browser, "70-segments-builder-count")

        # A second condition, added with a plain form post, narrows the count.
        browser.find_element(By.CSS_SELECTOR, "button[name=add]").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "c-1-rule"))
        Select(browser.find_element(By.ID, "c-1-rule")).select_by_value("blocked:not_blocked")
        wait_for(browser, lambda d: _preview_count(d) == "1", message="the live count did not drop to 1")
        screenshot(browser, "71-segments-builder-two-conditions")

        browser.set_window_size(390, 844)
        assert_fits_the_width(browser)
        screenshot(browser, "72-segments-builder-phone")
        browser.set_window_size(1280, 900)

        browser.find_element(By.CSS_SELECTOR, "#segment-form button.button:not([name])").click()
        wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Browser VIPs")
        table = browser.find_element(By.CSS_SELECTOR, ".contacts-table").text
        assert "Ida Segment" in table and "Jon Segment" not in table
        assert browser.find_element(By.LINK_TEXT, "Export CSV")
        screenshot(browser, "73-segments-detail")

        browser.get(site.tenant_url("/app/contacts/segments/"))
        assert "Browser VIPs" in browser.find_element(By.CSS_SELECTOR, ".table").text
        screenshot(browser, "74-segments-list")
    finally:
        committed(_clean, site)
