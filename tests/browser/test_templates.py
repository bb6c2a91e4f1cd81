"""The template editor in Chromium: the phone preview follows the typing, a rule error shows next to
its field, a template goes to Meta (the simulator) for review; the pages fit a phone's width."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import assert_fits_the_width, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_write_a_template_with_a_live_preview_and_send_it_for_review(browser, site):
    log_in(browser, site, next_path="/app/templates/")
    wait_for(browser, lambda d: "Starter templates" in d.page_source)
    screenshot(browser, "40-templates-list")

    browser.get(site.tenant_url("/app/templates/new/"))
    browser.find_element(By.ID, "id_name").send_keys("table_ready")
    browser.find_element(By.ID, "id_body_text").send_keys("Hi {{1}}, your table for {{2}} is ready")
    browser.find_element(By.ID, "id_body_samples").send_keys("Greta\nfour")
    wait_for(
        browser,
        lambda d: "Hi Greta, your table for four is ready" in d.find_element(By.ID, "template-preview").text,
        message="the phone preview did not follow the typing",
    )
    screenshot(browser, "41-template-editor-preview")

    # A rule Meta would refuse: the error appears next to the footer, nothing is sent.
    browser.find_element(By.ID, "id_footer_text").send_keys("Thanks {{1}}")
    browser.find_element(By.CSS_SELECTOR, "button[value=submit]").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "id_footer_text_errors"))
    assert "A footer cannot hold variables." in browser.find_element(By.ID, "id_footer_text_errors").text
    screenshot(browser, "42-template-editor-error")

    footer = browser.find_element(By.ID, "id_footer_text")
    footer.clear()
    footer.send_keys("Alpha Coffee")
    Select(browser.find_element(By.ID, "id_button_0_type")).select_by_value("QUICK_REPLY")
    browser.find_element(By.ID, "id_button_0_text").send_keys("On my way")
    browser.find_element(By.CSS_SELECTOR, "button[value=submit]").click()
    wait_for(
        browser,
        lambda d: "sent to Meta for review" in d.page_source,
        message="the template was not submitted",
    )
    screenshot(browser, "43-template-submitted")

    browser.set_window_size(390, 844)
    try:
        assert_fits_the_width(browser)
        screenshot(browser, "44-template-phone-width")
        browser.get(site.tenant_url("/app/templates/media/"))
        assert_fits_the_width(browser)
        screenshot(browser, "45-media-library-phone-width")
    finally:
        browser.set_window_size(1280, 900)
