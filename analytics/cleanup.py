"""Clean-up of analytics' own data: health logs past their retention (per tenant)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from analytics.models import AccountHealthLog


def health_logs_prune(*, now: datetime | None = None) -> int:
    """Drop health logs past HEALTH_LOG_RETENTION_DAYS in the current tenant schema."""
    before = (now or timezone.now()) - timedelta(days=settings.HEALTH_LOG_RETENTION_DAYS)
    return AccountHealthLog.objects.filter(checked_at__lt=before).delete()[0]
