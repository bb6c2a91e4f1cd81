"""GET /quota and /accounts/{id}/quota: each send quota's limit, used and remaining, read without taking any."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

import sending.quotas
from sending.limiter import QuotaWindow
from tests.factories import AccountFactory
from waba.models import WhatsAppAccount

ACCOUNT_LIMITS = {"minute": 4, "day": 50, "month": 900}
TENANT_LIMITS = {"minute": 40, "day": 500, "month": 9000}


@pytest.fixture
def frozen_now(monkeypatch) -> datetime:
    """The quota windows' clock, fixed mid-minute a little ahead: every send and read of the test
    falls in the same minute, day and month windows, and none of them has ended on the database's clock."""
    now = (timezone.now() + timedelta(minutes=1)).astimezone(UTC).replace(second=30, microsecond=0)
    monkeypatch.setattr(sending.quotas, "timezone", SimpleNamespace(now=lambda: now))
    return now


@pytest.fixture
def limits(settings, tenant_a, in_tenant, number_a):
    for period, limit in TENANT_LIMITS.items():
        setattr(settings, f"TENANT_RATE_LIMIT_PER_{period.upper()}", limit)
    with in_tenant(tenant_a):
        WhatsAppAccount.objects.filter(pk=number_a.account_id).update(
            **{f"rate_limit_per_{period}": limit for period, limit in ACCOUNT_LIMITS.items()}
        )


def send_texts(api, number, window, count: int) -> None:
    for index in range(count):
        response = api.post_json("/api/v1/messages", {
            "phone_number_id": number.phone_number_id, "to": "+" + window.contact.wa_id,
            "type": "text", "text": {"body": f"Update {index}"},
        })
        assert response.status_code == 202, response.content


def by_window(body: dict) -> dict[tuple[str, str], dict]:
    return {(quota["scope"], quota["period"]): quota for quota in body["quotas"]}


def test_account_quota_shows_what_the_sends_used(api_a, number_a, open_window_a, limits, frozen_now):
    send_texts(api_a, number_a, open_window_a, 3)

    response = api_a.get(f"/api/v1/accounts/{number_a.account_id}/quota")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account_id"] == number_a.account_id
    quotas = by_window(body)
    assert set(quotas) == {(scope, period) for scope in ("workspace", "account") for period in ACCOUNT_LIMITS}
    for (scope, period), quota in quotas.items():
        limit = (TENANT_LIMITS if scope == "workspace" else ACCOUNT_LIMITS)[period]
        assert (quota["limit"], quota["used"], quota["remaining"]) == (limit, 3, limit - 3), (scope, period)
    minute_end = frozen_now.replace(second=0) + timedelta(minutes=1)
    day_end = frozen_now.replace(hour=0, minute=0, second=0) + timedelta(days=1)
    assert quotas["account", "minute"]["resets_at"] == minute_end.isoformat().replace("+00:00", "Z")
    assert quotas["workspace", "day"]["resets_at"] == day_end.isoformat().replace("+00:00", "Z")


def test_reading_takes_nothing_and_shows_an_exhausted_window(api_a, number_a, open_window_a, limits, frozen_now):
    send_texts(api_a, number_a, open_window_a, 3)
    path = f"/api/v1/accounts/{number_a.account_id}/quota"
    for _ in range(3):
        assert by_window(api_a.get(path).json())["account", "minute"]["used"] == 3

    send_texts(api_a, number_a, open_window_a, 1)  # the fourth and last of the minute
    assert by_window(api_a.get(path).json())["account", "minute"] == {
        "scope": "account", "period": "minute", "limit": 4, "used": 4, "remaining": 0,
        "resets_at": (frozen_now.replace(second=0) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
    }
    refused = api_a.post_json("/api/v1/messages", {
        "phone_number_id": number_a.phone_number_id, "to": "+" + open_window_a.contact.wa_id,
        "type": "text", "text": {"body": "One more"},
    })
    assert refused.status_code == 429


def test_workspace_quota_counts_every_account_and_accounts_keep_their_own(
    api_a, tenant_a, in_tenant, number_a, open_window_a, limits, frozen_now
):
    with in_tenant(tenant_a):
        idle = AccountFactory()
    send_texts(api_a, number_a, open_window_a, 2)

    workspace = api_a.get("/api/v1/quota").json()
    assert workspace["account_id"] is None
    assert {key: (q["used"], q["remaining"]) for key, q in by_window(workspace).items()} == {
        ("workspace", period): (2, limit - 2) for period, limit in TENANT_LIMITS.items()
    }
    idle_quotas = by_window(api_a.get(f"/api/v1/accounts/{idle.pk}/quota").json())
    assert idle_quotas["workspace", "day"]["used"] == 2
    assert [idle_quotas["account", period]["used"] for period in ACCOUNT_LIMITS] == [0, 0, 0]


def test_another_tenant_sees_neither_the_account_nor_its_counts(
    api_a, api_b, number_a, open_window_a, limits, frozen_now
):
    send_texts(api_a, number_a, open_window_a, 2)

    response = api_b.get(f"/api/v1/accounts/{number_a.account_id}/quota")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"] == f"No WhatsApp account with id {number_a.account_id}."
    beta = by_window(api_b.get("/api/v1/quota").json())
    assert [beta["workspace", period]["used"] for period in TENANT_LIMITS] == [0, 0, 0]


def test_unknown_account_is_404(api_a, number_a):
    response = api_a.get("/api/v1/accounts/987654321/quota")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found", "message": "No WhatsApp account with id 987654321.", "details": None,
    }


@pytest.fixture(params=["postgres", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request, db):
    from django.conf import settings as django_settings

    from sending.limiter.postgres_backend import PostgresRateLimiter

    namespace = f"test:{uuid.uuid4().hex[:8]}:"
    if request.param == "postgres":
        yield PostgresRateLimiter(namespace=namespace)  # rows roll back with the test
        return
    from sending.limiter.redis_backend import RedisRateLimiter

    backend = RedisRateLimiter(django_settings.REDIS_URL, namespace=namespace)
    yield backend
    backend.reset()


def test_limiter_reads_counts_without_moving_them(limiter):
    ends = timezone.now() + timedelta(minutes=5)
    counted, untouched = QuotaWindow("q:t:a", 10, ends, "a"), QuotaWindow("q:t:b", 10, ends, "b")
    assert limiter.quota_consume(windows=[counted], amount=3).allowed

    assert limiter.quota_counts(windows=[counted, untouched]) == [3, 0]
    assert limiter.quota_counts(windows=[counted, untouched]) == [3, 0]
    assert limiter.quota_counts(windows=[]) == []
    assert limiter.quota_consume(windows=[counted], amount=7).allowed
    assert not limiter.quota_consume(windows=[counted], amount=1).allowed
    assert limiter.quota_counts(windows=[counted]) == [10]


def test_postgres_limiter_ignores_a_window_that_has_ended(db):
    from django.db import connection

    from sending.limiter.postgres_backend import COUNTERS, PostgresRateLimiter

    backend = PostgresRateLimiter(namespace="test:ended:")
    window = QuotaWindow("q:t:old", 10, timezone.now() + timedelta(minutes=5), "old")
    assert backend.quota_consume(windows=[window], amount=2).allowed
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {COUNTERS} SET expires_at = now() - interval '1 second' WHERE key = %s",
                       ["test:ended:q:t:old"])

    assert backend.quota_counts(windows=[window]) == [0]
