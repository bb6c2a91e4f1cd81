"""Background jobs of the automation app (django-q2). Fan-outs run in the public schema and queue
one task per active tenant, which runs inside that tenant's schema."""

from __future__ import annotations

from automations.services.state import conversation_states_expire, conversation_states_next_due
from tenants.jobs import TASK_OPTIONS, tenant_task, tenants_with_work_fan_out
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
