"""The audit log in Chromium: a change made in the console shows on the Audit log page (who, what,
the changed fields, the secret masked), the filters narrow it, and the page fits a phone's width."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import USERNAME, assert_fits_the_width, log_in, screenshot, wait_for
from tests.integrations.conftest import allow_private  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_console_change_is_listed_with_its_diff_and_filtered(browser, site, allow_private):  # noqa: F811
    log_in(browser, site, next_path="/app/integrations/new/")
    browser.find_element(By.ID, "id_url").send_keys("http://127.0.0.1:9/audit-demo")
    browser.find_element(By.ID, "id_description").send_keys("Audit demo")
    browser.find_element(By.CSS_SELECTOR, "input[name=event_types][value='order.created']").click()
    browser.find_element(By.CSS_SELECTOR, "form.endpoint-form button[type=submit]").click()
    secret = wait_for(browser, lambda d: d.find_element(By.ID, "secret").get_attribute("value"))

    browser.find_element(By.LINK_TEXT, "Audit log").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/audit/"))
    row = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table.audit-table tbody tr"))
    assert USERNAME in row.text and "Created" in row.text and "integrations.endpoint" in row.text
    assert "http://127.0.0.1:9/audit-demo" in row.text and "[masked]" in row.text
    assert secret not in browser.page_source
    screenshot(browser, "90-audit-log")

    Select(browser.find_element(By.ID, "id_action")).select_by_value("delete")
    browser.find_element(By.CSS_SELECTOR, "form.audit-filters button[type=submit]").click()
    wait_for(browser, lambda d: "No recorded change matches" in d.page_source)
    Select(browser.find_element(By.ID, "id_action")).select_by_value("create")
    browser.find_element(By.CSS_SELECTOR, "form.audit-filters button[type=submit]").click()
    wait_for(browser, lambda d: "audit-demo" in d.page_source)
    screenshot(browser, "91-audit-log-filtered")

    browser.set_window_size(390, 844)
    browser.refresh()
    assert_fits_the_width(browser)
    screenshot(browser, "92-audit-log-phone")
    browser.set_window_size(1280, 900)
