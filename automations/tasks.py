"""Background jobs of the automation app (django-q2; they run inside the tenant named at enqueue time)."""

from __future__ import annotations

from automations.services.state import conversation_states_expire
from tenants.jobs import tenant_task


@tenant_task
def conversation_states_expire_task() -> int:
    """Close expired conversation states in the current tenant. The schedule that runs it lives in
    analytics (it calls `automations.services.conversation_states_expire` per tenant)."""
    return conversation_states_expire()
