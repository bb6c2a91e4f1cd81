"""Billing's jobs: metering in every tenant, closing ended periods (from the public schema)."""

from __future__ import annotations

from billing.metering import messages_meter
from billing.statements import statements_close_due
from tenants.jobs import TASK_OPTIONS, tenant_task, tenants_fan_out


@tenant_task
def messages_meter_task() -> int:
    return messages_meter()


def messages_meter_fan_out() -> int:
    return len(tenants_fan_out(messages_meter_task, q_options=TASK_OPTIONS))


def statements_close_task() -> int:
    return len(statements_close_due())
