"""Billing periods: a month starting on the subscription's anchor day at 00:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def _month_start(year: int, month: int, anchor_day: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, anchor_day, tzinfo=UTC)


def period_bounds(*, anchor_day: int, at: datetime) -> tuple[datetime, datetime]:
    """The period containing `at`: [start, end)."""
    at = at.astimezone(UTC)
    start = _month_start(at.year, at.month, anchor_day)
    if at < start:
        start = _month_start(at.year, at.month - 1, anchor_day)
    return start, _month_start(start.year, start.month + 1, anchor_day)


def previous_period(*, anchor_day: int, at: datetime) -> tuple[datetime, datetime]:
    """The last period that ended at or before `at`."""
    start, _ = period_bounds(anchor_day=anchor_day, at=at)
    previous_start = _month_start(start.year, start.month - 1, anchor_day)
    return previous_start, start
