"""The platform console's API keys page in Chromium: platform keys listed (never a tenant's), and
"Revoke all platform keys" shuts every one of them off."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By

from tenants.models import ApiKey
from tenants.services import api_key_create
from tests.browser.conftest import assert_fits_the_width, committed, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

OPERATOR, PASSWORD = "ops-keys", "platform operator passphrase 11"


@pytest.fixture
def operator():
    committed(lambda: User.objects.create_user(OPERATOR, password=PASSWORD, is_staff=True))
    yield OPERATOR
    committed(lambda: User.objects.filter(username=OPERATOR).delete())


def test_an_operator_revokes_every_platform_key(browser, site, operator):
    keys = [committed(api_key_create, tenant=None, name=f"billing export {n}").api_key for n in range(2)]
    tenant_key = committed(api_key_create, tenant=site.tenant, name="workspace key").api_key

    browser.get(f"{site.url}/app/login/")
    browser.find_element(By.NAME, "username").send_keys(OPERATOR)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, lambda d: "/app/login/" not in d.current_url)
    browser.find_element(By.LINK_TEXT, "API keys").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/api-keys/"))

    main = browser.find_element(By.TAG_NAME, "main").text
    assert all(f"{key.prefix}…" in main for key in keys) and tenant_key.prefix not in main
    screenshot(browser, "95-platform-api-keys")

    browser.find_element(By.XPATH, "//button[normalize-space()='Revoke all platform keys']").click()
    wait_for(browser, lambda d: "platform keys revoked" in d.page_source)
    assert committed(lambda: ApiKey.objects.filter(pk__in=[k.pk for k in keys], revoked_at=None).count()) == 0
    assert committed(lambda: ApiKey.objects.get(pk=tenant_key.pk).revoked_at) is None
    screenshot(browser, "96-platform-api-keys-revoked")

    browser.set_window_size(390, 844)
    browser.refresh()
    assert_fits_the_width(browser)
    browser.set_window_size(1280, 900)
