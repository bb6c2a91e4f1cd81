"""Campaigns in Chromium: compose one to a segment, read the pre-check, send it now and watch its
figures move through the real workers and the simulator's status webhooks; schedule one for
tomorrow 9:00 and see it waiting; the composer fits a phone's width."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TAG = "campaign-browser"
TEMPLATE = "browser_winter_sale"
PEOPLE = ["4915177800001", "4915177800002", "4915177800003"]


def _seed(site) -> None:
    from contacts.models import Segment
    from messaging.models import Contact
    from waba.models import MessageTemplate, PhoneNumber

    with schema_context(site.tenant.schema_name):
        for index, wa_id in enumerate(PEOPLE):
            Contact.objects.create(wa_id=wa_id, profile_name=f"Guest {index}", tags=[TAG])
        Segment.objects.create(
            name="Browser campaign guests",
            definition={"match": "all", "conditions": [{"kind": "tags", "operator": "has_any", "value": [TAG]}]},
        )
        phone = PhoneNumber.objects.select_related("account").get(phone_number_id=site.phone_number_id)
        components = [{"type": "BODY", "text": "Hello {{1}}, our winter sale starts today: {{2}} off."}]
        MessageTemplate.objects.create(
            account=phone.account, name=TEMPLATE, language="en_US", category="MARKETING", status="APPROVED",
            components=components, variable_count=2, parameter_counts={"body": 2},
        )
        account = phone.account
        assert account.access_token is not None
        seed = {
            "wabas": [{"id": account.waba_id, "phone_numbers": [{"id": phone.phone_number_id}]}],
            "tokens": [{"token": account.access_token.reveal(), "waba_ids": [account.waba_id]}],
            "templates": [{"waba_id": account.waba_id, "name": TEMPLATE, "language": "en_US", "category": "MARKETING",
                           "components": components}],
        }
    httpx.post(f"{site.simulator_url}/_sim/seed", json=seed, timeout=10).raise_for_status()


def _clean(site) -> None:
    from broadcasts.models import Broadcast
    from contacts.models import Segment
    from messaging.models import Contact
    from waba.models import MessageTemplate

    with schema_context(site.tenant.schema_name):
        Broadcast.objects.filter(name__startswith="Browser").delete()
        Segment.objects.filter(name="Browser campaign guests").delete()
        Contact.objects.filter(wa_id__in=PEOPLE).delete()
        MessageTemplate.objects.filter(name=TEMPLATE).delete()


def _compose(browser, site, name: str) -> None:
    browser.get(site.tenant_url("/app/campaigns/new/"))
    if not browser.find_elements(By.ID, "campaign-name"):
        screenshot(browser, "89-campaign-composer-missing")
        raise AssertionError(browser.find_element(By.TAG_NAME, "main").text[:500])
    browser.find_element(By.ID, "campaign-name").send_keys(name)
    Select(browser.find_element(By.ID, "campaign-segment")).select_by_visible_text("Browser campaign guests")
    Select(browser.find_element(By.ID, "a-template")).select_by_visible_text(f"{TEMPLATE} (en_US, marketing)")
    # Choosing the template reloads the form with a row per variable (htmx).
    wait_for(browser, lambda d: d.find_elements(By.NAME, "a-body-1-source"), message="no variable rows appeared")
    wait_for(browser, _htmx_settled, message="the form was still being swapped")
    browser.find_element(By.ID, "campaign-name").clear()
    browser.find_element(By.ID, "campaign-name").send_keys(name)
    browser.find_element(By.NAME, "a-body-0-value").send_keys("there")
    Select(browser.find_element(By.NAME, "a-body-1-source")).select_by_value("text")
    browser.find_element(By.NAME, "a-body-1-value").send_keys("20%")


def _htmx_settled(browser) -> bool:
    return browser.execute_script(
        "return !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def _figure(browser, name: str) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, f'#campaign-figures [data-figure="{name}"]')
    return found[0].text if found else ""


def test_compose_check_send_now_and_watch_it_progress(browser, site):
    committed(_seed, site)
    try:
        log_in(browser, site, next_path="/app/campaigns/")
        _compose(browser, site, "Browser winter sale")
        browser.find_element(By.CSS_SELECTOR, "button[value=check]").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "precheck"), message="no pre-check shown")
        precheck = browser.find_element(By.ID, "precheck").text
        assert "3" in browser.find_element(By.CSS_SELECTOR, '#precheck [data-figure="sendable"]').text
        assert "It fits within the number" in precheck
        screenshot(browser, "80-campaign-precheck")

        browser.find_element(By.CSS_SELECTOR, "button[value=create]").click()
        wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Browser winter sale")
        # The page refreshes its figures (htmx) while the workers send and Meta's statuses come back.
        wait_for(
            browser,
            lambda d: _figure(d, "read") == "3",
            timeout=30,
            message=f"the campaign did not reach 3 read (queued {_figure(browser, 'queued')})",
        )
        assert browser.find_element(By.CSS_SELECTOR, "[data-state]").get_attribute("data-state") == "completed"
        assert not browser.find_elements(By.XPATH, "//button[text()='Pause']")  # nothing left to pause
        assert "100%" in browser.find_element(By.CSS_SELECTOR, '#variant-table tr[data-variant="A"]').text
        screenshot(browser, "81-campaign-sent")

        graph = httpx.get(
            f"{site.simulator_url}/_sim/requests",
            params={"path_contains": f"{site.phone_number_id}/messages", "method": "POST"},
            timeout=10,
        ).json()
        sent = [r["body"] for r in graph.get("requests", graph) if r["body"].get("type") == "template"
                and r["body"]["template"]["name"] == TEMPLATE]
        assert sorted(r["to"] for r in sent) == PEOPLE
        assert sent[0]["template"]["components"][0]["parameters"][1] == {"type": "text", "text": "20%"}
    finally:
        committed(_clean, site)


def test_a_campaign_for_tomorrow_waits_and_the_pages_fit_a_phone(browser, site):
    committed(_seed, site)
    try:
        log_in(browser, site, next_path="/app/campaigns/")
        _compose(browser, site, "Browser tomorrow")
        browser.find_element(By.CSS_SELECTOR, "input[name=when][value=later]").click()
        tomorrow = (timezone.now() + timedelta(days=1)).date()
        field = browser.find_element(By.ID, "campaign-send-at")
        browser.execute_script("arguments[0].value = arguments[1]", field, f"{tomorrow}T09:00")
        browser.set_window_size(390, 844)
        assert_fits_the_width(browser)
        screenshot(browser, "82-campaign-composer-phone")
        browser.set_window_size(1280, 900)
        browser.find_element(By.CSS_SELECTOR, "button[value=create]").click()
        wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Browser tomorrow")
        assert browser.find_element(By.CSS_SELECTOR, "[data-state]").get_attribute("data-state") == "scheduled"
        assert f"{tomorrow} 09:00" in browser.find_element(By.CSS_SELECTOR, ".campaign-facts").text
        assert _figure(browser, "queued") == "3"
        screenshot(browser, "83-campaign-scheduled")

        browser.find_element(By.XPATH, "//button[text()='Pause']").click()
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-state]").get_attribute("data-state") == "paused")
        browser.get(site.tenant_url("/app/campaigns/"))
        assert "Browser tomorrow" in browser.find_element(By.CSS_SELECTOR, ".table").text
        browser.set_window_size(390, 844)
        assert_fits_the_width(browser)
        browser.set_window_size(1280, 900)
        screenshot(browser, "84-campaign-list")
    finally:
        committed(_clean, site)
