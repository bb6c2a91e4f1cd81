"""Recurring jobs of the send pipeline (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        # Send workers reconcile on every sweep; this is the safety net for when none runs.
        ScheduleSpec(
            "platform:stuck-messages-reconcile", "sending.tasks.stuck_messages_reconcile_fan_out", 5, sends=True
        ),
    ]
