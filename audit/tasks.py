"""The audit log's scheduled jobs: the daily prune, in public and in each active tenant."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from audit.services import audit_entries_prune
from tenants.jobs import tenant_task, tenants_fan_out


def _retention() -> timedelta:
    return timedelta(days=settings.AUDIT_LOG_RETENTION_DAYS)


def audit_prune_fan_out() -> int:
    """The schedule's entry point (public schema): prunes the platform's entries, then each tenant's."""
    audit_entries_prune(older_than=_retention())
    return len(tenants_fan_out(tenant_audit_prune))


@tenant_task
def tenant_audit_prune() -> int:
    return audit_entries_prune(older_than=_retention())
