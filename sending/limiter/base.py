"""The limiter's one interface: GCRA reservations for pacing and fixed-window quota counters.

GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical arrival time
(`tat`) of the next unit. A reservation of `count` units returns how many were granted and when
each may be used: unit k at `max(now, base + k * interval)`, base = max(tat, now + lead) - burst
tolerance. Units are granted only up to
`horizon_s` ahead, so a worker never books the number for long; several workers asking at once
get consecutive, non-overlapping slots because each reservation is one atomic update.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from django.utils import timezone


@dataclass(frozen=True)
class Grant:
    """The outcome of one reservation, in seconds relative to the moment it was made."""

    key: str
    requested: int
    granted: int
    interval_s: float
    # When unit 0 conforms (negative: already in the past, i.e. within the burst).
    base_in_s: float
    # The key's tat after this reservation, on the store's clock; `release` compares against it.
    tat: float
    # The store's clock (Unix seconds) at the reservation: every process shares it.
    store_now: float = 0.0

    @classmethod
    def from_store(
        cls, *, key: str, requested: int, granted: int, interval_s: float, burst: int, tat: float, now: float
    ) -> Grant:
        """From what a store returns: the key's new tat and its clock's `now` at the reservation."""
        tau = max(0, burst - 1) * interval_s
        base = tat - granted * interval_s - tau  # max(old tat, now + lead) - tau
        return cls(
            key=key,
            requested=requested,
            granted=granted,
            interval_s=interval_s,
            base_in_s=base - now,
            tat=tat,
            store_now=now,
        )

    def slot_in_s(self, index: int) -> float:
        """Seconds from the reservation until unit `index` may be used (0 = at once)."""
        return max(0.0, self.base_in_s + index * self.interval_s)

    def slot_at(self, index: int) -> float:
        """Unit `index`'s time on the store's clock: comparable across processes and machines."""
        return self.store_now + self.slot_in_s(index)

    def less(self, units: int) -> Grant:
        """This grant once `units` of it were given back: what a later `release` compares against."""
        return replace(self, granted=self.granted - units, tat=self.tat - units * self.interval_s)

    @property
    def retry_in_s(self) -> float:
        """When nothing was granted: seconds until the next unit conforms."""
        return max(0.0, self.base_in_s)


@dataclass(frozen=True)
class QuotaWindow:
    """One fixed-window counter: at most `limit` units under `key` until `expires_at`."""

    key: str
    limit: int
    expires_at: datetime
    label: str  # e.g. "account per-minute", for error messages


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    # The first window that refused, and seconds until it resets.
    exhausted: QuotaWindow | None = None
    retry_after_s: float | None = None

    @classmethod
    def refused_by(cls, window: QuotaWindow) -> QuotaDecision:
        retry_after = max(1.0, (window.expires_at - timezone.now()).total_seconds())
        return cls(allowed=False, exhausted=window, retry_after_s=retry_after)


class RateLimiter(ABC):
    """Shared by every process and machine: state lives in PostgreSQL or Redis, never in memory."""

    @abstractmethod
    def reserve_many(
        self,
        *,
        requests: Sequence[tuple[str, int]],
        interval_s: float,
        burst: int,
        horizon_s: float,
        lead_s: float = 0.0,
    ) -> list[Grant]:
        """Reserve units for each (key, count) with one round trip; keys must be distinct.

        `lead_s` keeps the first unit at least that far in the future: the time the caller needs
        before it can use a slot (claiming the messages), so that no slot is already past when used.
        """

    def reserve(
        self, *, key: str, count: int, interval_s: float, burst: int, horizon_s: float, lead_s: float = 0.0
    ) -> Grant:
        return self.reserve_many(
            requests=[(key, count)], interval_s=interval_s, burst=burst, horizon_s=horizon_s, lead_s=lead_s
        )[0]

    @abstractmethod
    def release(self, *, grant: Grant, unused: int) -> bool:
        """Give back the last `unused` units of `grant` if nobody reserved after it; True if done.

        Conditional on the key's tat being unchanged: returning units from the middle of someone
        else's later reservation would let the two overlap.
        """

    def release_many(self, *, releases: Sequence[tuple[Grant, int]]) -> list[bool]:
        """`release` for several (grant, unused) pairs of distinct keys in one round trip; each
        succeeds or not on its own, in order."""
        return [self.release(grant=grant, unused=unused) for grant, unused in releases]

    @abstractmethod
    def quota_consume(self, *, windows: Sequence[QuotaWindow], amount: int) -> QuotaDecision:
        """Add `amount` to every window, all or nothing: if one would pass its limit, none moves."""

    @abstractmethod
    def quota_refund(self, *, windows: Sequence[QuotaWindow], amount: int) -> None:
        """Undo a consume whose message was finally not created."""

    @abstractmethod
    def quota_counts(self, *, windows: Sequence[QuotaWindow]) -> list[int]:
        """Each window's count now, in order, read without changing it (0 where nothing was counted)."""

    @abstractmethod
    def purge_expired(self) -> int:
        """Drop state nobody needs any more (idle keys, past windows); returns how many went."""

    @abstractmethod
    def reset(self, *, prefix: str = "") -> None:
        """Forget every key starting with `prefix` (tests and benchmarks)."""
