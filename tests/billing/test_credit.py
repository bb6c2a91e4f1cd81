"""The prepaid balance: top-ups by the platform, the draw-down once per metered message, spend
alerts once per crossing, sending stopped at zero when the plan says so, and only one's own balance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import mail

from billing.credit import credit_top_up
from billing.metering import messages_meter
from billing.plans.models import CreditAccount, CreditAlert, CreditMovement
from messaging.models import Message
from tenants.services import api_key_create
from tests.billing.factories import delivered, outbound, plan_version, pricing, send_text, subscribe
from tests.conftest import ApiClient

GERMANY = "4915112345"  # marketing in Germany: 0.1365 USD on the rate card


@pytest.fixture
def admin_a(tenant_a, in_tenant) -> User:
    with in_tenant(tenant_a):
        return User.objects.create_superuser("owner", email="owner@alpha.test", password=None)


def deliver_marketing(tenant, in_tenant, count: int) -> None:
    with in_tenant(tenant):
        for index in range(count):
            delivered(outbound(wa_id=f"{GERMANY}{index:03d}"), pricing("marketing"))


def meter(tenant, in_tenant, capture) -> None:
    with in_tenant(tenant), capture(execute=True):
        messages_meter()


def usage_movements(tenant) -> list[CreditMovement]:
    return list(
        CreditMovement.objects.filter(account__tenant=tenant, kind=CreditMovement.Kind.USAGE).order_by("id")
    )


def test_the_platform_tops_up_and_the_first_top_up_opens_the_account_in_the_plans_currency(
    platform_api, tenant_a
):
    subscribe(tenant_a, plan_version(currency="EUR", usd_rate=Decimal("0.9")))

    first = platform_api.post_json(
        f"/api/platform/billing/credit/{tenant_a.slug}/top-ups", {"amount": "25.00", "note": "INV-1"}
    )
    second = platform_api.post_json(
        f"/api/platform/billing/credit/{tenant_a.slug}/top-ups",
        {"amount": "10.50", "alert_percents": [90, 50]},
    )

    assert first.status_code == 201, first.json()
    assert first.json()["currency"] == "EUR" and Decimal(first.json()["balance"]) == Decimal("25")
    assert second.status_code == 201
    body = second.json()
    assert Decimal(body["balance"]) == Decimal("35.5") and Decimal(body["alert_base"]) == Decimal("35.5")
    assert body["alert_percents"] == [50, 90] and body["alerts"] == []
    movements = platform_api.get(f"/api/platform/billing/credit/{tenant_a.slug}/movements").json()["items"]
    assert [(row["kind"], Decimal(row["amount"]), row["note"]) for row in movements] == [
        ("top_up", Decimal("10.5"), ""),
        ("top_up", Decimal("25"), "INV-1"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "5", "alert_percents": [0]}, "alert_percents"),
        ({"amount": "5", "alert_percents": [101]}, "alert_percents"),
    ],
)
def test_a_bad_top_up_is_refused_with_422_naming_the_field(platform_api, tenant_a, body, field):
    response = platform_api.post_json(f"/api/platform/billing/credit/{tenant_a.slug}/top-ups", body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert field in str(response.json()["error"]["details"])
    assert not CreditAccount.objects.filter(tenant=tenant_a).exists()


def test_top_ups_need_the_billing_scope_and_an_existing_tenant(platform_api, tenant_a):
    tenants_only = ApiClient(
        "localhost", api_key_create(tenant=None, name="t", scopes=("tenants:write",)).key
    )

    refused = tenants_only.post_json(f"/api/platform/billing/credit/{tenant_a.slug}/top-ups", {"amount": "5"})
    missing = platform_api.post_json("/api/platform/billing/credit/no-such-tenant/top-ups", {"amount": "5"})

    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert platform_api.get(f"/api/platform/billing/credit/{tenant_a.slug}").json()["error"]["code"] == (
        "no_credit_account"
    )


def test_metering_draws_the_cost_plus_markup_once_in_one_movement_per_run(
    tenant_a, in_tenant, django_capture_on_commit_callbacks
):
    subscribe(tenant_a, plan_version(markup_percent=Decimal("10")))
    credit_top_up(tenant=tenant_a, amount=Decimal("10.00"))
    deliver_marketing(tenant_a, in_tenant, 2)
    with in_tenant(tenant_a):
        delivered(outbound(), pricing("utility", "free_customer_service", billable=False))

    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)

    [movement] = usage_movements(tenant_a)
    assert movement.amount == Decimal("-0.300300")  # 2 x 0.1365 x 1.10
    assert movement.messages == 2
    assert CreditAccount.objects.get(tenant=tenant_a).balance == Decimal("9.699700")

    deliver_marketing(tenant_a, in_tenant, 1)
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)

    assert [m.amount for m in usage_movements(tenant_a)] == [Decimal("-0.300300"), Decimal("-0.150150")]
    assert CreditAccount.objects.get(tenant=tenant_a).balance == Decimal("9.549550")


def test_messages_metered_before_the_account_was_opened_are_not_drawn(
    tenant_a, in_tenant, django_capture_on_commit_callbacks
):
    deliver_marketing(tenant_a, in_tenant, 1)
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)
    credit_top_up(tenant=tenant_a, amount=Decimal("5.00"))

    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)

    assert usage_movements(tenant_a) == []
    assert CreditAccount.objects.get(tenant=tenant_a).balance == Decimal("5")


def test_each_alert_threshold_mails_the_admins_once_per_crossing(
    tenant_a, in_tenant, admin_a, user_a, django_capture_on_commit_callbacks
):
    subscribe(tenant_a, plan_version())
    credit_top_up(tenant=tenant_a, amount=Decimal("1.00"), alert_percents=[10, 50, 100])

    deliver_marketing(tenant_a, in_tenant, 1)  # 0.1365 used: past 10 %
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@alpha.test"]  # the superuser, not the plain user ana
    assert mail.outbox[0].subject == "You have used 10 % of your WhatsApp credit"
    assert "0.86 USD is left" in mail.outbox[0].body

    deliver_marketing(tenant_a, in_tenant, 6)  # 0.9555 used in all: past 50 %, not 100 %
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)
    deliver_marketing(tenant_a, in_tenant, 1)  # past 100 %
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)

    assert [message.subject for message in mail.outbox] == [
        "You have used 10 % of your WhatsApp credit",
        "You have used 50 % of your WhatsApp credit",
        "Your WhatsApp credit is used up",
    ]
    assert sorted(CreditAlert.objects.filter(account__tenant=tenant_a).values_list("percent", flat=True)) == [
        10,
        50,
        100,
    ]

    credit_top_up(tenant=tenant_a, amount=Decimal("1.00"))  # counts again from the new balance
    deliver_marketing(tenant_a, in_tenant, 1)
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 4


def test_a_prepaid_plan_stops_sending_at_zero_with_the_balance_in_the_error(
    api_a, tenant_a, in_tenant, number_a, open_window_a, django_capture_on_commit_callbacks
):
    subscribe(tenant_a, plan_version(stop_at_zero_balance=True, currency="EUR"))

    never_topped_up = send_text(api_a, number_a, open_window_a)

    assert never_topped_up.status_code == 402
    assert never_topped_up.json()["error"]["code"] == "balance_exhausted"
    assert never_topped_up.json()["error"]["details"] == {"balance": "0.00", "currency": "EUR"}

    credit_top_up(tenant=tenant_a, amount=Decimal("0.10"))
    assert send_text(api_a, number_a, open_window_a).status_code == 202
    deliver_marketing(tenant_a, in_tenant, 1)
    meter(tenant_a, in_tenant, django_capture_on_commit_callbacks)

    refused = send_text(api_a, number_a, open_window_a)

    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "balance_exhausted"
    assert error["details"] == {"balance": "-0.04", "currency": "EUR"}
    assert "-0.04 EUR" in error["message"]
    with in_tenant(tenant_a):
        assert (
            Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 2
        )  # one sent, one metered


def test_a_plan_without_the_stop_keeps_sending_below_zero(
    api_a, tenant_a, in_tenant, number_a, open_window_a
):
    subscribe(tenant_a, plan_version())
    credit_top_up(tenant=tenant_a, amount=Decimal("0.01"))
    CreditAccount.objects.filter(tenant=tenant_a).update(balance=Decimal("-3"))

    assert send_text(api_a, number_a, open_window_a).status_code == 202


def test_another_tenants_balance_neither_shows_nor_stops_this_one(
    api_a, api_b, tenant_a, tenant_b, in_tenant, number_a, open_window_a
):
    subscribe(tenant_a, plan_version(stop_at_zero_balance=True))
    subscribe(tenant_b, plan_version("other", stop_at_zero_balance=True))
    credit_top_up(tenant=tenant_a, amount=Decimal("5.00"))

    assert api_a.get("/api/v1/billing/credit").json()["balance"].startswith("5")
    assert api_b.get("/api/v1/billing/credit").status_code == 404
    assert send_text(api_a, number_a, open_window_a).status_code == 202


def test_a_plan_says_whether_it_stops_at_zero_balance(platform_api):
    created = platform_api.post_json(
        "/api/platform/billing/plans",
        {"code": "prepaid", "name": "Prepaid", "terms": {"stop_at_zero_balance": True}},
    )

    assert created.status_code == 201, created.json()
    assert created.json()["stop_at_zero_balance"] is True
    listed = platform_api.get("/api/platform/billing/plans").json()["items"]
    assert [row["stop_at_zero_balance"] for row in listed if row["plan_code"] == "prepaid"] == [True]
