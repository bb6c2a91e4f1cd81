"""Plans and subscriptions in Chromium: an operator creates a plan (a bad currency is refused next to
its field first), puts the browser's workspace on it, publishes a second version and moves the
workspace to it at the next period; the pages fit a phone's width."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from billing.plans.models import Plan, PlanChange, PlanVersion, Subscription
from tests.browser.conftest import assert_fits_the_width, committed, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

OPERATOR, PASSWORD = "plans-browser", "platform plans passphrase 5"
CODE = "browser-pro"


def _forget(tenant_id: int) -> None:
    Subscription.objects.filter(tenant_id=tenant_id).delete()
    PlanVersion.objects.filter(plan__code=CODE).delete()
    Plan.objects.filter(code=CODE).delete()
    User.objects.filter(username=OPERATOR).delete()


@pytest.fixture
def operator(site):
    committed(lambda: User.objects.create_user(OPERATOR, password=PASSWORD, is_staff=True))
    yield OPERATOR
    committed(_forget, site.tenant.pk)


def fill(browser, name: str, value: str) -> None:
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def click(browser, text: str) -> None:
    button = browser.find_element(By.XPATH, f"//*[self::button or self::a][normalize-space()='{text}']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def test_an_operator_creates_a_plan_and_subscribes_a_tenant(browser, site, operator):
    browser.get(f"{site.url}/app/billing/plans/")
    wait_for(browser, lambda d: "/app/login/" in d.current_url)
    browser.find_element(By.NAME, "username").send_keys(OPERATOR)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, lambda d: d.current_url.endswith("/app/billing/plans/"))

    click(browser, "New plan")
    wait_for(browser, lambda d: d.current_url.endswith("/app/billing/plans/new"))
    fill(browser, "code", CODE)
    fill(browser, "name", "Browser Pro")
    fill(browser, "monthly_fee", "79.00")
    fill(browser, "currency", "eur")
    fill(browser, "included_marketing", "500")
    Select(browser.find_element(By.NAME, "overage_policy")).select_by_value("bill")
    fill(browser, "overage_marketing", "0.04")
    fill(browser, "max_users", "5")
    click(browser, "Create plan")

    error = wait_for(browser, lambda d: d.find_element(By.ID, "id_currency_errors"))
    assert "Not in the expected form: Three capital letters (ISO 4217), e.g. EUR." in error.text
    assert browser.find_element(By.NAME, "included_marketing").get_attribute("value") == "500"
    assert not committed(lambda: Plan.objects.filter(code=CODE).exists())
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", error)
    screenshot(browser, "97-platform-plan-refused")

    fill(browser, "currency", "EUR")
    click(browser, "Create plan")
    wait_for(browser, lambda d: d.current_url.endswith("/app/billing/plans/"))
    assert (
        "Plan Browser Pro created with its version 1." in browser.find_element(By.CSS_SELECTOR, ".flash").text
    )
    row = browser.find_element(By.CSS_SELECTOR, f"[data-testid=plan-{CODE}]").text
    assert "Browser Pro v1" in row and "79.00 EUR" in row and "marketing: 500" in row
    assert "Allow and bill the overage" in row and "users 5" in row
    screenshot(browser, "98-platform-plans")

    browser.get(f"{site.url}/app/billing/subscriptions/")
    row = browser.find_element(By.CSS_SELECTOR, f"[data-testid=subscription-{site.tenant.slug}]")
    assert "No subscription" in row.text
    row.find_element(By.PARTIAL_LINK_TEXT, "Put on a plan").click()
    wait_for(browser, lambda d: d.current_url.endswith(f"/app/billing/subscriptions/{site.tenant.slug}/"))
    Select(browser.find_element(By.NAME, "plan_version")).select_by_visible_text(
        "Browser Pro v1 · 79.00 EUR a month"
    )
    fill(browser, "anchor_day", "10")
    click(browser, "Subscribe")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=subscription]"))
    assert "Bean & Leaf is on Browser Pro v1." in browser.find_element(By.CSS_SELECTOR, ".flash").text
    facts = browser.find_element(By.CSS_SELECTOR, "[data-testid=subscription]").text
    assert "Browser Pro v1 · 79.00 EUR a month" in facts and "Active" in facts
    subscription = committed(
        lambda: Subscription.objects.select_related("plan_version").get(tenant_id=site.tenant.pk)
    )
    assert (subscription.plan_version.version, subscription.anchor_day) == (1, 10)

    browser.get(f"{site.url}/app/billing/plans/{CODE}/versions/new")
    assert browser.find_element(By.NAME, "included_marketing").get_attribute("value") == "500"
    fill(browser, "monthly_fee", "89.00")
    browser.execute_script(
        "document.getElementById('id_stop_at_zero_balance').scrollIntoView({block: 'center'})"
    )
    screenshot(browser, "98b-platform-plan-version-limits")
    click(browser, "Publish version")
    wait_for(browser, lambda d: d.current_url.endswith("/app/billing/plans/"))
    assert "Browser Pro v2 published." in browser.find_element(By.CSS_SELECTOR, ".flash").text

    browser.get(f"{site.url}/app/billing/subscriptions/{site.tenant.slug}/")
    Select(browser.find_element(By.NAME, "plan_version")).select_by_visible_text(
        "Browser Pro v2 · 89.00 EUR a month"
    )
    browser.find_element(By.CSS_SELECTOR, "input[name=timing][value=next_period]").click()
    click(browser, "Change plan")
    wait_for(
        browser, lambda d: "moves to Browser Pro v2 on" in d.find_element(By.CSS_SELECTOR, ".flash").text
    )
    history = browser.find_element(By.CSS_SELECTOR, ".plan-changes tbody").text
    assert "Browser Pro v1 Browser Pro v2 At the next period" in history
    assert committed(lambda: PlanChange.objects.filter(subscription__tenant_id=site.tenant.pk).count()) == 1
    browser.execute_script("document.querySelector('.plan-changes').scrollIntoView({block: 'center'})")
    screenshot(browser, "99-platform-subscription")

    browser.set_window_size(390, 844)
    for path, name in [
        ("/app/billing/plans/", "100-platform-plans-phone"),
        (f"/app/billing/plans/{CODE}/versions/new", "101-platform-plan-version-phone"),
        (f"/app/billing/subscriptions/{site.tenant.slug}/", "102-platform-subscription-phone"),
        ("/app/billing/subscriptions/", "103-platform-subscriptions-phone"),
    ]:
        browser.get(f"{site.url}{path}")
        screenshot(browser, name)
        assert_fits_the_width(browser)
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"{path} scrolls sideways"
