"""The tenant analytics API: figures from the roll-ups, validation, and the outsider refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import AccountHealthEvent, AccountHealthLog
from analytics.rollups import usage_day_rollup
from messaging.models import Message
from tests.analytics.dataset import D, seed_dataset
from tests.analytics.factories import AccountFactory, PhoneNumberFactory, TemplateFactory
from waba.models import MessageTemplate, WhatsAppAccount

DAY = D.isoformat()


@pytest.fixture
def data(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        data = seed_dataset()
        for offset in (-1, 0, 1):
            usage_day_rollup(day=D + timedelta(days=offset))
    return data


def foreign_id(tenant, in_tenant, own_ids, make):
    """An object of `tenant` whose id does not exist in the caller's schema (ids are per schema)."""
    with in_tenant(tenant):
        while True:
            obj = make()
            if obj.pk not in own_ids:
                return obj.pk


def test_dashboard_for_one_day_matches_the_hand_computed_figures(api_a, data):
    response = api_a.get(f"/api/v1/analytics/dashboard?date_from={DAY}&date_to={DAY}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totals"] == {
        "sent": 8,
        "delivered": 4,
        "read": 2,
        "failed": 3,
        "received": 5,
        "contact_days": 4,
    }
    assert body["rates"] == {"delivery_rate": 0.5, "read_rate": 0.5, "failure_rate": 0.375}
    assert body["top_failure_codes"] == [
        {"code": "131026", "count": 2, "meaning": "message undeliverable"},
        {"code": "131047", "count": 1, "meaning": "outside the 24-hour window; needs a template"},
    ]
    assert body["conversations_by_category"] == {
        "marketing": 1,
        "utility": 0,
        "authentication": 0,
        "service": 1,
    }
    assert (body["replies"], body["median_reply_time_s"]) == (3, 180)
    assert body["busiest_hours"] == [
        {"hour": 9, "messages": 5},
        {"hour": 10, "messages": 3},
        {"hour": 11, "messages": 2},
    ]
    assert len(body["messages_by_hour"]) == 24 and body["messages_by_hour"][16] == {"hour": 16, "messages": 1}
    assert body["series"] == [
        {
            "period_start": DAY,
            "sent": 8,
            "delivered": 4,
            "read": 2,
            "failed": 3,
            "received": 5,
            "delivery_rate": 0.5,
            "read_rate": 0.5,
            "failure_rate": 0.375,
        }
    ]


def test_dashboard_reads_the_roll_ups_not_the_messages(api_a, data, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        Message.objects.all().delete()

    body = api_a.get(f"/api/v1/analytics/dashboard?date_from={DAY}&date_to={DAY}").json()

    assert body["totals"]["sent"] == 8


def test_grouping_by_week_and_month(api_a, data):
    since, until = (D - timedelta(days=1)).isoformat(), (D + timedelta(days=1)).isoformat()

    weeks = api_a.get(f"/api/v1/analytics/dashboard?date_from={since}&date_to={until}&group_by=week").json()
    months = api_a.get(f"/api/v1/analytics/dashboard?date_from={since}&date_to={until}&group_by=month").json()

    # Sunday 1 March belongs to the week of Monday 23 February; Monday and Tuesday to the week of 2 March.
    assert [(p["period_start"], p["sent"]) for p in weeks["series"]] == [("2026-02-23", 1), (DAY, 9)]
    assert [(p["period_start"], p["sent"]) for p in months["series"]] == [("2026-03-01", 10)]
    assert weeks["totals"]["sent"] == 10


def test_account_analytics_is_per_phone_number(api_a, data):
    response = api_a.get(f"/api/v1/accounts/{data.a1.pk}/analytics?date_from={DAY}&date_to={DAY}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account_id"] == data.a1.pk
    assert body["totals"]["sent"] == 7  # N3 belongs to the other account
    numbers = {number["phone_number_id"]: number for number in body["phone_numbers"]}
    n1, n2 = numbers[data.n1.phone_number_id], numbers[data.n2.phone_number_id]
    assert n1["totals"] == {
        "sent": 6,
        "delivered": 2,
        "read": 1,
        "failed": 3,
        "received": 4,
        "contact_days": 2,
    }
    assert n1["rates"] == {"delivery_rate": 0.3333, "read_rate": 0.5, "failure_rate": 0.5}
    assert n1["median_reply_time_s"] == 30
    assert n2["totals"]["sent"] == 1 and n2["median_reply_time_s"] == 2700
    assert body["median_reply_time_s"] == 180
    assert [hour["hour"] for hour in body["busiest_hours"]] == [9, 10, 11]


def test_template_analytics_over_time(api_a, data):
    response = api_a.get(f"/api/v1/templates/{data.t1.pk}/analytics?date_from={DAY}&date_to={DAY}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "order_update"
    assert body["totals"] == {
        "sent": 2,
        "delivered": 1,
        "read": 1,
        "failed": 1,
        "replied": 1,
        "delivery_rate": 0.5,
        "read_rate": 1.0,
        "failure_rate": 0.5,
        "reply_rate": 1.0,
    }
    assert [point["period_start"] for point in body["series"]] == [DAY]


def test_empty_range_answers_zeros_and_no_rates(api_a, tenant_a):
    body = api_a.get("/api/v1/analytics/dashboard?date_from=2020-01-01&date_to=2020-01-31").json()

    assert body["totals"]["sent"] == 0
    assert body["rates"] == {"delivery_rate": None, "read_rate": None, "failure_rate": None}
    assert body["median_reply_time_s"] is None and body["series"] == [] and body["busiest_hours"] == []


def test_default_range_is_the_last_30_days(api_a, tenant_a):
    body = api_a.get("/api/v1/analytics/dashboard").json()

    today = timezone.now().date()
    assert (body["date_from"], body["date_to"], body["group_by"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
        "day",
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date_from=2026-03-05&date_to=2026-03-01", "query.date_to"),
        ("date_from=2024-01-01&date_to=2026-03-01", "query.date_to"),
        ("date_from=yesterday", "query.date_from"),
        ("group_by=year", "query.group_by"),
        ("group_by=week&date_to=0001-01-02", "query.date_to"),  # its default start is before year 1
        ("date_to=9999-12-31&group_by=month", "query.date_to"),
    ],
)
def test_bad_ranges_and_groupings_are_422_with_the_field(api_a, tenant_a, query, field):
    response = api_a.get(f"/api/v1/analytics/dashboard?{query}")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [detail["field"] for detail in error["details"]] == [field]


def test_account_and_template_analytics_validate_the_range_too(api_a, data):
    bad = "date_from=2026-03-05&date_to=2026-03-01"
    assert api_a.get(f"/api/v1/accounts/{data.a1.pk}/analytics?{bad}").status_code == 422
    assert api_a.get(f"/api/v1/templates/{data.t1.pk}/analytics?{bad}").status_code == 422


def test_account_health_shows_the_latest_status_and_the_log(api_a, tenant_a, in_tenant):
    now = timezone.now()
    with in_tenant(tenant_a):
        account = AccountFactory(
            status=WhatsAppAccount.Status.UNHEALTHY, status_reason="Access token invalid"
        )
        number = PhoneNumberFactory(account=account, quality_rating="RED")
        for minutes, healthy in ((30, True), (15, None), (0, False)):
            AccountHealthLog.objects.create(
                account=account,
                checked_at=now - timedelta(minutes=minutes),
                healthy=healthy,
                reachable=healthy is not None,
                findings=[],
                graph_latency_ms=12,
                account_status="active",
            )
        AccountHealthEvent.objects.create(
            account=account,
            phone_number=number,
            kind="quality_downgrade",
            old_value="YELLOW",
            new_value="RED",
            occurred_at=now,
        )

    response = api_a.get(f"/api/v1/accounts/{account.pk}/health?limit=2")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["status_reason"]) == ("unhealthy", "Access token invalid")
    assert body["latest"]["healthy"] is False
    assert [log["healthy"] for log in body["logs"]] == [False, None]
    assert body["events"] == [
        {
            "kind": "quality_downgrade",
            "phone_number_id": number.phone_number_id,
            "old_value": "YELLOW",
            "new_value": "RED",
            "reason": "",
            "occurred_at": body["events"][0]["occurred_at"],
        }
    ]
    assert body["phone_numbers"][0]["quality_rating"] == "RED"
    assert "access_token" not in body and "EAA" not in response.content.decode()


def test_health_limit_is_validated(api_a, data):
    response = api_a.get(f"/api/v1/accounts/{data.a1.pk}/health?limit=0")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "query.limit"


def test_the_outsider_cannot_read_another_tenants_analytics(api_a, data, tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        own_accounts = set(WhatsAppAccount.objects.values_list("pk", flat=True))
        own_templates = set(MessageTemplate.objects.values_list("pk", flat=True))
    beta_account = foreign_id(tenant_b, in_tenant, own_accounts, AccountFactory)
    beta_template = foreign_id(tenant_b, in_tenant, own_templates, TemplateFactory)

    for path, code in (
        (f"/api/v1/accounts/{beta_account}/analytics", "account_not_found"),
        (f"/api/v1/accounts/{beta_account}/health", "account_not_found"),
        (f"/api/v1/templates/{beta_template}/analytics", "template_not_found"),
    ):
        response = api_a.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == code


def test_beta_sees_none_of_alphas_usage(api_b, data):
    body = api_b.get(f"/api/v1/analytics/dashboard?date_from={DAY}&date_to={DAY}").json()
    assert body["totals"]["sent"] == 0


def test_an_alpha_key_is_refused_on_betas_host(api_a, tenant_b, data):
    from tests.conftest import ApiClient, host_of

    response = ApiClient(host_of(tenant_b), api_a.key).get("/api/v1/analytics/dashboard")
    assert response.status_code == 401


def test_the_openapi_schema_documents_the_analytics_endpoints(api_a, platform_api):
    paths = api_a.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/analytics/dashboard",
        "/api/v1/accounts/{account_id}/analytics",
        "/api/v1/templates/{template_id}/analytics",
        "/api/v1/accounts/{account_id}/health",
    ):
        assert path in paths
    assert "/api/platform/accounts/health" in platform_api.get("/api/platform/openapi.json").json()["paths"]
