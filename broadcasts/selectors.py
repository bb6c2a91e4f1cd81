"""Reads of broadcasts: progress is counted from the messages the broadcast queued."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from broadcasts.models import CANCELLED_TITLE, Broadcast
from messaging.models import Message
from messaging.status_order import IN_OUTBOX


@dataclass(frozen=True)
class BroadcastProgress:
    total: int
    queued: int
    sent: int
    delivered: int
    read: int
    failed: int
    cancelled: int
    skipped: int

    @property
    def pending(self) -> int:
        return self.queued


def broadcasts_list() -> QuerySet[Broadcast]:
    return Broadcast.objects.select_related("phone_number").order_by("-created_at", "-id")


def broadcast_get(*, broadcast_id: int) -> Broadcast:
    """Raises Broadcast.DoesNotExist: ids of other tenants' broadcasts do not exist in this schema."""
    return broadcasts_list().get(pk=broadcast_id)


def broadcast_progress(*, broadcast: Broadcast) -> BroadcastProgress:
    counts = Message.objects.filter(broadcast_recipient__broadcast=broadcast).aggregate(
        queued=Count("id", filter=Q(status__in=IN_OUTBOX)),
        sent=Count("id", filter=Q(status=Message.Status.SENT)),
        delivered=Count("id", filter=Q(status=Message.Status.DELIVERED)),
        read=Count("id", filter=Q(status=Message.Status.READ)),
        failed=Count("id", filter=Q(status=Message.Status.FAILED) & ~Q(error_title=CANCELLED_TITLE)),
        cancelled=Count("id", filter=Q(status=Message.Status.FAILED, error_title=CANCELLED_TITLE)),
    )
    skipped = broadcast.recipients.filter(message__isnull=True).count()
    return BroadcastProgress(total=broadcast.total_recipients, skipped=skipped, **counts)


def broadcast_state(*, broadcast: Broadcast, progress: BroadcastProgress) -> str:
    """queuing, running, completed (nothing left to send) or cancelled."""
    if broadcast.status == Broadcast.Status.RUNNING and progress.pending == 0:
        return "completed"
    return broadcast.status
