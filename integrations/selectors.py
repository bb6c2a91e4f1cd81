"""Reads of the integrations, in the current tenant's schema."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from integrations.errors import DeliveryNotFound, EndpointNotFound
from integrations.models import Delivery, Endpoint


def endpoint_list() -> QuerySet[Endpoint]:
    return Endpoint.objects.all()


def endpoint_get(*, endpoint_id: int) -> Endpoint:
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointNotFound(f"No webhook endpoint {endpoint_id} here.")
    return endpoint


def delivery_list(
    *, endpoint_id: int | None = None, state: str | None = None, event_type: str | None = None
) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.select_related("event", "endpoint")
    if endpoint_id is not None:
        deliveries = deliveries.filter(endpoint_id=endpoint_id)
    if state:
        deliveries = deliveries.filter(state=state)
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    return deliveries.order_by("-created_at", "-id")


def delivery_get(*, delivery_id: int, endpoint_id: int | None = None) -> Delivery:
    delivery = delivery_list(endpoint_id=endpoint_id).filter(pk=delivery_id).first()
    if delivery is None:
        raise DeliveryNotFound(f"No webhook delivery {delivery_id} here.")
    return delivery


def endpoint_delivery_stats(*, since: datetime | None = None) -> dict[int, dict[str, int]]:
    """Per endpoint id, its deliveries created since `since` (24 hours ago) by state."""
    since = since or timezone.now() - timedelta(hours=24)
    rows = (
        Delivery.objects.filter(created_at__gte=since)
        .values("endpoint_id")
        .annotate(
            succeeded=Count("id", filter=Q(state=Delivery.State.SUCCEEDED)),
            failed=Count("id", filter=Q(state__in=[Delivery.State.FAILED, Delivery.State.GAVE_UP])),
            pending=Count("id", filter=Q(state=Delivery.State.PENDING)),
        )
    )
    return {
        row["endpoint_id"]: {
            "succeeded": row["succeeded"],
            "failed": row["failed"],
            "pending": row["pending"],
        }
        for row in rows
    }
