"""The prepaid balance in the consoles: the tenant's billing page shows its balance and the latest
spend alert; the platform's billing page tops a balance up with a form."""

from __future__ import annotations

from decimal import Decimal

from billing.credit import credit_top_up
from billing.plans.models import CreditAccount, CreditMovement
from tests.billing.factories import delivered, outbound, plan_version, pricing, subscribe


def csrf_post(client, path, data):
    client.get(path)
    return client.post(path, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def test_the_tenant_page_shows_the_balance_and_the_alert_once_crossed(console_a, tenant_a, in_tenant):
    subscribe(tenant_a, plan_version(stop_at_zero_balance=True))
    credit_top_up(tenant=tenant_a, amount=Decimal("0.20"), alert_percents=[50, 100])

    before = console_a.get("/app/billing/").content.decode()

    assert 'data-testid="credit-balance">0.20 USD' in before
    assert "of your credit is used" not in before
    with in_tenant(tenant_a):
        delivered(outbound(wa_id="4915112345999"), pricing("marketing"))  # 0.1365 of 0.20: past 50 %

    after = console_a.get("/app/billing/").content.decode()  # the page meters, which draws

    assert 'data-testid="credit-balance">0.06 USD' in after
    assert "<strong>50 % of your credit is used.</strong>" in after
    with in_tenant(tenant_a):
        delivered(outbound(wa_id="4915112345998"), pricing("marketing"))
    used_up = console_a.get("/app/billing/").content.decode()
    assert "Your prepaid credit is used up.</strong> Sending is stopped until a top-up." in used_up


def test_a_tenant_without_a_balance_sees_no_balance_and_not_anothers(console_a, tenant_b):
    credit_top_up(tenant=tenant_b, amount=Decimal("99.00"))

    page = console_a.get("/app/billing/").content.decode()

    assert "Prepaid balance" not in page and "99.00" not in page


def test_the_platform_tops_up_with_the_form_and_lists_the_balance(platform_console, tenant_a):
    response = csrf_post(
        platform_console, "/app/billing/", {"tenant": tenant_a.slug, "amount": "12.50", "note": "INV-7"}
    )

    assert response.status_code == 302
    movement = CreditMovement.objects.get(account__tenant=tenant_a)
    assert movement.amount == Decimal("12.5") and movement.note == "INV-7"
    assert movement.created_by == "console:operator"
    page = platform_console.get("/app/billing/").content.decode()
    assert "Alpha Coffee: 12.50 added; the balance is 12.50 USD." in page
    assert f'data-testid="balance-{tenant_a.slug}">12.50 USD' in page


def test_the_platform_form_refuses_a_bad_amount_or_an_unknown_tenant(platform_console, tenant_a):
    bad_amount = csrf_post(platform_console, "/app/billing/", {"tenant": tenant_a.slug, "amount": "-1"})
    unknown = csrf_post(platform_console, "/app/billing/", {"tenant": "no-such-tenant", "amount": "5"})

    assert bad_amount.status_code == 422 and "greater than or equal to 0.01" in bad_amount.content.decode()
    assert unknown.status_code == 422 and "Select a valid choice" in unknown.content.decode()
    assert not CreditAccount.objects.exists()


def test_a_tenant_user_cannot_top_up_on_its_own_host(console_a, tenant_a):
    console_a.get("/app/billing/")
    response = console_a.post(
        "/app/billing/",
        {
            "tenant": tenant_a.slug,
            "amount": "1000",
            "csrfmiddlewaretoken": console_a.cookies["csrftoken"].value,
        },
    )

    assert response.status_code == 405
    assert not CreditAccount.objects.exists()
