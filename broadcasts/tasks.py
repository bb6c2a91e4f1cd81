"""Background jobs of campaigns."""

from __future__ import annotations

from broadcasts.campaigns import campaigns_finish, campaigns_running
from tenants.jobs import tenant_task, tenants_with_work_fan_out
from tenants.work_pending import WorkKind, work_settle, work_version


def campaigns_finish_fan_out() -> int:
    """The schedule's entry point: each active tenant with a running campaign (the work-pending
    index) marks its campaigns with nothing left as finished."""
    return len(tenants_with_work_fan_out(WorkKind.CAMPAIGNS, tenant_campaigns_finish))


@tenant_task
def tenant_campaigns_finish() -> int:
    """Leaves the index once no campaign is running (one started or resumed since announces again)."""
    version = work_version(kind=WorkKind.CAMPAIGNS)
    finished = campaigns_finish()
    if not campaigns_running():
        work_settle(kind=WorkKind.CAMPAIGNS, version=version, due_at=None)
    return len(finished)
