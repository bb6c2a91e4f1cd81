"""Reads for the platform console: tenants at a glance, the webhook journal's backlog, the workers'
heartbeats and the dead letters. All run in the public schema, where these tables live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from platform_core.heartbeats import PROCESS_TYPES, heartbeats_by_type
from tenants.models import MetaRoute, Tenant
from tenants.selectors import customer_tenants
from webhooks.journal import journal_backlog
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

UNFINISHED = (WebhookJournalEntry.State.PENDING, WebhookJournalEntry.State.PROCESSING)


def tenants_overview() -> QuerySet[Tenant]:
    """Every customer tenant with `account_count` (its WABAs in the routing index: no schema is
    entered) and its domains, newest first."""
    return (
        customer_tenants()
        .annotate(account_count=Count("meta_routes", filter=Q(meta_routes__kind=MetaRoute.Kind.WABA)))
        .prefetch_related("domains")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class JournalStatus:
    pending: int
    processing: int
    claimable: int  # unfinished and due now: what the workers should be taking
    waiting: int  # unfinished, held back by a retry's backoff or a worker's lease
    failed: int  # gave up after the journal's attempts; only a replay runs them again
    oldest_unfinished_at: datetime | None

    @property
    def oldest_unfinished_age_s(self) -> float:
        if self.oldest_unfinished_at is None:
            return 0.0
        return max((timezone.now() - self.oldest_unfinished_at).total_seconds(), 0.0)


def journal_status() -> JournalStatus:
    unfinished = WebhookJournalEntry.objects.filter(state__in=UNFINISHED)
    by_state = dict(
        unfinished.values("state").annotate(count=Count("id")).values_list("state", "count").order_by()
    )
    oldest = unfinished.aggregate(oldest=Min("received_at"))["oldest"]
    backlog = journal_backlog()
    return JournalStatus(
        pending=by_state.get(WebhookJournalEntry.State.PENDING, 0),
        processing=by_state.get(WebhookJournalEntry.State.PROCESSING, 0),
        claimable=backlog["claimable"],
        waiting=backlog["waiting"],
        failed=backlog["failed"],
        oldest_unfinished_at=oldest,
    )


def journal_failed_ids(*, limit: int) -> list[int]:
    """The oldest failed journal rows' ids (a replay takes at most `limit` at once)."""
    failed = WebhookJournalEntry.objects.filter(state=WebhookJournalEntry.State.FAILED)
    return list(failed.order_by("id").values_list("id", flat=True)[:limit])


@dataclass(frozen=True)
class WorkerStatus:
    process_type: str
    alive: int  # processes that beat within HEARTBEAT_STALE_AFTER_S
    last_beat_at: datetime | None
    age_s: float | None


def workers_status() -> list[WorkerStatus]:
    """The expected worker types first (even if none ever beat), then any other type that beat."""
    beats = heartbeats_by_type(alive_within_s=settings.HEARTBEAT_STALE_AFTER_S)
    result = []
    for process_type in dict.fromkeys([*PROCESS_TYPES, *sorted(beats)]):
        beat = beats.get(process_type)
        result.append(
            WorkerStatus(
                process_type=process_type,
                alive=beat.alive if beat else 0,
                last_beat_at=beat.last_beat_at if beat else None,
                age_s=beat.age_s if beat else None,
            )
        )
    return result


def dead_letters_waiting() -> QuerySet[WebhookDeadLetter]:
    """Unresolved dead letters, newest first (the envelope is loaded only on a letter's own page)."""
    return WebhookDeadLetter.objects.filter(resolved_at__isnull=True).defer("envelope").order_by("-id")


def dead_letters_by_reason() -> list[dict]:
    """Unresolved dead letters counted by reason, every known reason listed."""
    counts = dict(
        WebhookDeadLetter.objects.filter(resolved_at__isnull=True)
        .values("reason")
        .annotate(count=Count("id"))
        .values_list("reason", "count")
        .order_by()
    )
    labels = dict(WebhookDeadLetter.Reason.choices)
    reasons = [*labels, *sorted(set(counts) - set(labels))]
    return [
        {"reason": reason, "label": labels.get(reason, reason), "count": counts.get(reason, 0)}
        for reason in reasons
    ]


def dead_letters_resolved_count() -> int:
    return WebhookDeadLetter.objects.filter(resolved_at__isnull=False).count()
