"""django-q2 entry points of the alerts' schedule (alerts.schedules). Thin: fan out, call a service.

The sweep visits only the workspaces that may have an incident to open or resolve (alerts.sweep).
"""

from __future__ import annotations

from alerts.sweep import incidents_sweep, schemas_to_sweep
from tenants.jobs import TASK_OPTIONS, schemas_fan_out, tenant_task


def incidents_sweep_fan_out() -> int:
    return len(schemas_fan_out(schemas_to_sweep(), tenant_incidents_sweep, q_options=TASK_OPTIONS))


@tenant_task
def tenant_incidents_sweep() -> tuple[int, int]:
    """Open and resolve this workspace's incidents from its state now; (opened, resolved)."""
    return incidents_sweep()
