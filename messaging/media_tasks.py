"""Recurring jobs of inbound media (messaging.schedules): retries that are due, and retention.

Each schedule runs in the public schema and fans out one task per active tenant (the retries: only
to tenants with media pending, from the work-pending index).
"""

from __future__ import annotations

from messaging.media import inbound_media_due_keep, inbound_media_expire, inbound_media_next_due
from tenants.jobs import tenant_task, tenants_fan_out, tenants_with_work_fan_out
from tenants.work_pending import WorkKind, work_settle, work_version


@tenant_task
def media_due_keep() -> int:
    """Retry the due fetches; the index then waits for the next pending one, or forgets the tenant."""
    version = work_version(kind=WorkKind.MEDIA)
    tried = inbound_media_due_keep()
    work_settle(kind=WorkKind.MEDIA, version=version, due_at=inbound_media_next_due())
    return tried


@tenant_task
def media_expire() -> int:
    return inbound_media_expire()


def media_due_keep_fan_out() -> list[str]:
    """For a schedule (public schema): retry the due media fetches of every active tenant that has
    some pending (the work-pending index)."""
    return tenants_with_work_fan_out(WorkKind.MEDIA, media_due_keep)


def media_expire_fan_out() -> list[str]:
    """For a schedule (public schema): delete every active tenant's media past its retention."""
    return tenants_fan_out(media_expire)
