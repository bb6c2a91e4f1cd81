"""The accounts pages: the list, an account's numbers and health, templates, Flows (publish and
deprecate against the Graph API simulator) and the menus and workflows previewed as a phone shows them.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from analytics.models import AccountHealthEvent, AccountHealthLog
from automations.seeds import builtins_install
from flows_builder.models import WhatsAppFlow
from tests.conftest import host_of
from tests.console.test_auth import _csrf
from tests.factories import AccountFactory, PhoneNumberFactory, TemplateFactory
from tests.flows_builder.factories import (
    ACCESS_TOKEN,
    APP_ID,
    APP_SECRET,
    PHONE_NUMBER_ID,
    WABA_ID,
    WhatsAppAccountFactory,
    WhatsAppFlowFactory,
)
from waba.models import WhatsAppAccount


@pytest.fixture
def sim(graph_simulator):
    """The simulator seeded with the flows tests' WABA, as tests/flows_builder seeds it."""
    graph_simulator.seed(
        {
            "apps": [{"app_id": APP_ID, "app_secret": APP_SECRET}],
            "wabas": [
                {
                    "id": WABA_ID,
                    "app_id": APP_ID,
                    "phone_numbers": [{"id": PHONE_NUMBER_ID, "display_phone_number": "+1 555-010-0777"}],
                }
            ],
            "tokens": [{"token": ACCESS_TOKEN, "app_id": APP_ID, "waba_ids": [WABA_ID]}],
        }
    )
    yield graph_simulator
    graph_simulator.simulator.faults.clear()


@pytest.fixture
def account(tenant_a, in_tenant):
    """Alpha's live account with a number whose last health check found problems."""
    with in_tenant(tenant_a):
        account = WhatsAppAccountFactory.create()
        phone = PhoneNumberFactory.create(
            account=account,
            phone_number_id=PHONE_NUMBER_ID,
            display_phone_number="+1 555-010-0777",
            verified_name="Alpha Solar",
            quality_rating="YELLOW",
            messaging_limit_tier="TIER_2K",
            throughput_level="STANDARD",
            throughput_mps=80,
            status="FLAGGED",
        )
        AccountHealthLog.objects.create(
            account=account,
            checked_at=timezone.now(),
            healthy=False,
            findings=[
                {
                    "check": "token",
                    "severity": "warning",
                    "code": "token_expiring",
                    "message": "The access token expires in 3 days.",
                },
                {
                    "check": "phone_number",
                    "severity": "error",
                    "code": "number_flagged",
                    "message": "Meta flagged the number: quality is low.",
                    "phone_number_id": PHONE_NUMBER_ID,
                },
            ],
        )
        AccountHealthEvent.objects.create(
            account=account,
            phone_number=phone,
            kind="quality_downgrade",
            old_value="GREEN",
            new_value="YELLOW",
            occurred_at=timezone.now(),
        )
        return account


def _foreign_ids(tenant_a, tenant_b, in_tenant) -> tuple[int, int]:
    """An account and a flow of beta whose ids alpha does not have."""
    with in_tenant(tenant_a):
        accounts = set(WhatsAppAccount.objects.values_list("pk", flat=True))
        flows = set(WhatsAppFlow.objects.values_list("pk", flat=True))
    with in_tenant(tenant_b):
        account = AccountFactory.create()
        while account.pk in accounts:
            account = AccountFactory.create()
        flow = WhatsAppFlowFactory.create(account=account)
        while flow.pk in flows:
            flow = WhatsAppFlowFactory.create(account=account, name=f"other_{flow.pk}")
        return account.pk, flow.pk


def _post(client, page: str, action: str):
    return client.post(action, {"csrfmiddlewaretoken": _csrf(client, page)})


def test_the_list_shows_this_workspaces_accounts_only(console_a, account, tenant_b, in_tenant):
    with in_tenant(tenant_b):
        AccountFactory.create(display_name="Beta Bakery")

    page = console_a.get("/app/accounts/")

    assert page.status_code == 200
    body = page.content.decode()
    assert f'<a href="/app/accounts/{account.pk}/">Alpha Solar</a>' in body
    assert "Beta Bakery" not in body
    assert "+1 555-010-0777" in body and "badge-yellow" in body
    assert 'aria-current="page"' in body


def test_an_account_shows_its_numbers_with_quality_tier_throughput_and_health(console_a, account):
    body = console_a.get(f"/app/accounts/{account.pk}/").content.decode()

    assert "Alpha Solar" in body and WABA_ID in body
    assert '<span class="badge badge-flagged">Flagged</span>' in body
    assert '<span class="badge badge-yellow">Yellow</span>' in body
    assert "2,000 customers / 24 h" in body and "TIER_2K" in body
    assert "80 msg/s" in body and "standard" in body
    assert "Meta flagged the number: quality is low." in body  # the number's finding, on its row
    assert "The access token expires in 3 days." in body  # the account's finding
    assert "Unhealthy" in body
    assert "Quality dropped: GREEN → YELLOW" in body


def test_templates_show_status_rejection_reason_quality_and_a_preview(
    console_a, account, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        TemplateFactory.create(
            account=account,
            name="order_shipped",
            quality_score="GREEN",
            components=[
                {"type": "HEADER", "format": "TEXT", "text": "Good news"},
                {"type": "BODY", "text": "Hello {{1}}, your order {{2}} is on its way."},
                {"type": "FOOTER", "text": "Alpha Solar"},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Track it"}]},
            ],
        )
        TemplateFactory.create(
            account=account,
            name="summer_sale",
            category="MARKETING",
            status="REJECTED",
            rejection_reason="INVALID_FORMAT",
        )

    body = console_a.get(f"/app/accounts/{account.pk}/").content.decode()

    assert '<span class="badge badge-approved">Approved</span>' in body
    assert '<span class="badge badge-rejected">Rejected</span>' in body
    assert "Reason: INVALID_FORMAT" in body
    assert '<span class="badge badge-green">Green</span>' in body
    assert '<p class="phone-header">Good news</p>' in body
    assert "Hello {{1}}, your order {{2}} is on its way." in body
    assert '<p class="phone-footer">Alpha Solar</p>' in body
    assert "<li>Track it</li>" in body


def test_menus_and_workflows_are_previewed_as_a_phone_shows_them(console_a, account, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        builtins_install()

    body = console_a.get(f"/app/accounts/{account.pk}/").content.decode()

    menus = body[body.index('id="menus"') : body.index('id="workflows"')]
    assert "main_menu" in menus
    assert "Hello! How can we help you today?" in menus
    assert "<li>Track Order</li>" in menus  # a reply button
    workflows = body[body.index('id="workflows"') :]
    assert "new_order" in workflows
    assert 'class="phone-list-button"' in workflows  # a list message: its button and sections
    assert 'class="phone-section-title"' in workflows
    assert "Start</span>" in workflows
    # Steps in the order a conversation meets them: the start first, the order placed last.
    assert workflows.index("<code>choose_product</code>") < workflows.index("<code>place</code>")


def test_publishing_a_flow_from_the_page_reaches_meta_and_says_so(
    sim, console_a, account, tenant_a, in_tenant
):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory.create(account=account)
    page = f"/app/accounts/{account.pk}/"
    assert (
        f'action="/app/accounts/{account.pk}/flows/{flow.pk}/publish/"'
        in console_a.get(page).content.decode()
    )

    response = _post(console_a, page, f"/app/accounts/{account.pk}/flows/{flow.pk}/publish/")

    assert response.status_code == 302 and response.url == f"{page}#flows"
    calls = [(r["method"], r["edge"]) for r in sim.requests()]
    assert calls == [("POST", "flows"), ("POST", "assets"), ("POST", "publish")]
    assert sim.requests()[0]["authorization"] == "Bearer …" + ACCESS_TOKEN[-4:]
    with in_tenant(tenant_a):
        flow.refresh_from_db()
    assert sim.state.flows[flow.meta_flow_id].status == "PUBLISHED"
    body = console_a.get(page).content.decode()
    assert "Starlink" in body and "created, uploaded, published." in body
    assert '<span class="badge badge-published">Published</span>' in body
    assert f'action="/app/accounts/{account.pk}/flows/{flow.pk}/deprecate/"' in body

    response = _post(console_a, page, f"/app/accounts/{account.pk}/flows/{flow.pk}/deprecate/")

    assert response.status_code == 302
    assert sim.requests()[-1]["method"] == "POST" and sim.requests()[-1]["edge"] == "deprecate"
    assert sim.state.flows[flow.meta_flow_id].status == "DEPRECATED"
    body = console_a.get(page).content.decode()
    assert "is deprecated: it can no longer be sent." in body
    assert '<span class="badge badge-deprecated">Deprecated</span>' in body


def test_a_refused_flow_action_is_shown_as_an_error(sim, console_a, account, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory.create(account=account)
    page = f"/app/accounts/{account.pk}/"

    response = _post(console_a, page, f"/app/accounts/{account.pk}/flows/{flow.pk}/deprecate/")

    assert response.status_code == 302
    body = console_a.get(page).content.decode()
    assert '<li class="flash-error">Could not deprecate' in body
    assert "Only a published flow can be deprecated" in body
    assert sim.requests() == []


def test_flow_actions_need_a_post_with_csrf(console_a, account, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory.create(account=account)
    assert console_a.get(f"/app/accounts/{account.pk}/flows/{flow.pk}/publish/").status_code == 405
    assert console_a.post(f"/app/accounts/{account.pk}/flows/{flow.pk}/publish/").status_code == 403


def test_another_tenants_account_and_flow_are_404(sim, console_a, account, tenant_a, tenant_b, in_tenant):
    foreign_account, foreign_flow = _foreign_ids(tenant_a, tenant_b, in_tenant)
    page = f"/app/accounts/{account.pk}/"

    assert console_a.get(f"/app/accounts/{foreign_account}/").status_code == 404
    for action in ("publish", "deprecate"):
        assert (
            _post(
                console_a, page, f"/app/accounts/{foreign_account}/flows/{foreign_flow}/{action}/"
            ).status_code
            == 404
        )
        assert (
            _post(console_a, page, f"/app/accounts/{account.pk}/flows/{foreign_flow}/{action}/").status_code
            == 404
        )
    assert sim.requests() == []
    with in_tenant(tenant_b):
        assert WhatsAppFlow.objects.get(pk=foreign_flow).meta_flow_id == ""


def test_a_flow_of_another_account_is_404_under_this_one(sim, console_a, account, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        other = AccountFactory.create()
        flow = WhatsAppFlowFactory.create(account=account)
    page = f"/app/accounts/{account.pk}/"
    assert _post(console_a, page, f"/app/accounts/{other.pk}/flows/{flow.pk}/publish/").status_code == 404
    assert sim.requests() == []


def test_another_tenants_session_is_sent_to_the_login_page(console_b, account, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        flow = WhatsAppFlowFactory.create(account=account)
    alpha = host_of(tenant_a)
    for path in ("/app/accounts/", f"/app/accounts/{account.pk}/"):
        response = console_b.get(path, HTTP_HOST=alpha)
        assert response.status_code == 302 and response.url.startswith("/app/login/"), path
    login = console_b.get("/app/login/", HTTP_HOST=alpha).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    for action in ("publish", "deprecate"):
        response = console_b.post(
            f"/app/accounts/{account.pk}/flows/{flow.pk}/{action}/",
            {"csrfmiddlewaretoken": token},
            HTTP_HOST=alpha,
        )
        assert response.status_code == 302 and response.url.startswith("/app/login/")
    with in_tenant(tenant_a):
        assert WhatsAppFlow.objects.get(pk=flow.pk).meta_flow_id == ""
