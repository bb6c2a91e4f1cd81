"""The dashboard's customer journey and A/B tests in Chromium: figures, the funnel's bars, the
comparison table, at desktop and phone width (screenshots also in /tmp/shots/journey_*.png)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_fits_the_width, committed, log_in, screenshot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SHOTS = Path("/tmp/shots")
NOON = datetime(2026, 1, 10, 12, tzinfo=UTC)
PAGE = "/app/dashboard/?date_from=2026-01-10&date_to=2026-01-11"
WORKFLOW = {
    "start": "menu",
    "steps": {
        "menu": {
            "send": {"text": "Order or info?"},
            "input": {"type": "choice", "choices": [{"id": "order", "next": "pick"}, {"id": "info", "next": "hours"}]},
        },
        "pick": {
            "send": {"text": "Which coffee?"},
            "input": {"type": "text", "validator": "any_text", "save_as": "coffee", "next": "quantity"},
        },
        "quantity": {
            "send": {"text": "How many?"},
            "input": {"type": "text", "validator": "positive_integer", "save_as": "count", "next": "placed"},
        },
        "placed": {"send": {"text": "Order placed."}},
        "hours": {"send": {"text": "We open at nine."}},
    },
}


def _seed(schema: str, phone_number_id: str) -> None:
    """40 first contacts at noon on 10 Jan (UTC), 10 ordered (204 more wrote in November); a coffee workflow 40 entered and 10
    finished; an A/B campaign of 240 (Short replied 30 of 120, Long 12 of 120) and a pilot of 4."""
    from automations.models import Order, Workflow, WorkflowStepVisit
    from broadcasts.models import Broadcast, BroadcastRecipient, BroadcastVariant
    from messaging.models import Contact, Conversation, Message
    from waba.models import PhoneNumber

    with schema_context(schema):
        number = PhoneNumber.objects.get(phone_number_id=phone_number_id)
        contacts = Contact.objects.bulk_create(
            Contact(wa_id=f"4917790{index:05d}", profile_name=f"Journey {index}",
                    first_seen_at=NOON if index < 40 else NOON - timedelta(days=60))
            for index in range(244)
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(contact=contact, phone_number=number) for contact in contacts
        )
        Order.objects.bulk_create(
            Order(contact=contact, customer_wa_id=contact.wa_id, created_at=NOON + timedelta(minutes=20 + 5 * index),
                  number=f"ORD-9{index:04d}")
            for index, contact in enumerate(contacts[:10])
        )
        workflow = Workflow.objects.create(name="coffee_order", definition=WORKFLOW)
        reached = {"menu": 40, "pick": 28, "hours": 9, "quantity": 16, "placed": 10}
        WorkflowStepVisit.objects.bulk_create(
            WorkflowStepVisit(workflow=workflow, workflow_version=1, step=step, contact=contact,
                              phone_number=number, entered_at=NOON + timedelta(minutes=1))
            for step, count in reached.items()
            for contact in contacts[:count]
        )

        def campaign(name: str, people: list, replies: dict[str, int], send_at: datetime) -> None:
            broadcast = Broadcast.objects.create(name=name, phone_number=number, template_name="winter_short",
                                                 template_language="en_US", status="running", send_at=send_at)
            half = len(people) // 2
            for label, template, status, group in (("Short", "winter_short", "read", people[:half]),
                                                   ("Long", "winter_long", "delivered", people[half:])):
                variant = BroadcastVariant.objects.create(broadcast=broadcast, label=label, template_name=template,
                                                          template_language="en_US", share=50)
                for position, (contact, conversation) in enumerate(group):
                    message = Message.objects.create(conversation=conversation, contact=contact, phone_number=number,
                                                     direction="out", type="template", status=status, sent_at=NOON,
                                                     timestamp=NOON)
                    BroadcastRecipient.objects.create(broadcast=broadcast, variant=variant, wa_id=contact.wa_id,
                                                      message=message)
                    if position < replies[label]:
                        Message.objects.create(conversation=conversation, contact=contact, phone_number=number,
                                               direction="in", type="text", body="Yes", status="received",
                                               timestamp=NOON + timedelta(minutes=3))

        pairs = list(zip(contacts, conversations, strict=True))
        campaign("Winter sale", pairs[:240], {"Short": 30, "Long": 12}, NOON)
        campaign("Pilot", pairs[240:], {"Short": 1, "Long": 0}, NOON - timedelta(hours=1))


def _shot(browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / f"journey_{name}.png"))
    screenshot(browser, f"60-journey-{name}")


def test_the_journey_funnel_and_ab_tests_on_the_dashboard(browser, site):
    committed(_seed, site.tenant.schema_name, site.phone_number_id)
    log_in(browser, site, next_path=PAGE)
    journey = wait_for(browser, lambda d: d.find_element(By.ID, "journey"))
    browser.set_window_size(1280, 2200)
    browser.execute_script("document.getElementById('journey').scrollIntoView()")
    _shot(browser, "desktop")

    text = journey.text
    assert "First contacts\n40" in text
    assert "Conversion to first order\n25.0%" in text  # 10 of 40
    assert "Median time to first order\n42 min 30 s" in text  # 20 to 65 minutes, every 5
    assert "Funnel of coffee_order" in text
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-funnel svg rect.bar")
    heights = [float(bar.get_attribute("height")) for bar in bars]
    assert len(bars) == 5 and heights[0] == max(heights) and heights[0] > 100  # menu, pick, hours, quantity, placed
    assert heights[1] > heights[3] > heights[4] > heights[2] > 0

    ab = browser.find_element(By.ID, "ab-tests")
    rows = ab.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 4
    assert "Winter sale" in rows[0].text and "Short leads" in rows[0].text and "25.0%" in rows[0].text
    assert "10.0%" in rows[1].text
    assert "Pilot" in rows[2].text and "Too few to call" in rows[2].text

    browser.find_element(By.CSS_SELECTOR, "#chart-funnel details summary").click()
    first = browser.find_element(By.CSS_SELECTOR, "#chart-funnel details tbody tr")
    assert first.text.split() == ["menu", "40", "100.0", "—", "—", "—"]

    browser.set_window_size(390, 844)
    browser.refresh()
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#chart-funnel svg"))
    browser.execute_script("document.getElementById('journey').scrollIntoView()")
    _shot(browser, "phone")
    assert_fits_the_width(browser)
