"""Alerts in Chromium: an unhealthy account shows as a notice on the dashboard, its incident in the
history; the owner turns console notices off and adds an address on the settings page."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_notice_on_the_dashboard_the_history_and_the_settings(browser, site):
    from alerts.models import AlertSettings, Incident
    from alerts.services import tenant_incidents_reconcile
    from waba.models import WhatsAppAccount
    from waba.services.accounts import account_mark_healthy, account_mark_unhealthy

    def account_turns(healthy: bool) -> None:
        with schema_context(site.tenant.schema_name):
            account = WhatsAppAccount.objects.get(pk=site.account_id)
            if healthy:
                account_mark_healthy(account=account)
            else:
                account_mark_unhealthy(
                    account=account, reason="Access token invalid: the session has expired."
                )
            tenant_incidents_reconcile()

    def forget() -> None:
        with schema_context(site.tenant.schema_name):
            Incident.objects.all().delete()
            AlertSettings.objects.all().delete()

    committed(account_turns, False)
    try:
        log_in(browser, site, next_path="/app/dashboard/")
        notice = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".alert-notices"))
        assert "1 open alert" in notice.text
        assert "Account unhealthy: Bean & Leaf is unhealthy: Access token invalid" in notice.text
        screenshot(browser, "90-alerts-dashboard-notice")

        notice.find_element(By.LINK_TEXT, "See the incident history").click()
        row = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table.incidents tbody tr"))
        assert "Open" in row.text and "Account unhealthy" in row.text
        screenshot(browser, "91-alerts-history-open")

        committed(account_turns, True)
        browser.refresh()
        row = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table.incidents tbody tr"))
        assert "Resolved" in row.text
        screenshot(browser, "92-alerts-history-resolved")

        browser.find_element(By.LINK_TEXT, "Alert settings").click()
        wait_for(browser, lambda d: d.find_element(By.ID, "id_console_enabled"))
        browser.find_element(By.ID, "id_console_enabled").click()
        browser.find_element(By.ID, "id_email_extra_addresses").send_keys("ops@beanandleaf.test")
        screenshot(browser, "93-alerts-settings")
        browser.find_element(By.CSS_SELECTOR, "form.alert-settings button[type=submit]").click()
        wait_for(browser, lambda d: "Alert settings saved." in d.page_source)
        assert not browser.find_element(By.ID, "id_console_enabled").is_selected()
        assert browser.find_element(By.ID, "id_email_extra_addresses").get_attribute("value") == (
            "ops@beanandleaf.test"
        )

        committed(account_turns, False)
        browser.get(site.tenant_url("/app/dashboard/"))
        wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1"))
        assert not browser.find_elements(By.CSS_SELECTOR, ".alert-notices")

        browser.set_window_size(390, 844)
        browser.get(site.tenant_url("/app/alerts/"))
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table.incidents"))
        assert_fits_the_width(browser)
        screenshot(browser, "94-alerts-history-phone")
    finally:
        committed(account_turns, True)
        committed(forget)
