"""Plans and subscriptions in the platform console: an operator creates a plan, publishes a version,
puts a tenant on a plan and changes it, with the same rules as the platform API; nobody else reaches
these pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from billing.plans import services
from billing.plans.errors import PlanCodeTaken
from billing.plans.models import Plan, PlanChange, PlanVersion, Statement, Subscription
from billing.plans.periods import period_bounds
from tests.billing.factories import plan_version, subscribe
from tests.console.conftest import PASSWORD, console_client

PLAN_FORM = {
    "code": "scale",
    "name": "Scale",
    "monthly_fee": "120.00",
    "currency": "EUR",
    "usd_rate": "0.92",
    "markup_percent": "12.5",
    "overage_policy": "bill",
    "included_marketing": "1000",
    "included_utility": "",
    "included_authentication": "500",
    "included_authentication_international": "",
    "included_service": "",
    "overage_marketing": "0.05",
    "overage_utility": "",
    "overage_authentication": "",
    "overage_authentication_international": "",
    "overage_service": "",
    "max_accounts": "2",
    "max_phone_numbers": "",
    "max_users": "10",
    "stop_at_zero_balance": "on",
    "features": '{"flows": true}',
}


def csrf_post(client, path, data):
    client.get("/app/billing/plans/")
    return client.post(path, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def field_errors(response, field: str) -> str:
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_errors">(.*?)</ul>', response.content.decode(), re.S
    )
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip() if match else ""


def test_the_operator_creates_a_plan_with_every_term(platform_console):
    response = csrf_post(platform_console, "/app/billing/plans/new", PLAN_FORM)

    assert response.status_code == 302 and response.url == "/app/billing/plans/"
    version = PlanVersion.objects.select_related("plan").get(plan__code="scale")
    assert (version.plan.name, version.version) == ("Scale", 1)
    assert version.monthly_fee == Decimal("120.00") and version.currency == "EUR"
    assert version.usd_rate == Decimal("0.92") and version.markup_percent == Decimal("12.5")
    assert version.included_messages == {"marketing": 1000, "authentication": 500}
    assert version.overage_rates == {"marketing": "0.05"} and version.overage_policy == "bill"
    assert (version.max_accounts, version.max_phone_numbers, version.max_users) == (2, None, 10)
    assert version.stop_at_zero_balance is True and version.features == {"flows": True}
    page = text_of(platform_console.get("/app/billing/plans/"))
    assert "Plan Scale created with its version 1." in page
    assert 'Scale <span class="muted">v1</span>' in page and "120.00 EUR" in page
    assert "marketing: 1000" in page and "marketing: 0.05 EUR" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("monthly_fee", "-1", "greater than or equal to 0"),
        ("currency", "eur", "Not in the expected form: Three capital letters (ISO 4217), e.g. EUR."),
        ("currency", "EURO", "at most 3 characters"),
        ("usd_rate", "0", "greater than 0"),
        ("included_marketing", "-5", "greater than or equal to 0"),
        ("included_utility", "3000000000", "less than or equal to 2147483647"),
        ("max_users", "-1", "greater than or equal to 0"),
        ("markup_percent", "1.234", "no more than 2 decimal places"),
        ("code", "Not A Slug", "Not in the expected form: Lowercase letters, digits and hyphens"),
        ("features", "[1, 2]", "valid dictionary"),
        ("monthly_fee", "abc", "Enter a number."),
    ],
)
def test_a_bad_value_is_refused_next_to_its_field_and_writes_nothing(platform_console, field, value, message):
    response = csrf_post(platform_console, "/app/billing/plans/new", {**PLAN_FORM, field: value})

    assert response.status_code == 422
    assert message in field_errors(response, field)
    assert not Plan.objects.exists() and not PlanVersion.objects.exists()


def test_a_plan_code_in_use_is_refused_on_the_code_field(platform_console):
    plan_version("scale")

    response = csrf_post(platform_console, "/app/billing/plans/new", {**PLAN_FORM, "name": "Other"})

    assert response.status_code == 422
    assert "A plan with the code &#x27;scale&#x27; exists already." in field_errors(response, "code")
    assert list(Plan.objects.values_list("name", flat=True)) == ["Scale"]


def test_plan_create_refuses_a_code_in_use_and_writes_no_version(db):
    services.plan_create(code="pro", name="Pro")

    with pytest.raises(PlanCodeTaken) as refused:
        services.plan_create(code="pro", name="Pro again", terms={"monthly_fee": Decimal("1")})

    assert refused.value.code == "plan_code_taken" and refused.value.details == [{"field": "code"}]
    assert Plan.objects.count() == 1 and not PlanVersion.objects.exists()


def test_the_operator_publishes_a_version_from_the_current_terms(platform_console):
    first = plan_version("growth", included_messages={"marketing": 100}, max_users=3)

    form = platform_console.get("/app/billing/plans/growth/versions/new").content.decode()
    assert 'name="monthly_fee" value="49.00"' in form and 'name="included_marketing" value="100"' in form
    assert 'name="max_users" value="3"' in form
    terms = {key: value for key, value in PLAN_FORM.items() if key not in ("code", "name")}
    response = csrf_post(platform_console, "/app/billing/plans/growth/versions/new", terms)

    assert response.status_code == 302
    versions = list(PlanVersion.objects.filter(plan=first.plan).order_by("version"))
    assert [(v.version, v.monthly_fee) for v in versions] == [(1, Decimal("49.00")), (2, Decimal("120.00"))]
    page = text_of(platform_console.get("/app/billing/plans/"))
    assert "Growth v2 published." in page and "Growth v1</span>" in page


def test_a_bad_version_writes_nothing(platform_console):
    plan_version("growth")
    terms = {key: value for key, value in PLAN_FORM.items() if key not in ("code", "name")}

    response = csrf_post(
        platform_console, "/app/billing/plans/growth/versions/new", {**terms, "overage_marketing": "-0.5"}
    )

    assert response.status_code == 422
    assert "greater than or equal to 0" in field_errors(response, "overage_marketing")
    assert PlanVersion.objects.count() == 1


def test_a_version_used_by_a_closed_statement_shows_as_locked(platform_console, tenant_a):
    subscription = subscribe(tenant_a, plan_version("growth"))
    start, end = period_bounds(anchor_day=1, at=datetime(2026, 10, 15, tzinfo=UTC))
    Statement.objects.create(
        tenant=tenant_a,
        period_start=start,
        period_end=end,
        plan_version=subscription.plan_version,
        currency="USD",
        subtotal=Decimal("49"),
        tax_percent=Decimal("0"),
        tax_amount=Decimal("0"),
        total=Decimal("49"),
    )
    plan_version("growth", monthly_fee=Decimal("59.00"))

    page = text_of(platform_console.get("/app/billing/plans/"))

    earlier = re.search(r'<tr class="plan-earlier">(.*?)</tr>', page).group(1)
    assert "Growth v1" in earlier and ">locked</span>" in earlier
    current = re.search(r'data-testid="plan-growth"> <tr>(.*?)</tr>', page).group(1)
    assert "v2" in current and "locked" not in current
    form = text_of(platform_console.get("/app/billing/plans/growth/versions/new"))
    assert "Starts from the terms of v2." in form


def test_unknown_plan_is_a_404(platform_console):
    assert platform_console.get("/app/billing/plans/nope/versions/new").status_code == 404


def test_the_operator_puts_a_tenant_on_a_plan_with_a_trial(platform_console, tenant_a, tenant_b):
    version = plan_version("growth")
    listing = text_of(platform_console.get("/app/billing/subscriptions/"))
    assert "Alpha Coffee" in listing and "No subscription" in listing

    response = csrf_post(
        platform_console,
        f"/app/billing/subscriptions/{tenant_a.slug}/subscribe",
        {"plan_version": version.pk, "anchor_day": "15", "trial_ends_on": "2027-01-10", "tax_percent": "19"},
    )

    assert response.status_code == 302 and response.url == f"/app/billing/subscriptions/{tenant_a.slug}/"
    subscription = Subscription.objects.get(tenant=tenant_a)
    assert subscription.plan_version == version and subscription.anchor_day == 15
    assert subscription.status == "trialing" and subscription.trial_ends_at == datetime(
        2027, 1, 10, tzinfo=UTC
    )
    assert subscription.tax_percent == Decimal("19")
    assert not Subscription.objects.filter(tenant=tenant_b).exists()
    page = text_of(platform_console.get(f"/app/billing/subscriptions/{tenant_a.slug}/"))
    assert "Alpha Coffee is on Growth v1." in page and "Trialing" in page and "10 Jan 2027" in page
    row = re.search(
        rf'data-testid="subscription-{tenant_a.slug}">(.*?)</tr>',
        text_of(platform_console.get("/app/billing/subscriptions/")),
    ).group(1)
    assert "Growth v1" in row and "Trialing" in row and "15" in row


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"anchor_day": "29"}, "anchor_day", "less than or equal to 28"),
        ({"anchor_day": "0"}, "anchor_day", "greater than or equal to 1"),
        ({"tax_percent": "101"}, "tax_percent", "less than or equal to 100"),
        ({"plan_version": "999999"}, "plan_version", "Select a valid choice."),
        ({"trial_ends_on": "someday"}, "trial_ends_on", "Enter a valid date."),
    ],
)
def test_a_bad_subscription_is_refused_next_to_its_field(platform_console, tenant_a, data, field, message):
    version = plan_version("growth")
    form = {"plan_version": version.pk, "anchor_day": "1", "tax_percent": "0", **data}

    response = csrf_post(platform_console, f"/app/billing/subscriptions/{tenant_a.slug}/subscribe", form)

    assert response.status_code == 422 and message in field_errors(response, field)
    assert not Subscription.objects.exists()


def test_subscribing_a_tenant_twice_is_refused(platform_console, tenant_a):
    subscribe(tenant_a, plan_version("growth"))
    other = plan_version("pro")

    response = csrf_post(
        platform_console,
        f"/app/billing/subscriptions/{tenant_a.slug}/subscribe",
        {"plan_version": other.pk, "anchor_day": "1", "tax_percent": "0"},
    )

    assert response.status_code == 422
    assert "already has a subscription; change its plan instead." in response.content.decode()
    assert Subscription.objects.get(tenant=tenant_a).plan_version.plan.code == "growth"


def test_the_operator_changes_a_plan_now_and_at_the_next_period(platform_console, tenant_a):
    subscription = subscribe(tenant_a, plan_version("growth"), anchor_day=5)
    pro = plan_version("pro", monthly_fee=Decimal("99.00"))
    scale = plan_version("scale", monthly_fee=Decimal("199.00"))
    path = f"/app/billing/subscriptions/{tenant_a.slug}/plan"

    now = csrf_post(platform_console, path, {"plan_version": pro.pk, "timing": "now"})

    assert now.status_code == 302
    subscription.refresh_from_db()
    assert subscription.plan_version == pro and subscription.next_plan_version is None
    later = csrf_post(platform_console, path, {"plan_version": scale.pk, "timing": "next_period"})
    assert later.status_code == 302
    subscription.refresh_from_db()
    assert subscription.plan_version == pro and subscription.next_plan_version == scale
    changes = list(PlanChange.objects.filter(subscription=subscription).order_by("id"))
    assert [(c.from_version.plan.code, c.to_version.plan.code, c.timing) for c in changes] == [
        ("growth", "pro", "now"),
        ("pro", "scale", "next_period"),
    ]
    _, next_start = period_bounds(anchor_day=5, at=changes[1].created_at)
    assert changes[1].effective_at == next_start
    page = text_of(platform_console.get(f"/app/billing/subscriptions/{tenant_a.slug}/"))
    assert f"Alpha Coffee moves to Scale v1 on {next_start:%-d %b %Y}." in page
    assert "moves to Scale v1" in page
    history = re.search(r'<table class="table plan-changes">(.*?)</table>', page).group(1)
    assert history.index("Scale v1") < history.index("Growth v1")  # newest first
    assert "At the next period" in history and "Now" in history


def test_a_change_needs_a_version_and_a_timing(platform_console, tenant_a):
    subscription = subscribe(tenant_a, plan_version("growth"))

    response = csrf_post(
        platform_console, f"/app/billing/subscriptions/{tenant_a.slug}/plan", {"timing": "someday"}
    )

    assert response.status_code == 422
    assert "This field is required." in field_errors(response, "plan_version")
    assert "Select a valid choice." in field_errors(response, "timing")
    assert not PlanChange.objects.exists()
    assert Subscription.objects.get(pk=subscription.pk).plan_version.plan.code == "growth"


def test_changing_the_plan_of_a_tenant_without_a_subscription_is_a_404(platform_console, tenant_a):
    version = plan_version("growth")

    response = csrf_post(
        platform_console,
        f"/app/billing/subscriptions/{tenant_a.slug}/plan",
        {"plan_version": version.pk, "timing": "now"},
    )

    assert response.status_code == 404 and not PlanChange.objects.exists()


@pytest.mark.parametrize("slug", ["no-such-tenant", "public"])
def test_an_unknown_tenant_is_a_404(platform_console, slug):
    assert platform_console.get(f"/app/billing/subscriptions/{slug}/").status_code == 404


PAGES = [
    "/app/billing/plans/",
    "/app/billing/plans/new",
    "/app/billing/plans/growth/versions/new",
    "/app/billing/subscriptions/",
    "/app/billing/subscriptions/beta/",
]


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_or_a_non_staff_user_is_sent_to_log_in(path, db):
    plan_version("growth")
    anonymous = console_client("localhost").get(path)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/app/login/?next=")
    plain = console_client("localhost", User.objects.create_user("plain", password=PASSWORD))
    assert plain.get(path).status_code == 302


@pytest.mark.parametrize("path", PAGES)
def test_a_tenants_console_user_gets_a_404_on_its_own_host(path, console_a, tenant_b):
    plan_version("growth")
    assert console_a.get(path).status_code == 404


def test_a_tenants_console_user_cannot_subscribe_or_change_another_tenant(console_a, tenant_a, tenant_b):
    subscribe(tenant_b, plan_version("growth"))
    pro = plan_version("pro")
    console_a.get("/app/billing/")
    token = console_a.cookies["csrftoken"].value

    posts = [
        (f"/app/billing/subscriptions/{tenant_b.slug}/plan", {"plan_version": pro.pk, "timing": "now"}),
        (
            f"/app/billing/subscriptions/{tenant_a.slug}/subscribe",
            {"plan_version": pro.pk, "anchor_day": "1"},
        ),
        ("/app/billing/plans/new", PLAN_FORM),
    ]
    for path, data in posts:
        assert console_a.post(path, {**data, "csrfmiddlewaretoken": token}).status_code == 404

    assert Subscription.objects.get(tenant=tenant_b).plan_version.plan.code == "growth"
    assert not Subscription.objects.filter(tenant=tenant_a).exists()
    assert not PlanChange.objects.exists() and not Plan.objects.filter(code="scale").exists()


def test_the_billing_page_links_to_plans_and_subscriptions(platform_console):
    page = platform_console.get("/app/billing/").content.decode()
    assert 'href="/app/billing/plans/"' in page and 'href="/app/billing/subscriptions/"' in page


def test_the_platform_api_refuses_a_negative_overage_rate_and_a_code_in_use(platform_api):
    plan_version("scale")

    negative = platform_api.post_json(
        "/api/platform/billing/plans",
        {"code": "pro", "name": "Pro", "terms": {"overage_rates": {"marketing": "-0.01"}}},
    )
    taken = platform_api.post_json(
        "/api/platform/billing/plans", {"code": "scale", "name": "Again", "terms": {}}
    )

    assert negative.status_code == 422 and not Plan.objects.filter(code="pro").exists()
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "plan_code_taken"
    assert taken.json()["error"]["message"] == "A plan with the code 'scale' exists already."
    assert PlanVersion.objects.count() == 1
