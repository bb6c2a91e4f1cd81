"""Recurring jobs of the WABA app (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        # Templates and numbers stay in step with Meta even when a webhook was missed.
        ScheduleSpec("platform:waba-sync", "waba.tasks.live_accounts_sync_fan_out", 360, offset_minutes=15),
    ]
