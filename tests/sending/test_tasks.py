"""The send pipeline's schedule: messages stuck in `sending` past their lease are reconciled in every
tenant with messages in its outbox (the work-pending index)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from messaging.models import Message
from sending import tasks
from tenants.work_pending import WorkKind, work_announce
from tests.analytics.factories import MessageFactory


def test_stuck_sending_messages_are_handed_to_the_send_pipeline(sync_jobs, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        stuck = MessageFactory(
            status=Message.Status.SENDING,
            wamid=None,
            attempts=1,
            next_attempt_at=timezone.now() - timedelta(minutes=5),
        )
        fresh = MessageFactory(
            status=Message.Status.SENDING,
            wamid=None,
            attempts=1,
            next_attempt_at=timezone.now() + timedelta(minutes=5),
        )
        work_announce(kind=WorkKind.OUTBOX)  # as queueing them did

    tasks.stuck_messages_reconcile_fan_out()

    with in_tenant(tenant_a):
        stuck.refresh_from_db()
        fresh.refresh_from_db()
        assert stuck.status == Message.Status.QUEUED
        assert fresh.status == Message.Status.SENDING


def test_the_reconcile_runs_in_every_tenant_with_an_outbox_without_failing(sync_jobs, tenant_a, tenant_b, in_tenant):
    assert tasks.stuck_messages_reconcile_fan_out() == 0
    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant):
            work_announce(kind=WorkKind.OUTBOX)
    assert tasks.stuck_messages_reconcile_fan_out() == 2
