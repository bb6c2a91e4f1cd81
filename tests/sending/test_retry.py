"""Retry backoff: exponential with full jitter (platform_core.backoff), as the send pipeline uses it."""

from __future__ import annotations

import random

import pytest

from platform_core import backoff
from platform_core.backoff import backoff_delay
from sending.retry import Next, decision_for_error
from waba.graph.errors import GraphError
from waba.meta import ErrorCode


class Draws:
    """A stand-in for `random` that always draws the lowest (or highest) value of the range."""

    def __init__(self, *, highest: bool) -> None:
        self.highest = highest

    def uniform(self, low: float, high: float) -> float:
        return high if self.highest else low


def test_the_ceiling_doubles_per_retry_up_to_the_maximum():
    highest = Draws(highest=True)
    ceilings = [backoff_delay(retry=retry, base_s=2.0, max_s=30.0, rng=highest) for retry in range(6)]
    assert ceilings == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff_delay(retry=5000, base_s=2.0, max_s=30.0, rng=highest) == 30.0


def test_full_jitter_draws_anywhere_from_zero_to_the_ceiling():
    rng = random.Random(7)
    delays = [backoff_delay(retry=3, base_s=1.0, max_s=60.0, rng=rng) for _ in range(2000)]
    assert all(0.0 <= delay <= 8.0 for delay in delays)
    assert min(delays) < 0.5 and max(delays) > 7.5
    assert backoff_delay(retry=3, base_s=1.0, max_s=60.0, rng=Draws(highest=False)) == 0.0


def _throttled(retry_after_s: float | None = None) -> GraphError:
    return GraphError(
        "throughput exceeded", code=ErrorCode.THROUGHPUT_EXCEEDED, http_status=429, retry_after_header_s=retry_after_s
    )


@pytest.mark.parametrize("highest", [False, True])
def test_a_send_retry_uses_full_jitter_never_sooner_than_meta_asked(settings, monkeypatch, highest):
    settings.SEND_BACKOFF_BASE_S, settings.SEND_BACKOFF_MAX_S, settings.SEND_MAX_ATTEMPTS = 2.0, 300.0, 10
    monkeypatch.setattr(backoff, "random", Draws(highest=highest))

    decision = decision_for_error(_throttled(), attempts=3)  # the third attempt failed: ceiling 2 * 2**2

    assert decision.next == Next.RETRY
    assert decision.delay_s == (8.0 if highest else 0.0)
    assert decision_for_error(_throttled(retry_after_s=5.0), attempts=3).delay_s == (8.0 if highest else 5.0)
