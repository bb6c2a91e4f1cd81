"""Rate limiting shared by every process: PostgreSQL by default, Redis when REDIS_URL is set.

`rate_limiter()` is the process's limiter; callers never pick a backend themselves. Setting
`RATE_LIMIT_BACKEND` to "postgres" or "redis" overrides the choice.
"""

from __future__ import annotations

import threading

from django.conf import settings

from sending.limiter.base import Grant, QuotaDecision, QuotaWindow, RateLimiter
from sending.limiter.postgres_backend import PostgresRateLimiter
from sending.limiter.redis_backend import RedisRateLimiter

__all__ = ["Grant", "QuotaDecision", "QuotaWindow", "RateLimiter", "rate_limiter", "rate_limiter_reset"]

_limiter: RateLimiter | None = None
_lock = threading.Lock()


def _build() -> RateLimiter:
    backend = settings.RATE_LIMIT_BACKEND or ("redis" if settings.REDIS_URL else "postgres")
    if backend == "redis":
        if not settings.REDIS_URL:
            raise ValueError("RATE_LIMIT_BACKEND 'redis' needs REDIS_URL")
        return RedisRateLimiter(settings.REDIS_URL)
    if backend == "postgres":
        return PostgresRateLimiter()
    raise ValueError(f"RATE_LIMIT_BACKEND must be 'postgres' or 'redis', not {backend!r}")


def rate_limiter() -> RateLimiter:
    global _limiter
    if _limiter is None:
        with _lock:
            if _limiter is None:
                _limiter = _build()
    return _limiter


def rate_limiter_reset() -> None:
    """Forget the process's limiter so the next call builds it from the current settings (tests)."""
    global _limiter
    with _lock:
        _limiter = None
