"""Background jobs of the automation app (django-q2). Fan-outs run in the public schema and queue
one task per active tenant, which runs inside that tenant's schema."""

from __future__ import annotations

from automations.services.state import conversation_states_expire
from tenants.jobs import TASK_OPTIONS, tenant_task, tenants_fan_out


def conversation_states_expire_fan_out() -> int:
    return len(tenants_fan_out(conversation_states_expire_task, q_options=TASK_OPTIONS))


@tenant_task
def conversation_states_expire_task() -> int:
    """Close expired conversation states in the current tenant."""
    return conversation_states_expire()
