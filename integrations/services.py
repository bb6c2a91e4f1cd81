"""Writes of the integrations: endpoints, their secrets, events and replays."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from integrations.errors import EndpointInvalid
from integrations.event_types import PING, EventType
from integrations.models import Delivery, Endpoint, Event
from integrations.url_guard import endpoint_url_check
from platform_core.batch_memo import batch_memo
from platform_core.webhook_signing import secret_new, secret_roll, signing_secrets
from tenants.work_pending import WorkKind, work_announce

# How long a rolled secret keeps signing next to the new one.
MAX_DESCRIPTION = 200
MAX_URL = 2000


def _event_types_checked(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    unknown = [name for name in chosen if name not in EventType.values]
    if unknown:
        raise EndpointInvalid(
            f"Unknown event type {', '.join(unknown)}; one of {', '.join(EventType.values)}.",
            details=[{"field": "event_types", "message": f"unknown: {name}"} for name in unknown],
        )
    if not chosen:
        raise EndpointInvalid(
            "Choose at least one event type.",
            details=[{"field": "event_types", "message": "choose at least one"}],
        )
    return chosen


def _url_checked(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL:
        raise EndpointInvalid(f"The URL is longer than {MAX_URL} characters.")
    endpoint_url_check(url)
    return url


def _description_checked(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise EndpointInvalid(f"The description is longer than {MAX_DESCRIPTION} characters.")
    return description


def endpoint_create(*, url: str, event_types: Iterable[str], description: str = "") -> tuple[Endpoint, str]:
    """A new enabled endpoint and its secret: the only time (with a roll) the secret is shown."""
    chosen, description = _event_types_checked(event_types), _description_checked(description)
    secret = secret_new()
    endpoint = Endpoint.objects.create(
        url=_url_checked(url), event_types=chosen, description=description, secret=secret
    )
    return endpoint, secret


def endpoint_update(
    *,
    endpoint: Endpoint,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    is_enabled: bool | None = None,
) -> Endpoint:
    """Change what is given. Enabling clears the disabled reason and the failure streak."""
    if event_types is not None:
        endpoint.event_types = _event_types_checked(event_types)
    if url is not None and url.strip() != endpoint.url:
        endpoint.url = _url_checked(url)
    if description is not None:
        endpoint.description = _description_checked(description)
    enabled_again = is_enabled is True and not endpoint.is_enabled
    if enabled_again:
        endpoint.is_enabled, endpoint.disabled_reason, endpoint.disabled_at = True, "", None
        endpoint.failing_since = None
    elif is_enabled is False and endpoint.is_enabled:
        endpoint.is_enabled, endpoint.disabled_reason, endpoint.disabled_at = (
            False,
            "Disabled by hand.",
            timezone.now(),
        )
    with transaction.atomic():
        endpoint.save()
        if enabled_again:  # its deliveries still pending are due again
            work_announce(kind=WorkKind.DELIVERIES)
    return endpoint


def endpoint_disable(*, endpoint_id: int, reason: str, now: datetime | None = None) -> None:
    Endpoint.objects.filter(pk=endpoint_id, is_enabled=True).update(
        is_enabled=False, disabled_reason=reason[:500], disabled_at=now or timezone.now()
    )


def endpoint_delete(*, endpoint: Endpoint) -> None:
    endpoint.delete()


def endpoint_secret_roll(*, endpoint: Endpoint, now: datetime | None = None) -> str:
    """A new secret; the current one keeps signing too for SECRET_OVERLAP. Returns the new secret."""
    return secret_roll(endpoint, now=now or timezone.now())


def endpoint_signing_secrets(*, endpoint: Endpoint, now: datetime) -> list[str]:
    return signing_secrets(endpoint, now=now)


def _subscribed_endpoint_ids(type: str) -> list[int]:
    return batch_memo(
        ("integrations.subscribed", type),
        lambda: list(
            Endpoint.objects.filter(is_enabled=True, event_types__contains=[type]).values_list("pk", flat=True)
        ),
    )


def event_type_subscribed(type: str) -> bool:
    """Whether an enabled endpoint subscribes to `type` (read once per batch of webhook changes)."""
    return bool(_subscribed_endpoint_ids(type))


def event_emit(*, type: str, data: dict[str, Any], now: datetime | None = None) -> Event | None:
    """Record an event and a pending delivery per enabled endpoint subscribed to `type`.

    Call it inside the transaction of the change it reports: both commit or roll back together.
    Writes nothing when no endpoint subscribes.
    """
    endpoint_ids = _subscribed_endpoint_ids(type)
    if not endpoint_ids:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.create(type=type, data=data, created_at=now)
        Delivery.objects.bulk_create(
            [
                Delivery(event=event, endpoint_id=pk, next_attempt_at=now, created_at=now)
                for pk in endpoint_ids
            ]
        )
        work_announce(kind=WorkKind.DELIVERIES, due_at=now)
    return event


def events_emit_many(*, type: str, data: Iterable[dict[str, Any]], now: datetime | None = None) -> int:
    """`event_emit` for many events of one type at once: one SELECT of the subscribed endpoints and,
    only when there are some, one INSERT of the events and one of their deliveries, whatever their
    number. `data` is read only then. Returns how many events were written."""
    endpoint_ids = _subscribed_endpoint_ids(type)
    if not endpoint_ids:
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        events = Event.objects.bulk_create([Event(type=type, data=item, created_at=now) for item in data])
        Delivery.objects.bulk_create(
            [
                Delivery(event=event, endpoint_id=pk, next_attempt_at=now, created_at=now)
                for event in events
                for pk in endpoint_ids
            ]
        )
        work_announce(kind=WorkKind.DELIVERIES, due_at=now)
    return len(events)


def endpoint_test_send(*, endpoint: Endpoint, now: datetime | None = None) -> Delivery:
    """A `ping` event for this endpoint only, delivered by the worker like any other."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            type=PING,
            data={"endpoint_id": endpoint.pk, "message": "A test event from the console."},
            created_at=now,
        )
        work_announce(kind=WorkKind.DELIVERIES, due_at=now)
        return Delivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now)


def delivery_replay(*, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """The same event (same `webhook-id`) sent again to the same endpoint, as a new delivery due now."""
    now = now or timezone.now()
    with transaction.atomic():
        work_announce(kind=WorkKind.DELIVERIES, due_at=now)
        return Delivery.objects.create(
            event_id=delivery.event_id, endpoint_id=delivery.endpoint_id, next_attempt_at=now, created_at=now
        )


def events_prune(*, older_than: timedelta, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete events older than `older_than` whose deliveries are all finished (succeeded or gave
    up), with those deliveries. Returns how many events went."""
    cutoff = (now or timezone.now()) - older_than
    unfinished = Delivery.objects.filter(
        event=OuterRef("pk"), state__in=[Delivery.State.PENDING, Delivery.State.FAILED]
    )
    deleted = 0
    while True:
        ids = list(
            Event.objects.filter(created_at__lt=cutoff)
            .exclude(Exists(unfinished))
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return deleted
        Event.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
