"""Recurring jobs of the audit log (collected by platform_core.schedules)."""

from __future__ import annotations

from tenants.jobs import ScheduleSpec


def schedules() -> list[ScheduleSpec]:
    return [
        # Entries past AUDIT_LOG_RETENTION_DAYS, in public and in each tenant's schema.
        ScheduleSpec("platform:audit-prune", "audit.tasks.audit_prune_fan_out", 1440, offset_minutes=55),
    ]
