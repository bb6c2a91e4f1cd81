"""Receivers of other libraries' signals: django-q2's finished tasks counted per schedule."""

from __future__ import annotations

from typing import Any

from platform_core import counters
from tenants.jobs import SCHEDULE_PREFIX


def schedule_run_count(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """Count a finished run of one of our schedules (django-q2 gives a schedule's task the
    schedule's name as its group) for `/metrics`; the cluster's monitor process flushes it."""
    name = task.get("group")
    if isinstance(name, str) and name.startswith(SCHEDULE_PREFIX):
        counters.counter_add(counters.SCHEDULE_RUNS, name=name, outcome="success" if task.get("success") else "failure")
