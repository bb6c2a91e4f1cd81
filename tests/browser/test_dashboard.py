"""The dashboard in Chromium shows the figures rolled up from a known history, with charts and tables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_the_dashboard_shows_the_seeded_figures(browser, site):
    from analytics.rollups import usage_day_rollup
    from tests.analytics.dataset import D, seed_dataset

    def seed() -> None:
        with schema_context(site.tenant.schema_name):
            seed_dataset()
            for offset in (-1, 0, 1):
                usage_day_rollup(day=D + timedelta(days=offset))

    committed(seed)
    day = D.isoformat()
    log_in(browser, site, next_path=f"/app/dashboard/?date_from={day}&date_to={day}")
    wait_for(browser, lambda d: d.find_element(By.ID, "chart-messages"))

    page = browser.find_element(By.TAG_NAME, "main").text
    assert "50.0%" in page  # delivery rate: 4 delivered of 8 sent
    assert "4 delivered out of 8 sent." in page
    chart = browser.find_element(By.CSS_SELECTOR, "#chart-messages svg")
    assert chart.size["width"] > 300 and chart.size["height"] > 100
    screenshot(browser, "30-dashboard")

    browser.find_element(By.CSS_SELECTOR, "#chart-messages details summary").click()
    row = browser.find_element(By.CSS_SELECTOR, "#chart-messages details tbody tr")
    assert row.text.split() == [day, "8", "4", "2", "3", "5"]
    screenshot(browser, "31-dashboard-table")

    browser.set_window_size(390, 844)
    browser.refresh()
    chart = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#chart-messages svg"))
    assert chart.size["width"] <= 390
    screenshot(browser, "32-dashboard-phone")
    assert_fits_the_width(browser)
