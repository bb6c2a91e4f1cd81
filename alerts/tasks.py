"""django-q2 entry points of the alerts' schedule (alerts.schedules). Thin: fan out, call a service."""

from __future__ import annotations

from alerts.services import tenant_incidents_reconcile
from tenants.jobs import TASK_OPTIONS, tenant_task, tenants_fan_out


def incidents_sweep_fan_out() -> int:
    return len(tenants_fan_out(tenant_incidents_sweep, q_options=TASK_OPTIONS))


@tenant_task
def tenant_incidents_sweep() -> tuple[int, int]:
    """Open and resolve this workspace's incidents from its state now; (opened, resolved)."""
    return tenant_incidents_reconcile()
