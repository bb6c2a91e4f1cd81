"""A per-address budget for refused requests to the endpoints Meta calls (webhooks, Flows).

The webhook and Flows endpoints are public and unauthenticated until the signature is checked.
Each source address gets a token bucket (`INBOUND_AUTH_FAILURE_BURST` tokens, refilled at
`INBOUND_AUTH_FAILURE_PER_MINUTE`); only a refused request (unknown app or number, bad signature
or verify token, oversized body) spends a token. An address with no token left is answered 429
before anything else is done, until its bucket refills. Meta's signed deliveries never spend, so
they are limited only if they share an address with someone who keeps failing.

The buckets live in the process: a check is one dict lookup (no lock, no database) for an
address that never failed, which keeps the acknowledgement path as fast as before. With several
web processes each has its own buckets, so the effective limit is that many times the setting.
The caller's address is `platform_core.client_address` (behind proxies, set `TRUSTED_PROXY_COUNT`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import JsonResponse

from platform_core.api import error_response
from platform_core.client_address import client_address_of

MAX_SOURCES = 10_000  # addresses tracked at once; the oldest are forgotten first


class SourceThrottle:
    """Token buckets keyed by source address, spent only by refused requests. Thread-safe."""

    def __init__(
        self, *, burst: int, per_minute: int, max_sources: int = MAX_SOURCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.rate_per_s = per_minute / 60.0
        self.max_sources = max_sources
        self._clock = clock
        # address -> [tokens, when they were counted]; only addresses that failed at least once.
        self._buckets: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.burst > 0

    def blocked_for(self, source: str) -> float | None:
        """Seconds until `source` may try again, or None when it may go ahead now."""
        if not self.enabled or source not in self._buckets:
            return None
        with self._lock:
            bucket = self._buckets.get(source)
            if bucket is None:
                return None
            tokens = self._refilled(bucket)
            if tokens >= 1.0:
                return None
            return math.inf if self.rate_per_s <= 0 else (1.0 - tokens) / self.rate_per_s

    def charge(self, source: str) -> None:
        """Spend one token of `source`'s budget: it made a request that was refused."""
        if not self.enabled:
            return
        with self._lock:
            bucket = self._buckets.get(source)
            if bucket is None:
                if len(self._buckets) >= self.max_sources:
                    self._forget_some()
                bucket = self._buckets[source] = [float(self.burst), self._clock()]
            bucket[0] = max(0.0, self._refilled(bucket) - 1.0)

    def tracked(self) -> int:
        return len(self._buckets)

    def _refilled(self, bucket: list[float]) -> float:
        now = self._clock()
        bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate_per_s)
        bucket[1] = now
        return bucket[0]

    def _forget_some(self) -> None:
        """Make room: drop full buckets (they hold nothing), then the oldest addresses."""
        for source in [s for s, bucket in self._buckets.items() if self._refilled(bucket) >= self.burst]:
            del self._buckets[source]
        excess = len(self._buckets) - self.max_sources + 1
        for source in list(self._buckets)[: max(0, excess)]:
            del self._buckets[source]


_throttle: SourceThrottle | None = None
_throttle_lock = threading.Lock()


def inbound_throttle() -> SourceThrottle:
    """This process's throttle, rebuilt when the settings change (tests)."""
    global _throttle
    throttle = _throttle
    burst, per_minute = settings.INBOUND_AUTH_FAILURE_BURST, settings.INBOUND_AUTH_FAILURE_PER_MINUTE
    if throttle is None or throttle.burst != burst or throttle.rate_per_s != per_minute / 60.0:
        with _throttle_lock:
            throttle = _throttle = SourceThrottle(burst=burst, per_minute=per_minute)
    return throttle


def inbound_throttle_reset() -> None:
    """Forget every address (tests)."""
    global _throttle
    with _throttle_lock:
        _throttle = None


def source_address(meta: Mapping[str, Any]) -> str:
    """The address a budget is kept for, from a request's META or a raw WSGI environ."""
    return client_address_of(meta)


def throttled_error(retry_after_s: float) -> dict[str, Any]:
    """The 429 answer's parts (`error_response`'s arguments), with Retry-After in whole seconds."""
    seconds = 3600 if math.isinf(retry_after_s) else max(1, math.ceil(retry_after_s))
    return {
        "status": 429,
        "code": "rate_limited",
        "message": f"Too many refused requests from this address; try again in {seconds} s.",
        "details": {"retry_after_s": seconds},
        "headers": {"Retry-After": str(seconds)},
    }


def throttled_response(retry_after_s: float) -> JsonResponse:
    """429 in the platform's error shape."""
    return error_response(**throttled_error(retry_after_s))
