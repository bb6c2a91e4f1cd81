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


def test_a_media_header_sample_is_picked_from_the_media_library(browser, site, _simulator_server, tmp_path):
    sample = tmp_path / "storefront.png"
    sample.write_bytes(b"\x89PNG\r\n\x1a\n" + b"p" * 2000)
    log_in(browser, site, next_path="/app/templates/media/")
    Select(browser.find_element(By.ID, "id_account")).select_by_value(str(site.account_id))
    Select(browser.find_element(By.ID, "id_purpose")).select_by_value("sample")
    browser.find_element(By.ID, "id_file").send_keys(str(sample))
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for(browser, lambda d: "storefront.png uploaded to Meta." in d.page_source,
             message="the sample was not uploaded")

    browser.get(site.tenant_url(f"/app/templates/new/?account={site.account_id}"))
    browser.find_element(By.ID, "id_name").send_keys("storefront_open")
    Select(browser.find_element(By.ID, "id_header_format")).select_by_value("IMAGE")
    picker = Select(browser.find_element(By.ID, "id_header_asset"))
    [option] = [o for o in picker.options if o.text.startswith("storefront.png")]
    picker.select_by_visible_text(option.text)
    browser.find_element(By.ID, "id_body_text").send_keys("Our new shop is open.")
    browser.execute_script("document.getElementById('id_header_asset').scrollIntoView({block: 'center'})")
    screenshot(browser, "46-template-header-sample-picker")
    since = _simulator_server.simulator.requests.last_seq()
    browser.find_element(By.CSS_SELECTOR, "button[value=submit]").click()
    wait_for(browser, lambda d: "sent to Meta for review" in d.page_source, message="the template was not submitted")

    [sent] = [call for call in _simulator_server.simulator.requests.query(since_seq=since)
              if call["method"] == "POST" and call["path"].endswith("/message_templates")]
    header = sent["body"]["components"][0]
    assert header["format"] == "IMAGE" and header["example"]["header_handle"][0].startswith("4::")
    assert Select(browser.find_element(By.ID, "id_header_asset")).first_selected_option.text.startswith(
        "storefront.png")
    screenshot(browser, "47-template-with-picked-sample")
