"""Recurring jobs of the alerts (collected by platform_core.schedules)."""

from __future__ import annotations

from django.conf import settings

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        ScheduleSpec(
            "platform:alerts-sweep",
            "alerts.tasks.incidents_sweep_fan_out",
            every_minutes=settings.ALERTS_SWEEP_INTERVAL_MINUTES,
            offset_minutes=2,
        )
    ]
