"""The knowledge-base page in Chromium: add an entry, turn answering on, try a question that is
answered and one that goes to a person, and use the page at phone width."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from knowledge.models import FaqEntry, KnowledgeSettings
from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_an_entry_is_added_and_a_question_tried(browser, site):
    def forget() -> None:
        with schema_context(site.tenant.schema_name):
            FaqEntry.objects.all().delete()
            KnowledgeSettings.objects.all().delete()

    try:
        log_in(browser, site, next_path="/app/knowledge/")
        wait_for(browser, lambda d: "Knowledge base" in d.find_element(By.TAG_NAME, "h1").text)
        assert "No entry yet" in browser.find_element(By.TAG_NAME, "main").text
        screenshot(browser, "kb-1-empty")

        browser.find_element(By.LINK_TEXT, "Add an entry").click()
        browser.find_element(By.ID, "id_question").send_keys("What are your opening hours?")
        browser.find_element(By.ID, "id_variants").send_keys("When are you open?\nopening times")
        browser.find_element(By.ID, "id_answer").send_keys("Monday to Saturday, 8:00 to 18:00.")
        browser.find_element(By.ID, "id_tags").send_keys("hours")
        screenshot(browser, "kb-2-form")
        browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_for(browser, lambda d: "FAQ entry added." in d.page_source)

        browser.find_element(By.XPATH, "//button[normalize-space()='Turn on']").click()
        wait_for(browser, lambda d: "The bot now answers from the knowledge base." in d.page_source)

        browser.find_element(By.ID, "kb-try-text").send_keys("what time do you open?")
        browser.find_element(By.XPATH, "//button[normalize-space()='Try']").click()
        result = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".try-result"))
        assert "Answered by What are your opening hours?" in result.text
        assert "Monday to Saturday, 8:00 to 18:00." in result.text
        screenshot(browser, "kb-3-tried-answered")

        field = browser.find_element(By.ID, "kb-try-text")
        field.clear()
        field.send_keys("my card was charged twice")
        browser.find_element(By.XPATH, "//button[normalize-space()='Try']").click()
        wait_for(
            browser, lambda d: "Handed to a person" in d.find_element(By.CSS_SELECTOR, ".try-result").text
        )
        screenshot(browser, "kb-4-tried-handed-off")

        browser.set_window_size(390, 844)
        browser.refresh()
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table tbody tr"))
        assert_fits_the_width(browser)
        screenshot(browser, "kb-5-phone")
    finally:
        committed(forget)
