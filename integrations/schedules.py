"""Recurring jobs of the integrations (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        # Safety net for the delivery worker (integrations_deliver): delivers what is due, 45 s at most.
        ScheduleSpec("platform:integrations-deliver-drain", "integrations.worker.deliver_drain", 1),
        # Each tenant's finished events past INTEGRATIONS_EVENT_RETENTION_DAYS.
        ScheduleSpec(
            "platform:integrations-events-prune",
            "integrations.worker.events_prune_fan_out",
            1440,
            offset_minutes=50,
        ),
    ]
