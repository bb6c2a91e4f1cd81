"""Recurring jobs of campaigns (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        # Campaigns with nothing left to send are marked finished, which announces campaign.finished.
        ScheduleSpec("platform:campaigns-finish", "broadcasts.tasks.campaigns_finish_fan_out", 1),
    ]
