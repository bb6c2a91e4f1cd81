"""Recurring jobs of the automation app (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        ScheduleSpec(
            "platform:conversation-states-expire", "automations.tasks.conversation_states_expire_fan_out", 5
        ),
        ScheduleSpec(
            "platform:workflow-step-visits-prune",
            "automations.tasks.workflow_step_visits_prune_fan_out",
            1440,
            offset_minutes=45,
        ),
    ]
