"""Tenant and account quotas on accepted messages: fixed windows of a minute, a UTC day, a UTC month.

Counted when a message is queued (not when it leaves), through the shared limiter, so every web
and worker process sees the same counts. A refused request gets 429 and, in Retry-After, the
seconds until the window that refused it resets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sending.errors import QuotaExceeded
from sending.limiter import QuotaWindow, rate_limiter
from tenants.context import connection
from waba.models import WhatsAppAccount

PERIODS = ("minute", "day", "month")


def _period_bounds(period: str, now: datetime) -> tuple[str, datetime]:
    """A label naming the window `now` falls in, and when that window ends."""
    if period == "minute":
        start = now.replace(second=0, microsecond=0)
        return start.strftime("%Y%m%d%H%M"), start + timedelta(minutes=1)
    if period == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.strftime("%Y%m%d"), start + timedelta(days=1)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y%m"), end


def _tenant_window(period: str, now: datetime) -> QuotaWindow:
    label, ends = _period_bounds(period, now)
    return QuotaWindow(
        key=f"q:{connection.schema_name}:tenant:{period}:{label}",
        limit=getattr(settings, f"TENANT_RATE_LIMIT_PER_{period.upper()}"),
        expires_at=ends,
        label=f"workspace per-{period}",
    )


def _account_window(account: WhatsAppAccount, period: str, now: datetime) -> QuotaWindow:
    label, ends = _period_bounds(period, now)
    return QuotaWindow(
        key=f"q:{connection.schema_name}:account{account.pk}:{period}:{label}",
        limit=getattr(account, f"rate_limit_per_{period}"),
        expires_at=ends,
        label=f"account per-{period}",
    )


def quota_windows(
    *, account: WhatsAppAccount, periods: Sequence[str] = PERIODS, now: datetime | None = None
) -> list[QuotaWindow]:
    """The tenant's and the account's windows that a message sent now counts against."""
    now = (now or timezone.now()).astimezone(UTC)
    windows = []
    for period in periods:
        windows.append(_tenant_window(period, now))
        windows.append(_account_window(account, period, now))
    return windows


@dataclass(frozen=True)
class QuotaUsage:
    scope: str  # "workspace" or "account"
    period: str  # one of PERIODS
    limit: int
    used: int
    remaining: int
    resets_at: datetime


def quota_usage(*, account: WhatsAppAccount | None = None) -> list[QuotaUsage]:
    """The workspace's windows (and `account`'s) as they stand now; reads the counters, takes nothing.

    `used` is what the current window has counted; `remaining` never goes below 0 (a limit lowered
    after messages were counted leaves `used` above it).
    """
    now = timezone.now().astimezone(UTC)
    scoped = [("workspace", period, _tenant_window(period, now)) for period in PERIODS]
    if account is not None:
        scoped += [("account", period, _account_window(account, period, now)) for period in PERIODS]
    counts = rate_limiter().quota_counts(windows=[window for _, _, window in scoped])
    return [
        QuotaUsage(scope=scope, period=period, limit=window.limit, used=used,
                   remaining=max(0, window.limit - used), resets_at=window.expires_at)
        for (scope, period, window), used in zip(scoped, counts, strict=True)
    ]


def quota_take(*, account: WhatsAppAccount, amount: int, periods: Sequence[str] = PERIODS) -> list[QuotaWindow]:
    """Count `amount` messages against every window, or raise QuotaExceeded and count none."""
    windows = quota_windows(account=account, periods=periods)
    decision = rate_limiter().quota_consume(windows=windows, amount=amount)
    if not decision.allowed:
        exhausted = decision.exhausted
        assert exhausted is not None and decision.retry_after_s is not None
        raise QuotaExceeded(
            f"The {exhausted.label} limit of {exhausted.limit} messages is used up; "
            f"try again in {int(decision.retry_after_s + 0.999)} s.",
            retry_after_s=decision.retry_after_s,
            details={"limit": exhausted.label, "max": exhausted.limit, "requested": amount},
        )
    return windows


def quota_give_back(*, windows: Sequence[QuotaWindow], amount: int) -> None:
    rate_limiter().quota_refund(windows=windows, amount=amount)
