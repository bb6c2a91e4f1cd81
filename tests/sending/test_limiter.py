"""The limiter's contract, run against both backends (PostgreSQL always, Redis with REDIS_URL)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sending.limiter import QuotaWindow
from sending.limiter.postgres_backend import PostgresRateLimiter


@pytest.fixture(params=["postgres", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request, db):
    if request.param == "postgres":
        backend = PostgresRateLimiter(namespace=f"test:{uuid.uuid4().hex[:8]}:")
        yield backend
        # Threads of some tests committed rows outside the test's transaction: remove them the same way.
        cleaner = threading.Thread(target=lambda: (backend.reset(), connection.close()))
        cleaner.start()
        cleaner.join()
        return
    from sending.limiter.redis_backend import RedisRateLimiter

    backend = RedisRateLimiter(settings.REDIS_URL, namespace=f"test:{uuid.uuid4().hex[:8]}:")
    yield backend
    backend.reset()


def test_an_idle_key_grants_the_burst_at_once_then_paces(limiter):
    grant = limiter.reserve(key="pair:1:49151", count=5, interval_s=6.0, burst=3, horizon_s=0)
    assert grant.granted == 3
    assert [grant.slot_in_s(k) for k in range(3)] == [0.0, 0.0, 0.0]
    again = limiter.reserve(key="pair:1:49151", count=1, interval_s=6.0, burst=3, horizon_s=0)
    assert again.granted == 0
    assert 5.5 < again.retry_in_s <= 6.0


def test_a_reservation_spaces_its_slots_one_interval_apart_within_the_horizon(limiter):
    grant = limiter.reserve(key="tp:1", count=100, interval_s=0.01, burst=1, horizon_s=0.2)
    assert grant.granted == 21  # now, then every 10 ms up to 200 ms ahead
    assert grant.slot_in_s(0) == 0.0
    assert grant.slot_in_s(20) == pytest.approx(0.2, abs=0.005)
    following = limiter.reserve(key="tp:1", count=100, interval_s=0.01, burst=1, horizon_s=0.2)
    # The next reservation starts where the first ended (or now, if that is past), never overlapping
    # it, and grants only what fits in its own horizon. Compared on the store's clock: how long the
    # machine took between the two calls does not matter.
    assert following.slot_at(0) == pytest.approx(max(grant.slot_at(20) + 0.01, following.store_now), abs=1e-6)
    assert following.slot_at(following.granted - 1) <= following.store_now + 0.2 + 1e-6


def test_a_lead_keeps_the_first_slot_in_the_future(limiter):
    grant = limiter.reserve(key="tp:lead", count=10, interval_s=0.05, burst=1, horizon_s=0.3, lead_s=0.1)
    assert grant.slot_in_s(0) == pytest.approx(0.1, abs=0.01)
    assert grant.granted == 5  # 100, 150, ... 300 ms
    following = limiter.reserve(key="tp:lead", count=1, interval_s=0.05, burst=1, horizon_s=0.5, lead_s=0.1)
    # A busy key is not pushed further by the lead: its next slot follows the last one.
    expected = max(grant.slot_at(4) + 0.05, following.store_now + 0.1)
    assert following.slot_at(0) == pytest.approx(expected, abs=1e-6)


def test_reservations_for_several_keys_in_one_call_are_independent(limiter):
    grants = limiter.reserve_many(requests=[("a", 1), ("b", 2)], interval_s=1.0, burst=1, horizon_s=0)
    assert [(g.key, g.granted) for g in grants] == [("a", 1), ("b", 1)]


def test_release_returns_unused_units_only_when_nobody_reserved_after(limiter):
    first = limiter.reserve(key="tp:2", count=10, interval_s=0.1, burst=1, horizon_s=1.0)
    assert first.granted == 10
    assert limiter.release(grant=first, unused=4) is True
    second = limiter.reserve(key="tp:2", count=1, interval_s=0.1, burst=1, horizon_s=1.0)
    # Right after the 6 used units (or now, if that is already past).
    assert second.slot_at(0) == pytest.approx(max(first.slot_at(6), second.store_now), abs=1e-6)
    assert limiter.release(grant=first, unused=2) is False  # second reserved after it: keep


def test_concurrent_reservations_never_share_a_slot(limiter):
    """Eight threads, each with its own database connection, reserving the same key at once."""
    interval = 0.005
    slots: list[float] = []
    lock = threading.Lock()

    def reserve_some():
        try:
            for _ in range(10):
                grant = limiter.reserve(key="tp:3", count=5, interval_s=interval, burst=1, horizon_s=1.0)
                # With burst 1 the units sit back to back before the new tat, on the store's clock.
                with lock:
                    slots.extend(grant.tat - (grant.granted - k) * interval for k in range(grant.granted))
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.sort()
    assert len(slots) > 100
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= interval - 1e-6


def test_quota_is_all_or_nothing_and_says_when_it_resets(limiter):
    soon = timezone.now() + timedelta(seconds=30)
    minute = QuotaWindow(key="q:alpha:m", limit=3, expires_at=soon, label="per-minute")
    day = QuotaWindow(key="q:alpha:d", limit=100, expires_at=soon + timedelta(hours=1), label="per-day")
    assert limiter.quota_consume(windows=[minute, day], amount=2).allowed
    refused = limiter.quota_consume(windows=[day, minute], amount=2)
    assert not refused.allowed
    assert refused.exhausted == minute
    assert 25 <= refused.retry_after_s <= 31
    # The day window did not move: 2 used, so 98 more fit in it alone.
    assert limiter.quota_consume(windows=[day], amount=98).allowed
    assert not limiter.quota_consume(windows=[day], amount=1).allowed


def test_quota_refund_gives_units_back(limiter):
    window = QuotaWindow(
        key="q:alpha:r", limit=1, expires_at=timezone.now() + timedelta(seconds=60), label="per-minute"
    )
    assert limiter.quota_consume(windows=[window], amount=1).allowed
    assert not limiter.quota_consume(windows=[window], amount=1).allowed
    limiter.quota_refund(windows=[window], amount=1)
    assert limiter.quota_consume(windows=[window], amount=1).allowed
    assert not limiter.quota_consume(windows=[window], amount=5).allowed
