"""One delivery attempt: claim due deliveries with a lease, POST the signed event, record the
outcome, schedule the retry or give up, and disable an endpoint that has failed for days.

Runs in the tenant's schema. Claims use `FOR UPDATE SKIP LOCKED`, so workers never take the same
delivery while its lease runs; the attempt is counted at claim time, so a delivery whose worker
dies mid-attempt is taken again once the lease has expired (at least once, never lost).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from integrations import services
from integrations.errors import EndpointUrlRefused
from integrations.models import Delivery, Endpoint
from integrations.signing import signature_headers
from integrations.url_guard import endpoint_target
from tenants.work_pending import WorkKind, work_announce

# Waits before each retry: the n-th failed attempt waits RETRY_DELAYS_S[n - 1]. About three days
# in all; a delivery failing once more after the last gives up.
RETRY_DELAYS_S = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, *(10 * 3600,) * 6)
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
REQUEST_TIMEOUT_S = 10.0
LEASE_S = 60.0  # well above the request timeout
RESPONSE_SNIPPET_CHARS = 1000
USER_AGENT = "WhatsApp-Business-Platform-Webhooks/1"


@dataclass(frozen=True)
class AttemptOutcome:
    succeeded: bool
    status: int | None = None
    snippet: str = ""
    error: str = ""
    duration_ms: int = 0


def deliveries_claim(
    *, worker: str, limit: int, per_endpoint: int, lease_s: float = LEASE_S, now: datetime | None = None
) -> list[int]:
    """Take up to `limit` due deliveries of enabled endpoints, at most `per_endpoint` in flight for
    any one endpoint (counting leases other workers hold). Returns their ids."""
    now = now or timezone.now()
    due = Q(
        state__in=[Delivery.State.PENDING, Delivery.State.FAILED],
        next_attempt_at__lte=now,
        endpoint__is_enabled=True,
    ) & (Q(leased_until__isnull=True) | Q(leased_until__lt=now))
    with transaction.atomic():
        candidates = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due)
            .order_by("next_attempt_at", "id")
            .values_list("pk", "endpoint_id")[: limit * 4]
        )
        if not candidates:
            return []
        in_flight = Counter(
            Delivery.objects.filter(
                leased_until__gte=now, state__in=[Delivery.State.PENDING, Delivery.State.FAILED]
            ).values_list("endpoint_id", flat=True)
        )
        chosen = []
        for pk, endpoint_id in candidates:
            if in_flight[endpoint_id] < per_endpoint:
                in_flight[endpoint_id] += 1
                chosen.append(pk)
            if len(chosen) == limit:
                break
        Delivery.objects.filter(pk__in=chosen).update(
            leased_until=now + timedelta(seconds=lease_s), leased_by=worker, attempts=F("attempts") + 1
        )
    return chosen


def deliveries_next_due() -> datetime | None:
    """When this tenant's deliveries next need a worker: the earliest retry or lease end of the
    deliveries of enabled endpoints still to go; None when there are none."""
    return (
        Delivery.objects.filter(
            state__in=[Delivery.State.PENDING, Delivery.State.FAILED], endpoint__is_enabled=True
        )
        .annotate(ready_at=Greatest("next_attempt_at", Coalesce("leased_until", "next_attempt_at")))
        .aggregate(due=Min("ready_at"))["due"]
    )


def request_post(
    *, url: str, body: str, headers: dict[str, str], extensions: dict[str, str] | None = None
) -> httpx.Response:
    """The one place events leave over HTTP."""
    with httpx.Client(timeout=REQUEST_TIMEOUT_S, follow_redirects=False) as client:
        return client.post(url, content=body.encode(), headers=headers, extensions=extensions or {})


def delivery_attempt(*, delivery_id: int, worker: str, now: datetime | None = None) -> Delivery.State | None:
    """POST a claimed delivery and record how it went. None when the lease is no longer ours."""
    delivery = (
        Delivery.objects.select_related("event", "endpoint").filter(pk=delivery_id, leased_by=worker).first()
    )
    if delivery is None:
        return None
    endpoint, event = delivery.endpoint, delivery.event
    started_at = now or timezone.now()
    body = json.dumps(event.envelope(), separators=(",", ":"), ensure_ascii=False)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signature_headers(
            secrets_valid=services.endpoint_signing_secrets(endpoint=endpoint, now=started_at),
            message_id=event.event_id,
            timestamp=int(started_at.timestamp()),
            body=body,
        ),
    }
    outcome = _post(url=endpoint.url, body=body, headers=headers)
    return delivery_record(
        delivery=delivery,
        worker=worker,
        body=body,
        outcome=outcome,
        now=started_at if now else timezone.now(),
    )


def _post(*, url: str, body: str, headers: dict[str, str]) -> AttemptOutcome:
    started = time.monotonic()
    try:
        target = endpoint_target(url)
        response = request_post(
            url=target.url, body=body, headers={**headers, **target.headers}, extensions=target.extensions
        )
    except EndpointUrlRefused as refused:
        return AttemptOutcome(succeeded=False, error=f"Refused: {refused.message}")
    except httpx.TimeoutException:
        return AttemptOutcome(
            succeeded=False,
            error=f"No answer within {REQUEST_TIMEOUT_S:.0f} s.",
            duration_ms=_ms_since(started),
        )
    except httpx.HTTPError as error:
        return AttemptOutcome(
            succeeded=False, error=f"{type(error).__name__}: {error}"[:1000], duration_ms=_ms_since(started)
        )
    ok = 200 <= response.status_code < 300
    return AttemptOutcome(
        succeeded=ok,
        status=response.status_code,
        snippet=response.text[:RESPONSE_SNIPPET_CHARS],
        error="" if ok else f"The endpoint answered {response.status_code}.",
        duration_ms=_ms_since(started),
    )


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def delivery_record(
    *, delivery: Delivery, worker: str, body: str, outcome: AttemptOutcome, now: datetime
) -> Delivery.State | None:
    """Write the attempt's outcome if the lease is still ours; schedule the retry or give up."""
    if outcome.succeeded:
        state, next_attempt_at = Delivery.State.SUCCEEDED, delivery.next_attempt_at
    elif delivery.attempts >= MAX_ATTEMPTS:
        state, next_attempt_at = Delivery.State.GAVE_UP, delivery.next_attempt_at
    else:
        state = Delivery.State.FAILED
        next_attempt_at = now + timedelta(seconds=RETRY_DELAYS_S[delivery.attempts - 1])
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, leased_by=worker).update(
            state=state,
            next_attempt_at=next_attempt_at,
            leased_until=None,
            leased_by="",
            request_body=body,
            response_status=outcome.status,
            response_snippet=outcome.snippet,
            last_error=outcome.error,
            duration_ms=outcome.duration_ms,
            last_attempt_at=now,
            succeeded_at=now if outcome.succeeded else None,
        )
        if not updated:
            return None
        if state == Delivery.State.FAILED:
            work_announce(kind=WorkKind.DELIVERIES, due_at=next_attempt_at)
        _endpoint_health_record(endpoint=delivery.endpoint, succeeded=outcome.succeeded, now=now)
    return state


def _endpoint_health_record(*, endpoint: Endpoint, succeeded: bool, now: datetime) -> None:
    if succeeded:
        Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    days = settings.INTEGRATIONS_ENDPOINT_DISABLE_AFTER_DAYS
    failing_since = Endpoint.objects.filter(pk=endpoint.pk).values_list("failing_since", flat=True).first()
    if failing_since is not None and now - failing_since >= timedelta(days=days):
        services.endpoint_disable(
            endpoint_id=endpoint.pk,
            now=now,
            reason=f"Every delivery failed for {days} days (since {failing_since:%Y-%m-%d %H:%M} UTC).",
        )
