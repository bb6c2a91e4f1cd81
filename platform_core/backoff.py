"""Retry delays: exponential backoff with full jitter, the one formula every retrying job uses.

Full jitter (a delay drawn uniformly between zero and the exponential ceiling) spreads the
retries of many jobs that failed at the same moment, so they do not all come back at once.
A single thing retrying on its own (a supervised process restarted by `make run`) has no crowd to
spread: it waits the ceiling itself.
"""

from __future__ import annotations

import random


def backoff_ceiling(*, retry: int, base_s: float, max_s: float) -> float:
    """The exponential ceiling for retry number `retry` (0 for the first): min(max_s, base_s * 2**retry)."""
    return min(max_s, base_s * 2 ** min(max(0, retry), 64))  # bounded: a float overflows near 2**1024


def backoff_delay(*, retry: int, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `retry` (0 for the first): uniform in
    [0, backoff_ceiling(...)]."""
    return (rng or random).uniform(0, backoff_ceiling(retry=retry, base_s=base_s, max_s=max_s))
