"""The alerts' sweep: which workspaces it visits, read from public tables only, and the visit.

Every ALERTS_SWEEP_INTERVAL_MINUTES the sweep reconciles a workspace's incidents with its state
(`alerts.services.tenant_incidents_reconcile`). A workspace can have an incident to open or
resolve only when one of these holds, and each is found without entering any tenant schema:

1. work of kind ALERTS is announced for it (tenants.work_pending), in the writer's transaction:
   an incident opened (`alerts.services.incidents_reconcile`), so the sweep comes back until every
   open incident is resolved, a deleted account's included; an account marked unhealthy or
   suspended (`waba.services.accounts`); an account, number or template saved in a state that is
   a condition, or an account event whose reconcile failed (`alerts.receivers`);
2. its public health summary shows an unhealthy account or a number whose quality dropped
   (tenants.health_summary);
3. its unresolved dead letters (routed by one of its WABA or phone number ids, owned through the
   routing index) reach ALERT_DEAD_LETTERS_THRESHOLD;
4. unfinished journal rows received more than ALERT_WEBHOOK_BACKLOG_AGE_MINUTES ago name its
   WABAs (the entries' ids) at least ALERT_WEBHOOK_BACKLOG_THRESHOLD times; at most
   BACKLOG_ROWS_READ of the oldest such rows are read.

A visit reads the ALERTS row's version first, reconciles, then clears the row when no incident is
left open, else keeps it due: so an idle workspace is never visited, and the cost of a sweep
follows the workspaces with something wrong, not the number of workspaces.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from alerts.conditions import DROPPED_QUALITY, UNFINISHED
from alerts.models import Incident
from alerts.services import tenant_incidents_reconcile
from tenants.health_summary import schemas_with_unhealthy_accounts
from tenants.models import MetaRoute
from tenants.selectors import active_tenants
from tenants.work_pending import WorkKind, schemas_with_work, work_settle, work_version
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

BACKLOG_ROWS_READ = 10_000
# A dead letter's routing kind -> the routing index's kind.
ROUTE_KINDS = {"waba_id": MetaRoute.Kind.WABA, "phone_number_id": MetaRoute.Kind.PHONE_NUMBER}


def schemas_to_sweep(*, now: datetime | None = None) -> list[str]:
    """The active workspaces' schemas that may have an incident to open or resolve (rules above)."""
    now = now or timezone.now()
    schemas = set(schemas_with_work(kind=WorkKind.ALERTS, now=now))
    schemas.update(schemas_with_unhealthy_accounts(dropped_qualities=DROPPED_QUALITY))
    by_tenant = _dead_letters_by_tenant()
    backlog = _backlog_by_tenant(
        received_before=now - timedelta(minutes=settings.ALERT_WEBHOOK_BACKLOG_AGE_MINUTES)
    )
    tenant_ids = {
        tenant_id for tenant_id, count in by_tenant.items() if count >= settings.ALERT_DEAD_LETTERS_THRESHOLD
    } | {tenant_id for tenant_id, count in backlog.items() if count >= settings.ALERT_WEBHOOK_BACKLOG_THRESHOLD}
    if tenant_ids:
        schemas.update(active_tenants().filter(pk__in=tenant_ids).values_list("schema_name", flat=True))
    return sorted(schemas)


def _dead_letters_by_tenant() -> Counter[int]:
    """Unresolved dead letters per owning tenant, by their routing ids."""
    counts: Counter[int] = Counter()
    per_id = (
        WebhookDeadLetter.objects.filter(resolved_at__isnull=True, routing_kind__in=list(ROUTE_KINDS))
        .values_list("routing_kind", "routing_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    owners = _owners({(ROUTE_KINDS[kind], routing_id) for kind, routing_id, _ in per_id})
    for kind, routing_id, count in per_id:
        tenant_id = owners.get((ROUTE_KINDS[kind], routing_id))
        if tenant_id is not None:
            counts[tenant_id] += count
    return counts


def _backlog_by_tenant(*, received_before: datetime) -> Counter[int]:
    """Unfinished journal rows received before `received_before` per tenant owning a WABA they name."""
    bodies = (
        WebhookJournalEntry.objects.filter(state__in=UNFINISHED, received_at__lt=received_before)
        .order_by("received_at")
        .values_list("body", flat=True)[:BACKLOG_ROWS_READ]
    )
    named = [_waba_ids_named(bytes(body)) for body in bodies]
    owners = _owners({(MetaRoute.Kind.WABA, waba_id) for waba_ids in named for waba_id in waba_ids})
    counts: Counter[int] = Counter()
    for waba_ids in named:
        # A row naming two WABAs of one tenant counts once for it.
        counts.update(
            {tenant for waba_id in waba_ids if (tenant := owners.get((MetaRoute.Kind.WABA, waba_id))) is not None}
        )
    return counts


def _waba_ids_named(body: bytes) -> set[str]:
    """The WABA ids of a webhook body's entries (none when it is not Meta's shape)."""
    try:
        entries = json.loads(body).get("entry") or []
        return {str(entry["id"]) for entry in entries if isinstance(entry, dict) and entry.get("id")}
    except (ValueError, AttributeError, TypeError):
        return set()


def _owners(ids: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The tenant owning each (routing kind, external id), from the routing index."""
    if not ids:
        return {}
    routes = MetaRoute.objects.filter(external_id__in={external_id for _, external_id in ids}).values_list(
        "kind", "external_id", "tenant_id"
    )
    return {(kind, external_id): tenant_id for kind, external_id, tenant_id in routes if (kind, external_id) in ids}


def incidents_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Reconcile this workspace's incidents, then settle its ALERTS work: cleared when none is left
    open, else kept due for the next sweep. Runs in the tenant's schema; returns (opened, resolved)."""
    version = work_version(kind=WorkKind.ALERTS)
    opened, resolved = tenant_incidents_reconcile(now=now)
    still_open = Incident.objects.filter(resolved_at__isnull=True).exists()
    work_settle(kind=WorkKind.ALERTS, version=version, due_at=timezone.now() if still_open else None)
    return opened, resolved
