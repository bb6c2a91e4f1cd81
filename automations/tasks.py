"""Background jobs of the automation app (django-q2). Fan-outs run in the public schema and queue
one task per active tenant, which runs inside that tenant's schema."""

from __future__ import annotations

from automations.services.state import conversation_states_expire, conversation_states_next_due
from automations.services.step_visits import step_visits_kept_since, workflow_step_visits_prune
from tenants.jobs import TASK_OPTIONS, schemas_fan_out, tenant_task, tenants_with_work_fan_out
from tenants.selectors import active_tenants
from tenants.work_pending import WorkKind, work_settle, work_version


def conversation_states_expire_fan_out() -> int:
    return len(
        tenants_with_work_fan_out(WorkKind.CONVERSATION_STATES, conversation_states_expire_task, q_options=TASK_OPTIONS)
    )


@tenant_task
def conversation_states_expire_task() -> int:
    """Close expired conversation states in the current tenant; the index waits for the next one."""
    version = work_version(kind=WorkKind.CONVERSATION_STATES)
    expired = conversation_states_expire()
    work_settle(kind=WorkKind.CONVERSATION_STATES, version=version, due_at=conversation_states_next_due())
    return expired


def workflow_step_visits_prune_fan_out() -> int:
    """Daily, in the public schema: a prune for each active tenant old enough to hold visits past the
    kept days (a younger workspace cannot, visits being written as steps are entered)."""
    schemas = active_tenants().filter(created_at__lt=step_visits_kept_since()).values_list("schema_name", flat=True)
    return len(schemas_fan_out(schemas, workflow_step_visits_prune_task, q_options=TASK_OPTIONS))


@tenant_task
def workflow_step_visits_prune_task() -> int:
    return workflow_step_visits_prune()
