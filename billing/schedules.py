"""Recurring jobs of billing (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        ScheduleSpec("platform:billing-meter", "billing.tasks.messages_meter_fan_out", 15, offset_minutes=7),
        ScheduleSpec(
            "platform:billing-close-periods", "billing.tasks.statements_close_task", 60, offset_minutes=20
        ),
    ]
