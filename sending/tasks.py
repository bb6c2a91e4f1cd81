"""Background jobs of the send pipeline (django-q2). Fan-outs run in the public schema and queue
one task per active tenant with messages in its outbox (the work-pending index), which runs inside
that tenant's schema."""

from __future__ import annotations

from django.conf import settings

from sending.outbox import Reconciled, outbox_reconcile
from tenants.jobs import TASK_OPTIONS, tenant_task, tenants_with_work_fan_out
from tenants.work_pending import WorkKind


def stuck_messages_reconcile_fan_out() -> int:
    return len(
        tenants_with_work_fan_out(WorkKind.OUTBOX, tenant_stuck_messages_reconcile, q_options=TASK_OPTIONS)
    )


@tenant_task
def tenant_stuck_messages_reconcile() -> Reconciled:
    """Messages left in `sending` past their lease, settled by the outbox's own rules."""
    return outbox_reconcile(max_attempts=settings.SEND_MAX_ATTEMPTS)
