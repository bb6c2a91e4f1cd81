"""Recurring jobs of the messaging app (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        # Inbound media whose fetch failed is retried with backoff; this also picks up a lost job.
        ScheduleSpec("platform:media-keep-due", "messaging.media_tasks.media_due_keep_fan_out", 2),
        # Files older than INBOUND_MEDIA_RETENTION_DAYS are deleted and marked expired.
        ScheduleSpec(
            "platform:media-retention", "messaging.media_tasks.media_expire_fan_out", 1440, offset_minutes=200
        ),
    ]
