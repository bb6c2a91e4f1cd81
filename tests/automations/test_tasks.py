"""The automation app's schedule: conversation states expire in every active tenant with a state due
(the work-pending index)."""

from __future__ import annotations

from automations import tasks
from tenants.context import connection
from tenants.work_pending import WorkKind, work_announce

CALLS: list[str] = []


def record_schema() -> str:
    CALLS.append(connection.schema_name)
    return connection.schema_name


def states_due_in(*tenants, in_tenant) -> None:
    for tenant in tenants:
        with in_tenant(tenant):
            work_announce(kind=WorkKind.CONVERSATION_STATES)  # as starting a state does


def test_conversation_states_expire_runs_once_in_each_active_tenant(
    sync_jobs, monkeypatch, tenant_a, tenant_b, in_tenant
):
    monkeypatch.setattr(tasks, "conversation_states_expire", record_schema)
    CALLS.clear()
    states_due_in(tenant_a, tenant_b, in_tenant=in_tenant)

    assert tasks.conversation_states_expire_fan_out() == 2

    assert sorted(CALLS) == sorted([tenant_a.schema_name, tenant_b.schema_name])


def test_the_real_expiry_runs_in_every_tenant_without_failing(sync_jobs, tenant_a, tenant_b, in_tenant):
    states_due_in(tenant_a, tenant_b, in_tenant=in_tenant)
    # In sync mode an exception inside a task propagates here and fails the test.
    assert tasks.conversation_states_expire_fan_out() == 2
