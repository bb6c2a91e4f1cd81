"""The platform console in Chromium: an operator logs in on the public host and walks its pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, committed, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

OPERATOR, PASSWORD = "ops-browser", "platform operator passphrase 9"


@pytest.fixture
def operator():
    committed(lambda: User.objects.create_user(OPERATOR, password=PASSWORD, is_staff=True))
    yield OPERATOR
    committed(lambda: User.objects.filter(username=OPERATOR).delete())


def test_an_operator_sees_tenants_health_and_the_webhook_backlog(browser, site, operator):
    browser.get(f"{site.url}/app/")
    wait_for(browser, lambda d: "/app/login/" in d.current_url)
    browser.find_element(By.NAME, "username").send_keys(OPERATOR)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/tenants/"))

    table = browser.find_element(By.CSS_SELECTOR, "main table").text
    assert "Bean & Leaf" in table and "Alpha Coffee" in table
    screenshot(browser, "40-platform-tenants")

    browser.find_element(By.LINK_TEXT, "Account health").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/health/"))
    screenshot(browser, "41-platform-health")

    browser.get(f"{site.url}/admin/analytics/tenantaccounthealth/")  # the same summary in the Django admin
    wait_for(browser, lambda d: d.find_elements(By.ID, "account-health"))
    assert "unhealthy first" in browser.find_element(By.ID, "content-main").text
    screenshot(browser, "41-platform-admin-health")
    browser.get(f"{site.url}/app/health/")

    browser.find_element(By.LINK_TEXT, "Webhooks").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/webhooks/"))
    assert "webhook worker" in browser.find_element(By.TAG_NAME, "main").text.lower()
    screenshot(browser, "42-platform-webhooks")

    browser.set_window_size(390, 844)
    browser.refresh()
    screenshot(browser, "43-platform-webhooks-phone")
    assert_fits_the_width(browser)
