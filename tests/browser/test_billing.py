"""Billing in Chromium: an operator tops up a tenant's prepaid balance with the platform console's
form and sees the new balance (a bad amount is refused next to its field); the workspace's owner
sees the balance and the spend alert on the tenant console's billing page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from billing.credit import credit_alerts_raise, credit_top_up
from billing.plans.models import CreditAccount
from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

OPERATOR, PASSWORD = "billing-browser", "platform billing passphrase 4"


@pytest.fixture
def operator(site):
    committed(lambda: User.objects.create_user(OPERATOR, password=PASSWORD, is_staff=True))
    yield OPERATOR
    committed(lambda: CreditAccount.objects.filter(tenant_id=site.tenant.pk).delete())
    committed(lambda: User.objects.filter(username=OPERATOR).delete())


def top_up(browser, tenant_name: str, amount: str, note: str = "") -> None:
    Select(browser.find_element(By.NAME, "tenant")).select_by_visible_text(tenant_name)
    field = browser.find_element(By.NAME, "amount")
    field.clear()
    field.send_keys(amount)
    browser.find_element(By.NAME, "note").send_keys(note)
    browser.find_element(By.XPATH, "//button[normalize-space()='Top up']").click()


def test_an_operator_tops_up_a_balance_and_sees_it(browser, site, operator):
    browser.get(f"{site.url}/app/billing/")
    wait_for(browser, lambda d: "/app/login/" in d.current_url)
    screenshot(browser, "69-platform-billing-login")
    browser.find_element(By.NAME, "username").send_keys(OPERATOR)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/billing/"))
    assert (
        "No tenant has a prepaid balance yet."
        in browser.find_element(By.CSS_SELECTOR, ".credit-accounts").text
    )

    top_up(browser, "Bean & Leaf (browser)", "25.00", "INV-2026-12")

    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"[data-testid=balance-{site.tenant.slug}]"))
    flash = browser.find_element(By.CSS_SELECTOR, ".flash").text
    assert "Bean & Leaf: 25.00 added; the balance is 25.00 USD." in flash
    balance = browser.find_element(By.CSS_SELECTOR, f"[data-testid=balance-{site.tenant.slug}]").text
    assert balance == "25.00 USD"
    screenshot(browser, "70-platform-billing-topped-up")

    top_up(browser, "Bean & Leaf (browser)", "10.50")
    wait_for(
        browser,
        lambda d: (
            d.find_element(By.CSS_SELECTOR, f"[data-testid=balance-{site.tenant.slug}]").text == "35.50 USD"
        ),
    )

    top_up(browser, "Bean & Leaf (browser)", "0")
    error = wait_for(browser, lambda d: d.find_element(By.ID, "id_amount_errors"))
    assert "greater than or equal to 0.01" in error.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", error)
    screenshot(browser, "71-platform-billing-refused")
    assert committed(lambda: str(CreditAccount.objects.get(tenant_id=site.tenant.pk).balance)) == "35.500000"

    browser.set_window_size(390, 844)
    browser.get(f"{site.url}/app/billing/")
    screenshot(browser, "72-platform-billing-phone")
    assert_fits_the_width(browser)


def _low_balance(tenant) -> None:
    credit_top_up(tenant=tenant, amount=Decimal("1.00"))
    account = CreditAccount.objects.get(tenant=tenant)
    account.balance = Decimal("0.15")
    account.save(update_fields=["balance"])
    with schema_context(tenant.schema_name):
        credit_alerts_raise(account=account)


def test_a_workspace_owner_sees_the_balance_and_the_spend_alert(browser, site):
    committed(_low_balance, site.tenant)
    try:
        log_in(browser, site, next_path="/app/billing/")
        wait_for(browser, lambda d: d.current_url.endswith("/app/billing/"))

        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=credit-balance]").text == "0.15 USD"
        notice = browser.find_element(By.CSS_SELECTOR, ".notice").text
        assert "80 % of your credit is used." in notice and "Ask the platform team for a top-up." in notice
        screenshot(browser, "73-tenant-billing-credit-alert")
    finally:
        committed(lambda: CreditAccount.objects.filter(tenant_id=site.tenant.pk).delete())
