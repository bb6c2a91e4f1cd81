"""Logging in to the tenant console in Chromium, and what a stranger's session or id gets."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_user_logs_in_and_lands_in_the_inbox(browser, site):
    browser.get(site.tenant_url("/app/"))
    wait_for(browser, lambda d: "/app/login/" in d.current_url)
    screenshot(browser, "01-login")
    browser.find_element(By.NAME, "username").send_keys("lena")
    browser.find_element(By.NAME, "password").send_keys("wrong password")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    alert = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[role=alert]"))
    assert "correct username and password" in alert.text
    screenshot(browser, "02-login-refused")

    log_in(browser, site)
    assert browser.current_url.endswith("/app/inbox/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Inbox"
    assert "Bean & Leaf" in browser.find_element(By.CSS_SELECTOR, ".brand").text
    screenshot(browser, "03-inbox-after-login")


def test_the_login_page_works_at_phone_width(browser, site):
    browser.set_window_size(390, 844)
    browser.get(site.tenant_url("/app/login/"))
    form = browser.find_element(By.CSS_SELECTOR, "form")
    assert form.size["width"] <= 390
    screenshot(browser, "04-login-phone")


def test_the_session_of_this_workspace_means_nothing_on_another_host(browser, site):
    log_in(browser, site)
    browser.get(f"http://localhost:{site.port}/app/tenants/")
    wait_for(
        browser, lambda d: "/app/login/" in d.current_url, message="the public host let a tenant user in"
    )
