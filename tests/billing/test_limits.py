"""Plan limits: sending past the allowance (block policy) and adding accounts or numbers past the plan get 402."""

from __future__ import annotations

from django.utils import timezone

from billing.plans.models import PlanVersion
from billing.plans.periods import period_bounds
from messaging.models import Message
from tests.billing.factories import plan_version, send_text, subscribe
from tests.factories import MessageFactory, PhoneNumberFactory
from waba.models import WhatsAppAccount


def already_sent(tenant, in_tenant, window, count):
    with in_tenant(tenant):
        for _ in range(count):
            MessageFactory(conversation=window, direction=Message.Direction.OUTBOUND)


def test_a_send_that_reaches_the_allowance_exactly_is_allowed(
    api_a, tenant_a, in_tenant, number_a, open_window_a
):
    subscribe(tenant_a, plan_version(included_messages={"service": 3}))
    already_sent(tenant_a, in_tenant, open_window_a, 2)

    response = send_text(api_a, number_a, open_window_a)

    assert response.status_code == 202, response.json()


def test_a_send_past_the_allowance_is_refused_with_402_and_the_figures(
    api_a, tenant_a, in_tenant, number_a, open_window_a
):
    subscription = subscribe(tenant_a, plan_version(included_messages={"service": 3}))
    already_sent(tenant_a, in_tenant, open_window_a, 3)

    response = send_text(api_a, number_a, open_window_a)

    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "plan_limit_reached"
    assert error["details"]["limit"] == 3
    assert error["details"]["used"] == 3
    assert error["details"]["category"] == "service"
    _, end = period_bounds(anchor_day=subscription.anchor_day, at=timezone.now())
    assert error["details"]["resets_at"] == end.isoformat()
    with in_tenant(tenant_a):
        assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 3  # nothing queued


def test_failed_messages_and_other_categories_do_not_use_the_allowance(
    api_a, tenant_a, in_tenant, number_a, open_window_a
):
    subscribe(tenant_a, plan_version(included_messages={"service": 1, "marketing": 0}))
    with in_tenant(tenant_a):
        MessageFactory(
            conversation=open_window_a, direction=Message.Direction.OUTBOUND, status=Message.Status.FAILED
        )

    assert send_text(api_a, number_a, open_window_a).status_code == 202


def test_the_bill_policy_never_refuses(api_a, tenant_a, in_tenant, number_a, open_window_a):
    subscribe(
        tenant_a,
        plan_version(included_messages={"service": 0}, overage_policy=PlanVersion.OveragePolicy.BILL),
    )

    assert send_text(api_a, number_a, open_window_a).status_code == 202


def test_another_tenants_plan_does_not_limit_this_one(
    api_a, tenant_a, tenant_b, in_tenant, number_a, open_window_a
):
    subscribe(tenant_b, plan_version(included_messages={"service": 0}))

    assert send_text(api_a, number_a, open_window_a).status_code == 202


def test_adding_an_account_past_the_plan_is_refused_with_402(api_a, tenant_a, in_tenant):
    subscribe(tenant_a, plan_version(max_accounts=1))

    assert api_a.post_json("/api/v1/accounts", {"display_name": "First"}).status_code == 201
    response = api_a.post_json("/api/v1/accounts", {"display_name": "Second"})

    assert response.status_code == 402
    assert response.json()["error"]["details"] == {
        "resource": "accounts",
        "limit": 1,
        "used": 1,
        "resets_at": None,
    }
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.count() == 1


def test_adding_a_number_past_the_plan_is_refused_with_402(api_a, tenant_a, in_tenant, number_a):
    subscribe(tenant_a, plan_version(max_phone_numbers=1))
    with in_tenant(tenant_a):
        account = WhatsAppAccount.objects.create(display_name="Draft")

    response = api_a.post_json(
        f"/api/v1/accounts/{account.pk}/phone-numbers",
        {"phone_number_id": "109999999999", "phone_number": "+14155550199"},
    )

    assert response.status_code == 402, response.json()
    assert response.json()["error"]["code"] == "plan_limit_reached"
    with in_tenant(tenant_a):
        assert PhoneNumberFactory._meta.model.objects.count() == 1
