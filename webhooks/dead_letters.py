"""Dead letters over time: delivered when their tenant is resumed, deleted after their retention.

Both run in the public schema, where the dead letters live; a replay enters the tenant's schema
itself (webhooks.processing.dead_letter_replay).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants.context import connection
from tenants.models import MetaRoute, Tenant
from webhooks.journal import PRUNE_BUDGET_S, rows_delete_in_batches
from webhooks.models import WebhookDeadLetter
from webhooks.processing import dead_letter_replay
from webhooks.routing import ROUTE_KINDS

logger = logging.getLogger(__name__)

REPLAY_BUDGET_S = 45  # under the task timeout (tenants.jobs.JOB_TIMEOUT_S); the rest goes on in a new task
REPLAY_BATCH = 200


@dataclass(frozen=True)
class TenantReplay:
    delivered: int
    still_waiting: int
    # The id to continue after when the budget ran out; None once every letter was tried.
    resume_after_id: int | None


def tenant_dead_letters_waiting(*, tenant: Tenant) -> Q:
    """Unresolved dead letters that waited because `tenant` was inactive, by its routes today."""
    routes = MetaRoute.objects.filter(tenant=tenant).values_list("kind", "external_id")
    ids_by_kind: dict[str, list[str]] = {}
    for kind, external_id in routes:
        ids_by_kind.setdefault(kind, []).append(external_id)
    condition = Q(pk__in=[])
    for routing_kind, route_kind in ROUTE_KINDS.items():
        if ids_by_kind.get(route_kind):
            condition |= Q(routing_kind=routing_kind, routing_id__in=ids_by_kind[route_kind])
    return condition & Q(resolved_at__isnull=True, reason=WebhookDeadLetter.Reason.TENANT_INACTIVE)


def tenant_dead_letters_replay(
    *, tenant_id: int, after_id: int = 0, budget_s: float = REPLAY_BUDGET_S
) -> TenantReplay:
    """Replay, oldest first, the dead letters that waited for a resumed tenant. Idempotent.

    Nothing happens unless the tenant is active now (suspended again meanwhile, or deleted:
    the letters keep waiting). Each letter is routed again, so one that now belongs elsewhere
    goes there, or stays with its new reason.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or not tenant.is_active:
        return TenantReplay(delivered=0, still_waiting=0, resume_after_id=None)
    waiting = WebhookDeadLetter.objects.filter(tenant_dead_letters_waiting(tenant=tenant))
    deadline = time.monotonic() + budget_s
    delivered = still_waiting = 0
    while True:
        ids = list(waiting.filter(pk__gt=after_id).order_by("pk").values_list("pk", flat=True)[:REPLAY_BATCH])
        if not ids:
            break
        for dead_letter_id in ids:
            if time.monotonic() >= deadline:
                logger.info("Replayed %s dead letters of %s; continuing after %s.", delivered, tenant.slug, after_id)
                return TenantReplay(delivered=delivered, still_waiting=still_waiting, resume_after_id=after_id)
            try:
                result = dead_letter_replay(dead_letter_id=dead_letter_id)
            except Exception:  # one letter must not hold back the others; it stays for the admin
                logger.exception("Replaying dead letter %s of %s failed.", dead_letter_id, tenant.slug)
                result = None
            if result is not None and result.delivered:
                delivered += 1
            else:
                still_waiting += 1
            after_id = dead_letter_id
    if delivered or still_waiting:
        logger.info("Resumed tenant %s: %s dead letters delivered, %s still waiting.",
                    tenant.slug, delivered, still_waiting)
    return TenantReplay(delivered=delivered, still_waiting=still_waiting, resume_after_id=None)


def webhook_dead_letters_prune(
    *, now: datetime | None = None, retention_days: int | None = None, batch_size: int | None = None,
    budget_s: float = PRUNE_BUDGET_S,
) -> int:
    """Delete dead letters recorded more than WEBHOOK_DEAD_LETTER_RETENTION_DAYS ago, resolved or not."""
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("webhook_dead_letters_prune runs in the public schema, where dead letters live.")
    now = now or timezone.now()
    if retention_days is None:
        retention_days = settings.WEBHOOK_DEAD_LETTER_RETENTION_DAYS
    cutoff = now - timedelta(days=retention_days)
    expired = WebhookDeadLetter.objects.filter(created_at__lt=cutoff)
    # No index on created_at; ids grow with it, so the first id past the cutoff bounds the batches.
    first_kept = (WebhookDeadLetter.objects.filter(created_at__gte=cutoff).order_by("pk")
                  .values_list("pk", flat=True).first())
    if first_kept is not None:
        expired = expired.filter(pk__lt=first_kept)
    return rows_delete_in_batches(
        expired=expired, batch_size=batch_size or settings.WEBHOOK_JOURNAL_PRUNE_BATCH_SIZE,
        deadline=time.monotonic() + budget_s,
    )
