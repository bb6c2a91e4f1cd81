"""Retention of workflow step visits: funnels read them for WORKFLOW_STEP_VISITS_KEEP_DAYS, then they go.

Runs in the current tenant schema.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from automations.models import Workflow, WorkflowStepVisit

PRUNE_BATCH_SIZE = 5_000
# Well inside the task's timeout; what is left waits for the next day's run.
PRUNE_BUDGET_S = 30.0


def step_visits_kept_since(*, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.WORKFLOW_STEP_VISITS_KEEP_DAYS)


def workflow_step_visits_prune(
    *, now: datetime | None = None, batch_size: int = PRUNE_BATCH_SIZE, budget_s: float = PRUNE_BUDGET_S
) -> int:
    """Delete the visits entered before the kept days, oldest first, workflow by workflow (the funnel
    index on (workflow, entered_at) finds them), at most `batch_size` rows per statement so each
    transaction stays short. Stops between batches once `budget_s` is spent. Returns how many went."""
    before = step_visits_kept_since(now=now)
    started = time.monotonic()
    deleted = 0
    for workflow_id in Workflow.objects.order_by("id").values_list("id", flat=True):
        while time.monotonic() - started < budget_s:
            ids = list(
                WorkflowStepVisit.objects.filter(workflow_id=workflow_id, entered_at__lt=before)
                .order_by("entered_at", "id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                break
            deleted += WorkflowStepVisit.objects.filter(id__in=ids).delete()[0]
    return deleted
