"""Customer-journey figures and workflow funnels: exact numbers over the period's edges in the
workspace's time zone, the steps the engine records, validation, and the outsider refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from automations.models import Order, Workflow, WorkflowStepVisit
from automations.seeds import builtins_install
from automations.workflows import automation_handle_inbound
from tests.automations.factories import inbound_message_create
from tests.factories import AccountFactory, ContactFactory, PhoneNumberFactory

# 10 and 11 January 2026 in New York (UTC-5): from 10 Jan 05:00 UTC to 12 Jan 05:00 UTC.
PERIOD = "date_from=2026-01-10&date_to=2026-01-11"
START = datetime(2026, 1, 10, 5, tzinfo=UTC)
END = datetime(2026, 1, 12, 5, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

DEFINITION = {
    "start": "menu",
    "steps": {
        "confirm": {"send": {"text": "Thanks, {quantity} it is."}},
        "info": {"send": {"text": "We open at nine."}},
        "ask_quantity": {
            "send": {"text": "How many?"},
            "input": {"type": "text", "validator": "positive_integer", "save_as": "quantity", "next": "confirm"},
        },
        "menu": {
            "send": {"text": "Order or info?"},
            "input": {
                "type": "choice",
                "choices": [{"id": "order", "next": "ask_quantity"}, {"id": "info", "next": "info"}],
            },
        },
    },
}


@pytest.fixture
def new_york(tenant_a, in_tenant):
    """Alpha's (first) account is in New York."""
    with in_tenant(tenant_a):
        return PhoneNumberFactory(account=AccountFactory(timezone="America/New_York"))


def contact_with_orders(first_seen_at, *order_delays, wa_id=None):
    contact = ContactFactory(first_seen_at=first_seen_at, **({"wa_id": wa_id} if wa_id else {}))
    for delay in order_delays:
        Order.objects.create(contact=contact, customer_wa_id=contact.wa_id, created_at=first_seen_at + delay)
    return contact


@pytest.fixture
def journeys(tenant_a, tenant_b, in_tenant, new_york):
    with in_tenant(tenant_a):
        # First contact at the first instant of 10 Jan in New York; orders after 1 h and 2 h.
        contact_with_orders(START, timedelta(hours=1), timedelta(hours=2))
        # The last minute of 11 Jan in New York (already 12 Jan in UTC); an order placed the day
        # before the first contact does not count, the one 2 h after does.
        contact_with_orders(END - MINUTE, -timedelta(days=1), timedelta(hours=2))
        # 23:59 on 9 Jan in New York (10 Jan in UTC): outside the period.
        contact_with_orders(START - MINUTE, timedelta(minutes=30))
        # 00:00 on 12 Jan in New York: outside.
        contact_with_orders(END, timedelta(hours=1))
        # Inside, never ordered.
        contact_with_orders(datetime(2026, 1, 11, 12, tzinfo=UTC))
        # Inside, ordered ten days later, after the period.
        contact_with_orders(datetime(2026, 1, 11, 13, tzinfo=UTC), timedelta(days=10))
        # Imported, never wrote.
        ContactFactory(first_seen_at=None)
    with in_tenant(tenant_b):
        # Beta's customers never count in alpha's figures.
        contact_with_orders(START + timedelta(hours=3), timedelta(minutes=5))
        contact_with_orders(START + timedelta(hours=4))


def test_first_contacts_and_first_orders_in_the_workspace_time_zone(api_a, journeys):
    response = api_a.get(f"/api/v1/analytics/journey?{PERIOD}")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "date_from": "2026-01-10",
        "date_to": "2026-01-11",
        "timezone": "America/New_York",
        "first_contacts": 4,
        "first_orders": 3,
        "conversion_rate": 0.75,
        # Times to first order: 1 h, 2 h and 10 days.
        "median_time_to_first_order_s": 7200,
        "p90_time_to_first_order_s": 7200 + round(0.8 * (864000 - 7200)),
    }


def test_the_days_may_be_read_in_another_zone(api_a, journeys):
    body = api_a.get(f"/api/v1/analytics/journey?{PERIOD}&timezone=UTC").json()

    # UTC days: the contact of 23:59 in New York (04:59 UTC on the 10th) is in, the one of 04:59
    # UTC on the 12th is out.
    assert (body["timezone"], body["first_contacts"], body["first_orders"]) == ("UTC", 4, 3)
    assert (body["median_time_to_first_order_s"], body["p90_time_to_first_order_s"]) == (3600, 691920)


def test_a_period_without_first_contacts_has_no_rates(api_a, journeys):
    body = api_a.get("/api/v1/analytics/journey?date_from=2025-01-01&date_to=2025-01-31").json()

    assert (body["first_contacts"], body["first_orders"], body["conversion_rate"]) == (0, 0, None)
    assert body["median_time_to_first_order_s"] is body["p90_time_to_first_order_s"] is None


def test_beta_sees_only_its_own_customers(api_b, journeys):
    body = api_b.get(f"/api/v1/analytics/journey?{PERIOD}&timezone=America/New_York").json()

    assert (body["first_contacts"], body["first_orders"], body["median_time_to_first_order_s"]) == (2, 1, 300)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("timezone=Mars/Olympus", "query.timezone"),
        ("date_from=2026-01-12&date_to=2026-01-10", "query.date_to"),
        ("date_from=2024-01-01&date_to=2026-01-10", "query.date_to"),
        ("date_from=yesterday", "query.date_from"),
    ],
)
def test_bad_queries_are_422_naming_the_field(api_a, new_york, tenant_a, in_tenant, query, field):
    with in_tenant(tenant_a):
        workflow = Workflow.objects.create(name="shop", definition=DEFINITION)
    for path in ("/api/v1/analytics/journey", f"/api/v1/analytics/workflows/{workflow.pk}/funnel"):
        response = api_a.get(f"{path}?{query}")

        assert response.status_code == 422, response.content
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"][0]["field"] == field


# --- funnels ---------------------------------------------------------------------------------


def visit(workflow, contact, number, step, at):
    WorkflowStepVisit.objects.create(
        workflow=workflow, workflow_version=1, step=step, contact=contact, phone_number=number, entered_at=at
    )


@pytest.fixture
def shop(tenant_a, in_tenant, new_york):
    with in_tenant(tenant_a):
        workflow = Workflow.objects.create(name="shop", definition=DEFINITION)
        other = Workflow.objects.create(name="support", definition=DEFINITION)
        ada, bo, cy, di = (ContactFactory() for _ in range(4))
        inside = START + timedelta(hours=1)
        for step in ("menu", "ask_quantity", "confirm", "menu"):  # the menu twice: one contact
            visit(workflow, ada, new_york, step, inside)
        for step in ("menu", "info", "retired_step"):  # a step the workflow no longer has
            visit(workflow, bo, new_york, step, inside)
        visit(workflow, cy, new_york, "menu", END - MINUTE)
        visit(workflow, cy, new_york, "ask_quantity", END)  # 00:00 on 12 Jan in New York: outside
        visit(workflow, di, new_york, "menu", START - MINUTE)  # 23:59 on 9 Jan: outside
        for contact in (bo, cy, di):
            visit(other, contact, new_york, "ask_quantity", inside)  # another workflow's
    return workflow


def test_the_funnel_counts_contacts_per_step_in_the_workflow_order(api_a, shop):
    response = api_a.get(f"/api/v1/analytics/workflows/{shop.pk}/funnel?{PERIOD}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["workflow_id"], body["name"], body["timezone"], body["contacts"]) == (
        shop.pk,
        "shop",
        "America/New_York",
        3,
    )
    assert body["steps"] == [
        {"step": "menu", "after": None, "contacts": 3, "share_of_first": 1.0, "drop": None, "drop_rate": None},
        {"step": "ask_quantity", "after": "menu", "contacts": 1, "share_of_first": 0.3333, "drop": 2,
         "drop_rate": 0.6667},
        {"step": "info", "after": "menu", "contacts": 1, "share_of_first": 0.3333, "drop": 2, "drop_rate": 0.6667},
        {"step": "confirm", "after": "ask_quantity", "contacts": 1, "share_of_first": 0.3333, "drop": 0,
         "drop_rate": 0.0},
        {"step": "retired_step", "after": None, "contacts": 1, "share_of_first": 0.3333, "drop": None,
         "drop_rate": None},
    ]


def test_another_workspaces_workflow_is_404(api_b, api_a, shop, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        own = set(Workflow.objects.values_list("pk", flat=True))
    assert shop.pk not in own

    response = api_b.get(f"/api/v1/analytics/workflows/{shop.pk}/funnel?{PERIOD}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "workflow_not_found"
    assert api_a.get(f"/api/v1/analytics/workflows/{shop.pk + 1000}/funnel").status_code == 404


def test_the_engine_records_each_step_a_message_leads_through(api_a, tenant_a, in_tenant, new_york):
    """A tapped "Place Order" leads from the main menu into the ordering workflow: one visit each."""
    now = datetime(2026, 1, 10, 15, tzinfo=UTC)
    with in_tenant(tenant_a):
        builtins_install()
        contact = ContactFactory(first_seen_at=now)
        hello = inbound_message_create(number=new_york, contact=contact, at=now, text="Hi")
        automation_handle_inbound(message=hello, now=now)
        tap = inbound_message_create(number=new_york, contact=contact, at=now + MINUTE,
                                     button=("place_order", "Place Order"))
        automation_handle_inbound(message=tap, now=now + MINUTE)
        visits = list(WorkflowStepVisit.objects.order_by("entered_at", "id").values_list(
            "workflow__name", "step", "contact_id", "phone_number_id", "entered_at"))
        new_order = Workflow.objects.get(name="new_order")

    assert visits == [
        ("main_menu", "menu", contact.pk, new_york.pk, now),
        ("new_order", "choose_product", contact.pk, new_york.pk, now + MINUTE),
    ]
    steps = api_a.get(f"/api/v1/analytics/workflows/{new_order.pk}/funnel?{PERIOD}").json()["steps"]
    assert steps[0] == {"step": "choose_product", "after": None, "contacts": 1, "share_of_first": 1.0,
                        "drop": None, "drop_rate": None}
    assert all(step["contacts"] == 0 for step in steps[1:])
