"""Writes of the audit log besides the receivers' rows: retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from audit.models import AuditEntry


def audit_entries_prune(*, older_than: timedelta, now: datetime | None = None, batch: int = 5000) -> int:
    """Delete the current schema's entries older than `older_than`, `batch` at a time; how many went."""
    cutoff = (now or timezone.now()) - older_than
    deleted = 0
    while True:
        ids = list(AuditEntry.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        AuditEntry.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
