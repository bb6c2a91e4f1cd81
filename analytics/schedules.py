"""Recurring jobs of analytics (collected by platform_core.schedules)."""

from __future__ import annotations

from django.conf import settings

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        ScheduleSpec(
            "platform:account-health-checks",
            "analytics.tasks.health_checks_fan_out",
            every_minutes=settings.HEALTH_CHECK_INTERVAL_MINUTES,
        ),
        ScheduleSpec("platform:usage-rollup-hourly", "analytics.tasks.usage_rollup_hourly_fan_out", 60, offset_minutes=5),
        ScheduleSpec("platform:usage-rollup-daily", "analytics.tasks.usage_rollup_daily_fan_out", 1440, offset_minutes=30),
        ScheduleSpec("platform:health-logs-prune", "analytics.tasks.health_logs_prune_fan_out", 1440, offset_minutes=50),
    ]
