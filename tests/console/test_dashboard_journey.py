"""The dashboard's customer journey (figures, the funnel chart, its CSV) and A/B tests table, and the
outsider's workflow id refused."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from automations.models import Order, Workflow, WorkflowStepVisit
from broadcasts.models import Broadcast, BroadcastRecipient, BroadcastVariant
from messaging.models import Message
from tests.analytics.test_journey import DEFINITION
from tests.factories import AccountFactory, ContactFactory, ConversationFactory, PhoneNumberFactory

PAGE = "/app/dashboard/?date_from=2026-01-10&date_to=2026-01-11"
NOON = datetime(2026, 1, 10, 17, tzinfo=UTC)  # noon in New York


@pytest.fixture
def history(tenant_a, in_tenant):
    """In New York: three first contacts on 10 Jan, two ordered (after 30 min and 2 h); a workflow
    three of them entered and one finished; an A/B campaign of 10 Jan."""
    with in_tenant(tenant_a):
        number = PhoneNumberFactory(account=AccountFactory(timezone="America/New_York"))
        contacts = [ContactFactory(first_seen_at=NOON) for _ in range(3)]
        for contact, delay in ((contacts[0], timedelta(minutes=30)), (contacts[1], timedelta(hours=2))):
            Order.objects.create(contact=contact, customer_wa_id=contact.wa_id, created_at=NOON + delay)
        workflow = Workflow.objects.create(name="shop", definition=DEFINITION)
        Workflow.objects.create(name="quiet", definition=DEFINITION)
        paths = (["menu", "ask_quantity", "confirm"], ["menu", "ask_quantity"], ["menu"])
        for contact, steps in zip(contacts, paths, strict=True):
            for step in steps:
                WorkflowStepVisit.objects.create(workflow=workflow, workflow_version=1, step=step, contact=contact,
                                                 phone_number=number, entered_at=NOON)
        broadcast = Broadcast.objects.create(name="Winter sale", phone_number=number, template_name="sale_a",
                                             template_language="en_US", status="running", send_at=NOON)
        for label, template, status in (("A", "sale_a", "read"), ("B", "sale_b", "delivered")):
            variant = BroadcastVariant.objects.create(broadcast=broadcast, label=label, template_name=template,
                                                      template_language="en_US", share=50)
            for contact in contacts:
                conversation = ConversationFactory(contact=contact, phone_number=number) if label == "A" else None
                message = Message.objects.create(
                    conversation=conversation or contact.conversations.get(), contact=contact, phone_number=number,
                    direction="out", type="template", status=status, sent_at=NOON, timestamp=NOON,
                )
                BroadcastRecipient.objects.create(broadcast=broadcast, variant=variant, wa_id=f"{contact.wa_id}{label}",
                                                  message=message)
    return workflow


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_journey_funnel_and_ab_tests_are_on_the_page(console_a, history):
    response = console_a.get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    journey = _text(page[page.index('id="journey"'):page.index('id="ab-tests"')])
    assert "days (America/New_York)" in journey
    assert "First contacts 3" in journey
    assert "Conversion to first order 66.7%" in journey and "2 of them placed an order since." in journey
    assert "Median time to first order 1 h 15 min" in journey  # between 30 min and 2 h
    assert "Funnel of shop" in journey
    bars = re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title>', page[page.index('id="journey"'):])
    assert bars == ["menu · Contacts: 3", "ask_quantity · Contacts: 2", "info · Contacts: 0",
                    "confirm · Contacts: 1"]

    ab = _text(page[page.index('id="ab-tests"'):])
    assert "Winter sale Too few to call A sale_a (en_US) 3 3 (100.0%) 3 (100.0%) 0" in ab
    assert "B sale_b (en_US) 3 3 (100.0%) 0 (0.0%) 0" in ab


def test_the_funnel_csv_follows_the_chosen_workflow(console_a, history, tenant_a, in_tenant):
    response = console_a.get(f"{PAGE}&workflow={history.pk}&format=csv&chart=funnel")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Step", "Contacts", "Share of the first step (%)", "After step", "Drop", "Drop (%)"],
        ["menu", "3", "100.0", "", "", ""],
        ["ask_quantity", "2", "66.7", "menu", "1", "33.3"],
        ["info", "0", "0.0", "menu", "3", "100.0"],
        ["confirm", "1", "33.3", "ask_quantity", "1", "50.0"],
    ]
    with in_tenant(tenant_a):
        quiet = Workflow.objects.get(name="quiet")
    page = console_a.get(f"{PAGE}&workflow={quiet.pk}").content.decode()
    assert "Funnel of quiet" in page


def test_another_workspaces_workflow_is_refused_as_a_choice(console_b, history, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        assert not Workflow.objects.filter(pk=history.pk).exists()

    response = console_b.get(f"{PAGE}&workflow={history.pk}")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page and 'id="journey"' not in page
    csv_response = console_b.get(f"{PAGE}&workflow={history.pk}&format=csv&chart=funnel")
    assert csv_response.status_code == 400


def test_without_workflows_or_campaigns_the_sections_say_so(console_b):
    page = _text(console_b.get(PAGE).content.decode())

    assert "First contacts 0" in page and "Conversion to first order —" in page
    assert "No contact entered a workflow in this range." in page
    assert "No campaign with two or more variants started in this range." in page
