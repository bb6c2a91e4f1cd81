"""Creating a scoped API key in Chromium: reached from the user menu, shown once, then listed by prefix."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_read_only_key_is_created_from_the_user_menu(browser, site):
    log_in(browser, site)
    browser.find_element(By.CSS_SELECTOR, ".usermenu summary").click()
    browser.find_element(By.LINK_TEXT, "API keys").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/api-keys/"))

    browser.find_element(By.NAME, "name").send_keys("analytics tool")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    shown = wait_for(browser, lambda d: d.find_element(By.ID, "new-key")).get_attribute("value")
    assert shown.startswith("wak_")
    screenshot(browser, "50-api-key-created")

    browser.find_element(By.LINK_TEXT, "Back to the API keys").click()
    page = wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "main")).text
    assert "analytics tool" in page and shown not in browser.page_source and shown[:12] in page
    screenshot(browser, "51-api-keys")
    browser.set_window_size(390, 844)
    browser.refresh()
    assert_fits_the_width(browser)
