"""The Team page in Chromium: an owner invites an agent for the workspace's account (the link shown
once), sees them listed with their role and makes them a viewer, who is then refused the billing
page with a 403 page and sees no Billing or Team in the navigation."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_an_owner_invites_an_agent_and_changes_their_role(browser, site):
    name = f"rita-{secrets.token_hex(3)}"
    log_in(browser, site)
    browser.find_element(By.LINK_TEXT, "Team").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Team")

    browser.find_element(By.ID, "id_username").send_keys(name)
    browser.find_element(By.ID, "id_email").send_keys(f"{name}@bean.test")
    browser.find_element(By.CSS_SELECTOR, "input[name=role][value=agent]").click()
    browser.find_element(By.CSS_SELECTOR, f"input[name=accounts][value='{site.account_id}']").click()
    screenshot(browser, "60-team-invite")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()

    link = wait_for(browser, lambda d: d.find_element(By.ID, "invitation-url")).get_attribute("value")
    assert "/invite/" in link
    screenshot(browser, "61-team-invited")

    browser.find_element(By.LINK_TEXT, "Back to the team").click()
    row = wait_for(browser, lambda d: d.find_element(By.XPATH, f"//tr[td/a[text()='{name}']]"))
    assert "Agent" in row.text and "Bean & Leaf" in row.text
    screenshot(browser, "62-team")

    row.find_element(By.LINK_TEXT, name).click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == name)
    browser.find_element(By.CSS_SELECTOR, "input[name=role][value=viewer]").click()
    screenshot(browser, "63-team-member")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    flash = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".flash")).text
    assert f"{name} is now viewer." in flash
    row = browser.find_element(By.XPATH, f"//tr[td/a[text()='{name}']]")
    assert "Viewer" in row.text and "all" in row.text
    browser.set_window_size(390, 844)
    browser.refresh()
    assert_fits_the_width(browser)
    screenshot(browser, "64-team-phone")

    browser.set_window_size(1280, 800)
    browser.delete_all_cookies()
    password = "a long enough password 42"
    # The invitation link, used in the browser: its form posts back to the same origin.
    browser.get(link.replace(urlsplit(link).netloc, urlsplit(site.tenant_url("/")).netloc))
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Set your password")
    browser.find_element(By.ID, "id_new_password1").send_keys(password)
    browser.find_element(By.ID, "id_new_password2").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, lambda d: "/app/login/" in d.current_url, message="the invitation form was refused")
    log_in(browser, site, username=name, password=password, next_path="/app/billing/")
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Not available to your role")
    nav = browser.find_element(By.CSS_SELECTOR, "nav.mainnav").text
    assert "Inbox" in nav and "Billing" not in nav and "Team" not in nav
    assert "Your role in this workspace is Viewer" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "65-viewer-refused")
