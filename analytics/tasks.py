"""django-q2 entry points of the scheduled jobs. Thin: load by id, call a service.

`*_fan_out` functions are what the schedules (analytics.schedules) run: once, in the
public schema. They queue one tenant task per active tenant whose public health summary counts
WhatsApp accounts, or that has no summary yet (the health checks' visit stores one):
`tenants.health_summary.schemas_with_accounts`. A tenant without an account has no numbers,
hence no messages to roll up and no health logs (they go with their account), so it costs
nothing. The health check fans out once more, one task per account, so one slow account cannot
eat another's time budget. Every queued task carries TASK_OPTIONS (its timeout).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from analytics import cleanup
from analytics.health import (
    CHECKED_ACCOUNT_STATUSES,
    account_health_check,
    account_is_checkable,
    health_summary_refresh,
)
from analytics.rollups import usage_days_rollup
from tenants.context import connection
from tenants.health_summary import schemas_with_accounts
from tenants.jobs import TASK_OPTIONS, schemas_fan_out, tenant_task, tenant_task_enqueue
from waba.models import WhatsAppAccount

logger = logging.getLogger(__name__)

# After midnight the hourly job also finishes yesterday (its last hour was still open).
YESTERDAY_GRACE_HOURS = 2


# --- health checks -------------------------------------------------------------------------------


def _accounts_fan_out(func: Callable[[], object]) -> int:
    return len(schemas_fan_out(schemas_with_accounts(), func, q_options=TASK_OPTIONS))


def health_checks_fan_out() -> int:
    return _accounts_fan_out(tenant_health_checks_enqueue)


@tenant_task
def tenant_health_checks_enqueue() -> int:
    """Queue a check of each checkable account; with none (drafts, suspended accounts, none at all)
    store the summary here, since no check will."""
    account_ids = WhatsAppAccount.objects.filter(status__in=CHECKED_ACCOUNT_STATUSES).values_list(
        "pk", flat=True
    )
    if not account_ids:
        health_summary_refresh()
    for account_id in account_ids:
        tenant_task_enqueue(
            account_health_check_run, account_id, schema_name=connection.schema_name, q_options=TASK_OPTIONS
        )
    return len(account_ids)


@tenant_task
def account_health_check_run(account_id: int) -> bool | None:
    account = WhatsAppAccount.objects.filter(pk=account_id).first()
    if account is None or not account_is_checkable(account):
        return None
    log = account_health_check(account=account)
    return log.healthy


# --- usage roll-ups ------------------------------------------------------------------------------


def usage_rollup_hourly_fan_out() -> int:
    return _accounts_fan_out(tenant_usage_rollup_today)


@tenant_task
def tenant_usage_rollup_today() -> int:
    now = timezone.now()
    days = [now.date()]
    if now.hour < YESTERDAY_GRACE_HOURS:
        days.insert(0, now.date() - timedelta(days=1))
    return sum(rollup.daily_rows for rollup in usage_days_rollup(days=days))


def usage_rollup_daily_fan_out() -> int:
    return _accounts_fan_out(tenant_usage_rollup_recent_days)


@tenant_task
def tenant_usage_rollup_recent_days() -> int:
    """Recompute the last ROLLUP_RECOMPUTE_DAYS full days, so late statuses are counted."""
    today = timezone.now().date()
    days = [today - timedelta(days=back) for back in range(settings.ROLLUP_RECOMPUTE_DAYS, 0, -1)]
    return sum(rollup.daily_rows for rollup in usage_days_rollup(days=days))


# --- clean-up ------------------------------------------------------------------------------------


def health_logs_prune_fan_out() -> int:
    return _accounts_fan_out(tenant_health_logs_prune)


@tenant_task
def tenant_health_logs_prune() -> int:
    return cleanup.health_logs_prune()
