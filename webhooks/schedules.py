"""Recurring jobs of the webhook router (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        # Safety net for the webhook workers (process_webhooks): drains what is claimable, 45 s at most.
        ScheduleSpec("platform:webhook-journal-drain", "webhooks.tasks.webhook_journal_drain", 1),
        # Journal entries and dead letters past their retention (WEBHOOK_*_RETENTION_DAYS).
        ScheduleSpec(
            "platform:webhook-journal-prune", "webhooks.tasks.webhook_journal_prune_run", 60, offset_minutes=20
        ),
        # Each tenant's webhook event log past WEBHOOK_EVENT_LOG_RETENTION_DAYS.
        ScheduleSpec("platform:webhook-event-log-prune", "webhooks.tasks.event_logs_prune_fan_out", 1440, offset_minutes=40),
    ]
