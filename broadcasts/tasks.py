"""Background jobs of campaigns."""

from __future__ import annotations

from broadcasts.campaigns import campaigns_finish
from tenants.jobs import tenant_task, tenants_fan_out


def campaigns_finish_fan_out() -> int:
    """The schedule's entry point: each active tenant marks its campaigns with nothing left as finished."""
    return len(tenants_fan_out(tenant_campaigns_finish))


@tenant_task
def tenant_campaigns_finish() -> int:
    return len(campaigns_finish())
