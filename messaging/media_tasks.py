"""Recurring jobs of inbound media (messaging.schedules): retries that are due, and retention.

Each schedule runs in the public schema and fans out one task per active tenant.
"""

from __future__ import annotations

from messaging.media import inbound_media_due_keep, inbound_media_expire
from tenants.jobs import tenant_task, tenants_fan_out


@tenant_task
def media_due_keep() -> int:
    return inbound_media_due_keep()


@tenant_task
def media_expire() -> int:
    return inbound_media_expire()


def media_due_keep_fan_out() -> list[str]:
    """For a schedule (public schema): retry the due media fetches of every active tenant."""
    return tenants_fan_out(media_due_keep)


def media_expire_fan_out() -> list[str]:
    """For a schedule (public schema): delete every active tenant's media past its retention."""
    return tenants_fan_out(media_expire)
