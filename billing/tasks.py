"""Billing's jobs: metering where messages were delivered, closing ended periods (from the public schema).

The meter schedule visits only the tenants with METERING work announced (billing.receivers: a
status change to delivered or read); each run reads the row's version first and clears it after,
so a delivery applied during the run keeps the row for the next one. Closing a period meters its
tenant first (billing.statements), whatever was announced.
"""

from __future__ import annotations

from billing.metering import messages_meter
from billing.statements import statements_close_due
from tenants.jobs import TASK_OPTIONS, tenant_task, tenants_with_work_fan_out
from tenants.work_pending import WorkKind, work_settle, work_version


@tenant_task
def messages_meter_task() -> int:
    version = work_version(kind=WorkKind.METERING)
    written = messages_meter()
    work_settle(kind=WorkKind.METERING, version=version, due_at=None)
    return written


def messages_meter_fan_out() -> int:
    return len(tenants_with_work_fan_out(WorkKind.METERING, messages_meter_task, q_options=TASK_OPTIONS))


def statements_close_task() -> int:
    return len(statements_close_due())
