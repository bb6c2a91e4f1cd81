"""django-q2 entry points of the alerts' schedule (alerts.schedules). Thin: fan out, call a service.

The sweep visits only the workspaces that may have an incident to open or resolve (alerts.sweep).
"""

from __future__ import annotations

from alerts.sweep import incidents_sweep, schemas_to_sweep
from tenants.jobs import TASK_OPTIONS, tenant_task, tenant_task_enqueue


def incidents_sweep_fan_out() -> int:
    return len(
        [
            tenant_task_enqueue(tenant_incidents_sweep, schema_name=schema, q_options=TASK_OPTIONS)
            for schema in schemas_to_sweep()
        ]
    )


@tenant_task
def tenant_incidents_sweep() -> tuple[int, int]:
    """Open and resolve this workspace's incidents from its state now; (opened, resolved)."""
    return incidents_sweep()
