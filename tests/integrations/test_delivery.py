"""Deliveries: signed as the Standard Webhooks spec says (checked by an implementation written
here from the spec), retried with backoff, never lost when a worker dies, given up after days."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.delivery import LEASE_S, MAX_ATTEMPTS, RETRY_DELAYS_S, deliveries_claim, delivery_attempt
from integrations.models import Delivery, Endpoint, Event
from integrations.schedules import schedules
from integrations.services import (
    endpoint_create,
    endpoint_secret_roll,
    endpoint_test_send,
    event_emit,
    events_prune,
)
from integrations.worker import deliver_drain, deliveries_run_once


def spec_signatures_valid(*, secret: str, headers: dict[str, str], body: str) -> list[bool]:
    """Standard Webhooks verification, from the spec: one bool per `v1,` signature in the header."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_") :])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    results = []
    for entry in headers["webhook-signature"].split(" "):
        version, _, value = entry.partition(",")
        assert version == "v1"
        results.append(hmac.compare_digest(value, expected))
    return results


@pytest.fixture
def endpoint_with_secret(tenant_a, in_tenant, receiver):
    with in_tenant(tenant_a):
        return endpoint_create(url=receiver.url, event_types=["order.created", "support_ticket.created"])


def test_a_test_event_arrives_signed_with_the_endpoint_secret(
    tenant_a, in_tenant, receiver, endpoint_with_secret
):
    endpoint, secret = endpoint_with_secret
    with in_tenant(tenant_a):
        delivery = endpoint_test_send(endpoint=endpoint)

    assert deliveries_run_once() == 1

    [request] = receiver.requests
    assert request.json["type"] == "ping"
    assert request.json["id"] == request.headers["webhook-id"] == delivery.event.event_id
    assert request.headers["webhook-id"].startswith("evt_")
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert spec_signatures_valid(secret=secret, headers=request.headers, body=request.body) == [True]
    assert spec_signatures_valid(
        secret="whsec_" + base64.b64encode(b"x" * 32).decode(), headers=request.headers, body=request.body
    ) == [False]
    with in_tenant(tenant_a):
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.SUCCEEDED
        assert delivery.response_status == 200
        assert delivery.request_body == request.body
        assert delivery.response_snippet == '{"ok": true}'
        assert delivery.leased_until is None


def test_a_rolled_secret_signs_next_to_the_new_one_until_it_expires(
    tenant_a, in_tenant, receiver, endpoint_with_secret
):
    endpoint, old_secret = endpoint_with_secret
    with in_tenant(tenant_a):
        new_secret = endpoint_secret_roll(endpoint=endpoint)
        endpoint_test_send(endpoint=endpoint)
    deliveries_run_once()

    request = receiver.requests[-1]
    assert spec_signatures_valid(secret=new_secret, headers=request.headers, body=request.body) == [
        True,
        False,
    ]
    assert spec_signatures_valid(secret=old_secret, headers=request.headers, body=request.body) == [
        False,
        True,
    ]

    with in_tenant(tenant_a):
        endpoint_test_send(endpoint=endpoint)
    deliveries_run_once(now=timezone.now() + timedelta(hours=25))
    request = receiver.requests[-1]
    assert spec_signatures_valid(secret=new_secret, headers=request.headers, body=request.body) == [True]


def test_an_endpoint_failing_twice_gets_the_event_on_the_third_attempt(
    tenant_a, in_tenant, receiver, endpoint_with_secret
):
    endpoint, _ = endpoint_with_secret
    receiver.statuses = [500, 503]
    now = timezone.now()
    with in_tenant(tenant_a):
        event = event_emit(type="order.created", data={"order": {"number": "ORD-1234"}}, now=now)
        assert event is not None
        delivery = Delivery.objects.get(event=event)

    deliveries_run_once(now=now)
    with in_tenant(tenant_a):
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.response_status) == (
            Delivery.State.FAILED,
            1,
            500,
        )
        assert delivery.next_attempt_at == now + timedelta(seconds=RETRY_DELAYS_S[0])
        assert delivery.response_snippet == "upstream broke"

    assert deliveries_run_once(now=now + timedelta(seconds=1)) == 0  # not due yet
    second = now + timedelta(seconds=RETRY_DELAYS_S[0])
    deliveries_run_once(now=second)
    third = second + timedelta(seconds=RETRY_DELAYS_S[1])
    deliveries_run_once(now=third)

    assert [request.json["id"] for request in receiver.requests] == [event.event_id] * 3
    assert receiver.requests[-1].json["data"] == {"order": {"number": "ORD-1234"}}
    with in_tenant(tenant_a):
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.response_status) == (
            Delivery.State.SUCCEEDED,
            3,
            200,
        )
        endpoint.refresh_from_db()
        assert endpoint.failing_since is None


def test_a_delivery_whose_worker_died_is_delivered_once_its_lease_expires(
    tenant_a, in_tenant, receiver, endpoint_with_secret
):
    endpoint, _ = endpoint_with_secret
    now = timezone.now()
    with in_tenant(tenant_a):
        delivery = endpoint_test_send(endpoint=endpoint, now=now)
        assert deliveries_claim(worker="killed", limit=10, per_endpoint=4, now=now) == [delivery.pk]

    assert deliveries_run_once(now=now + timedelta(seconds=LEASE_S - 1)) == 0  # the lease still runs
    assert receiver.requests == []
    assert deliveries_run_once(now=now + timedelta(seconds=LEASE_S + 1)) == 1

    assert len(receiver.requests) == 1
    with in_tenant(tenant_a):
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == (Delivery.State.SUCCEEDED, 2)
        # The killed worker, were it to come back, no longer owns the delivery: it records nothing.
        assert delivery_attempt(delivery_id=delivery.pk, worker="killed") is None


def test_a_delivery_gives_up_after_its_last_attempt(tenant_a, in_tenant, receiver, endpoint_with_secret):
    endpoint, _ = endpoint_with_secret
    receiver.statuses = [500]
    with in_tenant(tenant_a):
        delivery = endpoint_test_send(endpoint=endpoint)
        Delivery.objects.filter(pk=delivery.pk).update(attempts=MAX_ATTEMPTS - 1, state=Delivery.State.FAILED)
    deliveries_run_once()
    with in_tenant(tenant_a):
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == (Delivery.State.GAVE_UP, MAX_ATTEMPTS)
    assert sum(RETRY_DELAYS_S) / 86400 == pytest.approx(2.8, abs=0.3)


def test_an_endpoint_failing_for_three_days_is_disabled_and_no_longer_served(
    tenant_a, in_tenant, receiver, endpoint_with_secret
):
    endpoint, _ = endpoint_with_secret
    receiver.statuses = [500]
    now = timezone.now()
    with in_tenant(tenant_a):
        Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=now - timedelta(days=3))
        endpoint_test_send(endpoint=endpoint, now=now)
    deliveries_run_once(now=now)
    with in_tenant(tenant_a):
        endpoint.refresh_from_db()
        assert not endpoint.is_enabled
        assert "failed for 3 days" in endpoint.disabled_reason
        endpoint_test_send(endpoint=endpoint, now=now)
    assert deliveries_run_once(now=now + timedelta(days=1)) == 0


def test_one_endpoint_gets_at_most_its_share_of_the_claims(
    tenant_a, in_tenant, receiver, endpoint_with_secret
):
    endpoint, _ = endpoint_with_secret
    with in_tenant(tenant_a):
        other, _ = endpoint_create(url=receiver.url + "/other", event_types=["order.created"])
        for _ in range(5):
            endpoint_test_send(endpoint=endpoint)
        endpoint_test_send(endpoint=other)
        claimed = deliveries_claim(worker="w", limit=10, per_endpoint=2)
        endpoints = list(Delivery.objects.filter(pk__in=claimed).values_list("endpoint_id", flat=True))
    assert sorted(endpoints) == sorted([endpoint.pk, endpoint.pk, other.pk])


def test_a_test_event_of_another_tenant_is_delivered_from_its_own_schema(
    tenant_a, tenant_b, in_tenant, receiver
):
    with in_tenant(tenant_b):
        endpoint, _ = endpoint_create(url=receiver.url, event_types=["order.created"])
        endpoint_test_send(endpoint=endpoint)
    deliveries_run_once()
    assert len(receiver.requests) == 1
    with in_tenant(tenant_a):
        assert not Event.objects.exists()


def test_the_command_and_the_schedule_deliver_what_is_due(
    tenant_a, in_tenant, receiver, endpoint_with_secret
):
    endpoint, _ = endpoint_with_secret
    with in_tenant(tenant_a):
        endpoint_test_send(endpoint=endpoint)
    out = StringIO()
    call_command("integrations_deliver", "--once", stdout=out)
    assert "Attempted 1 deliveries." in out.getvalue()

    with in_tenant(tenant_a):
        endpoint_test_send(endpoint=endpoint)
    assert deliver_drain(budget_s=5) == 1
    assert len(receiver.requests) == 2
    assert [spec.func for spec in schedules()] == [
        "integrations.worker.deliver_drain",
        "integrations.worker.events_prune_fan_out",
    ]


def test_finished_events_past_their_retention_are_pruned(tenant_a, in_tenant, receiver, endpoint_with_secret):
    endpoint, _ = endpoint_with_secret
    now = timezone.now()
    with in_tenant(tenant_a):
        done = endpoint_test_send(endpoint=endpoint, now=now - timedelta(days=40))
        waiting = endpoint_test_send(endpoint=endpoint, now=now - timedelta(days=40))
        recent = endpoint_test_send(endpoint=endpoint, now=now)
        Delivery.objects.filter(pk__in=[done.pk, recent.pk]).update(state=Delivery.State.SUCCEEDED)

        assert events_prune(older_than=timedelta(days=30), now=now) == 1
        assert set(Event.objects.values_list("pk", flat=True)) == {waiting.event_id, recent.event_id}
        assert not Delivery.objects.filter(pk=done.pk).exists()
