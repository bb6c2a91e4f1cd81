"""Today (and any recent day whose roll-up is not final) is computed from the messages at request time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import tasks
from analytics.models import UsageDaily
from analytics.rollups import day_bounds, usage_day_rollup
from messaging.models import Message
from tests.analytics.factories import (
    AccountFactory,
    ConversationFactory,
    MessageFactory,
    PhoneNumberFactory,
    TemplateFactory,
)

S = Message.Status


@pytest.fixture
def today_traffic(tenant_a, in_tenant):
    """A first conversation today: the customer writes, a template answers, a send fails."""
    with in_tenant(tenant_a):
        account = AccountFactory.create()
        number = PhoneNumberFactory.create(account=account)
        template = TemplateFactory.create(account=account, name="welcome")
        conversation = ConversationFactory(phone_number=number)
        now = timezone.now()
        MessageFactory(conversation=conversation, direction="in", status=S.RECEIVED, timestamp=now)
        MessageFactory(conversation=conversation, status=S.DELIVERED, template=template, timestamp=now)
        MessageFactory(conversation=conversation, status=S.FAILED, error_code=131026, timestamp=now)
    return {"account": account, "number": number, "template": template}


def analytics_bodies(api, traffic) -> dict:
    paths = {
        "dashboard": "/api/v1/analytics/dashboard",
        "account": f"/api/v1/accounts/{traffic['account'].pk}/analytics",
        "template": f"/api/v1/templates/{traffic['template'].pk}/analytics",
    }
    bodies = {}
    for name, path in paths.items():
        response = api.get(path)
        assert response.status_code == 200, response.content
        bodies[name] = response.json()
    return bodies


def test_todays_messages_are_counted_before_any_roll_up(api_a, today_traffic, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        assert not UsageDaily.objects.exists()

    bodies = analytics_bodies(api_a, today_traffic)

    expected = {"sent": 2, "delivered": 1, "read": 0, "failed": 1, "received": 1, "contact_days": 1}
    dashboard = bodies["dashboard"]
    assert dashboard["totals"] == expected
    assert dashboard["top_failure_codes"] == [
        {"code": "131026", "count": 1, "meaning": "message undeliverable"}
    ]
    assert (dashboard["replies"], dashboard["median_reply_time_s"]) == (1, 0)
    assert sum(hour["messages"] for hour in dashboard["messages_by_hour"]) == 3
    assert dashboard["series"][-1]["sent"] == 2
    account = bodies["account"]
    assert account["totals"] == expected
    assert account["phone_numbers"][0]["totals"] == expected
    template = bodies["template"]
    assert (template["totals"]["sent"], template["totals"]["delivered"]) == (1, 1)


def test_the_roll_up_changes_no_figure_of_today(api_a, today_traffic, tenant_a, in_tenant, sync_jobs):
    before = analytics_bodies(api_a, today_traffic)

    tasks.usage_rollup_hourly_fan_out()

    with in_tenant(tenant_a):
        assert UsageDaily.objects.get().sent == 2  # the roll-up ran and stored today
    assert analytics_bodies(api_a, today_traffic) == before
    assert before["dashboard"]["totals"]["sent"] == 2


def test_another_tenant_sees_none_of_todays_live_figures(api_b, today_traffic):
    body = api_b.get("/api/v1/analytics/dashboard").json()

    assert body["totals"]["sent"] == 0 and body["totals"]["received"] == 0


def test_an_account_sees_only_its_own_numbers_today(api_a, today_traffic, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        other = AccountFactory.create()
        MessageFactory(conversation=ConversationFactory(phone_number=PhoneNumberFactory.create(account=other)))

    mine = api_a.get(f"/api/v1/accounts/{today_traffic['account'].pk}/analytics").json()
    theirs = api_a.get(f"/api/v1/accounts/{other.pk}/analytics").json()
    everyone = api_a.get("/api/v1/analytics/dashboard").json()

    assert (mine["totals"]["sent"], theirs["totals"]["sent"], everyone["totals"]["sent"]) == (2, 1, 3)


def test_a_day_rolled_up_while_it_ran_is_live_and_a_final_roll_up_is_read(api_a, tenant_a, in_tenant):
    yesterday = timezone.now().date() - timedelta(days=1)
    start, end = day_bounds(yesterday)
    with in_tenant(tenant_a):
        conversation = ConversationFactory()
        MessageFactory(conversation=conversation, timestamp=start + timedelta(hours=10))
        usage_day_rollup(day=yesterday)
        UsageDaily.objects.update(computed_at=start + timedelta(hours=12))  # rolled up at noon
        MessageFactory(conversation=conversation, timestamp=start + timedelta(hours=18))
    url = f"/api/v1/analytics/dashboard?date_from={yesterday}&date_to={yesterday}"

    assert api_a.get(url).json()["totals"]["sent"] == 2  # the evening's message is counted

    with in_tenant(tenant_a):
        UsageDaily.objects.update(computed_at=end + timedelta(minutes=5))  # final: after midnight

    assert api_a.get(url).json()["totals"]["sent"] == 1  # what the stored roll-up says


def test_older_days_come_from_the_roll_up(api_a, tenant_a, in_tenant):
    day = timezone.now().date() - timedelta(days=10)
    with in_tenant(tenant_a):
        MessageFactory(timestamp=day_bounds(day)[0] + timedelta(hours=9))
        usage_day_rollup(day=day)
        Message.objects.all().delete()

    body = api_a.get(f"/api/v1/analytics/dashboard?date_from={day}&date_to={day}").json()

    assert body["totals"]["sent"] == 1
    assert body["busiest_hours"] == [{"hour": 9, "messages": 1}]
