"""The inbox in Chromium: a customer's message arrives live, a reply reaches Meta (the simulator) and
its ticks turn to read; another workspace's conversation is not found."""

from __future__ import annotations

import httpx
import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _customer_writes(site, *, wa_id: str, name: str, text: str) -> str:
    response = httpx.post(
        f"{site.simulator_url}/_sim/inject/message",
        json={"phone_number_id": site.phone_number_id, "from": wa_id, "profile_name": name, "type": "text",
              "text": {"body": text}},
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["wamid"]


def test_a_customer_message_appears_live_and_a_reply_reaches_meta_and_is_read(browser, site):
    log_in(browser, site)
    screenshot(browser, "10-inbox-before")

    _customer_writes(site, wa_id="4915199900011", name="Greta Vogel", text="Is the oat latte vegan?")
    row = wait_for(
        browser,
        lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, ".inbox-row") if "Greta Vogel" in e.text), None),
        timeout=20,
        message="the customer's conversation did not appear in the list without a reload",
    )
    assert "Is the oat latte vegan?" in row.text
    screenshot(browser, "11-inbox-new-conversation")
    row.find_element(By.TAG_NAME, "a").click()
    wait_for(browser, lambda d: "Is the oat latte vegan?" in d.find_element(By.ID, "thread-messages").text)

    # While the thread is open, the customer writes again: it is appended without a reload.
    _customer_writes(site, wa_id="4915199900011", name="Greta Vogel", text="And do you have almond milk?")
    wait_for(
        browser,
        lambda d: "And do you have almond milk?" in d.find_element(By.ID, "thread-messages").text,
        timeout=20,
        message="the second message did not appear in the open thread",
    )
    screenshot(browser, "12-thread-live")

    reply = "Yes, oat and almond milk are both vegan."
    browser.find_element(By.ID, "reply-text").send_keys(reply)
    browser.find_element(By.CSS_SELECTOR, "#reply-box button[type=submit]").click()
    sent_id = wait_for(
        browser,
        lambda d: next(
            (e.get_attribute("id") for e in d.find_elements(By.CSS_SELECTOR, ".msg-out") if reply in e.text), None
        ),
        timeout=20,
        message="the reply did not show in the thread",
    )
    wait_for(
        browser,
        lambda d: d.find_element(By.ID, sent_id).find_elements(By.CSS_SELECTOR, ".tick-read"),
        timeout=30,
        message="the reply's ticks did not turn to read",
    )
    screenshot(browser, "13-thread-reply-read")

    requests = httpx.get(
        f"{site.simulator_url}/_sim/requests",
        params={"path_contains": f"{site.phone_number_id}/messages", "method": "POST"},
        timeout=5,
    ).json()["requests"]
    bodies = [request["body"] for request in requests]
    assert any(
        body.get("to") == "4915199900011" and body.get("type") == "text" and body["text"]["body"] == reply
        for body in bodies
    ), bodies

    browser.set_window_size(390, 844)
    browser.refresh()
    wait_for(browser, lambda d: reply in d.find_element(By.ID, "thread-messages").text)
    screenshot(browser, "14-thread-phone")
    assert_fits_the_width(browser)


def test_another_workspaces_conversation_is_not_found(browser, site, tenant_a):
    from messaging.models import Contact, Conversation
    from tests.factories import ContactFactory, ConversationFactory
    from waba.models import WhatsAppAccount

    made: list[Conversation] = []

    def outsider_conversation() -> int:
        with schema_context(site.tenant.schema_name):
            highest = Conversation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with schema_context(tenant_a.schema_name):
            while not made or made[-1].pk <= highest:
                made.append(ConversationFactory.create(contact=ContactFactory(profile_name="Secret Sam")))
            return made[-1].pk

    def clean_up() -> None:
        with schema_context(tenant_a.schema_name):
            for conversation in made:
                account_id = conversation.phone_number.account_id
                Conversation.objects.filter(pk=conversation.pk).delete()
                Contact.objects.filter(pk=conversation.contact_id).delete()
                conversation.phone_number.delete()
                WhatsAppAccount.objects.filter(pk=account_id).delete()

    conversation_id = committed(outsider_conversation)
    try:
        log_in(browser, site)
        browser.get(site.tenant_url(f"/app/inbox/{conversation_id}/"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
        assert "Secret Sam" not in browser.page_source
        screenshot(browser, "15-other-workspace-404")
    finally:
        committed(clean_up)
