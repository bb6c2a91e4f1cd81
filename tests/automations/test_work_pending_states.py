"""Conversation states in the work-pending index: a started state announces its expiry; the clean-up
schedule fans out only to tenants with a state due, and leaves the row waiting for the next one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from automations import conf
from automations.models import Workflow
from automations.services import conversation_state_start
from automations.tasks import conversation_states_expire_fan_out
from tenants.models import WorkPending
from tenants.work_pending import WorkKind


@pytest.fixture
def workflow_a(tenant_a, in_tenant, builtins_a):
    with in_tenant(tenant_a):
        return Workflow.objects.get(name="new_order")


def test_the_clean_up_visits_only_tenants_with_a_state_due_and_waits_for_the_next(
    sync_jobs, tenant_a, tenant_b, in_tenant, customer_a, workflow_a
):
    WorkPending.objects.all().delete()  # rows other suites committed are not this test's
    assert conversation_states_expire_fan_out() == 0
    with in_tenant(tenant_a):
        state = conversation_state_start(
            contact=customer_a.contact, phone_number=customer_a.number, workflow=workflow_a,
            step="ask_quantity", now=timezone.now() - timedelta(minutes=31),
        )
    row = WorkPending.objects.get(kind=WorkKind.CONVERSATION_STATES)
    assert (row.schema_name, row.due_at) == (tenant_a.schema_name, state.expires_at)

    assert conversation_states_expire_fan_out() == 1  # alpha only; the task runs at once (sync)

    with in_tenant(tenant_a):
        state.refresh_from_db()
    assert state.status == "expired"
    row.refresh_from_db()
    assert row.due_at == state.ended_at + conf.ENDED_STATE_RETENTION  # the closed state's prune
    assert conversation_states_expire_fan_out() == 0
