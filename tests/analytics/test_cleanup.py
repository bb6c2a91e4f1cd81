"""Analytics' own clean-up: health logs past their retention, in every tenant."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from analytics import tasks
from analytics.models import AccountHealthLog
from tests.analytics.factories import AccountFactory


def test_old_health_logs_are_pruned(sync_jobs, tenant_a, in_tenant, settings):
    settings.HEALTH_LOG_RETENTION_DAYS = 30
    with in_tenant(tenant_a):
        account = AccountFactory()
        for age in (40, 10):
            AccountHealthLog.objects.create(account=account, checked_at=timezone.now() - timedelta(days=age))

    tasks.health_logs_prune_fan_out()

    with in_tenant(tenant_a):
        assert AccountHealthLog.objects.count() == 1
