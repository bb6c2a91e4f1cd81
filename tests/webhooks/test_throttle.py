"""Unauthenticated callers of the webhook and Flows endpoints are limited per source address.

Only refused requests (unknown app, bad signature or verify token, oversized body) spend from an
address's budget; Meta's signed deliveries never do, whatever their number.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import MetaApp
from tests.conftest import ApiClient
from tests.fixtures import load_webhook_fixture_bytes
from tests.messaging.factories import meta_app_create
from tests.webhooks.conftest import APP_ID, APP_SECRET, WebhookPoster
from webhooks.models import WebhookJournalEntry
from webhooks.throttle import SourceThrottle

BODY = load_webhook_fixture_bytes("message_text")
ATTACKER = "198.51.100.7"
META = "173.252.88.1"


@pytest.fixture
def small_budget(settings):
    settings.INBOUND_AUTH_FAILURE_BURST = 3
    settings.INBOUND_AUTH_FAILURE_PER_MINUTE = 6


def _post(client, *, app_id=APP_ID, secret=APP_SECRET, source=ATTACKER, signature="sign"):
    poster = WebhookPoster(client, app_id=app_id, secret=secret)
    client.defaults["REMOTE_ADDR"] = source
    return poster.post(BODY, signature=signature)


def test_forged_posts_beyond_the_burst_get_429_with_retry_after(meta_app, public_client, small_budget):
    refused = [_post(public_client, secret="not-the-secret").status_code for _ in range(3)]
    limited = _post(public_client, secret="not-the-secret")

    assert refused == [403, 403, 403]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) == 10  # one more attempt every 60/6 s
    # Once limited, the address gets 429 before its body is even looked at.
    assert _post(public_client).status_code == 429
    assert WebhookJournalEntry.objects.count() == 0


def test_meta_keeps_delivering_while_another_address_is_limited(meta_app, public_client, small_budget):
    for _ in range(5):
        _post(public_client, secret="not-the-secret")

    answers = [_post(public_client, source=META).status_code for _ in range(10)]

    assert answers == [200] * 10
    assert WebhookJournalEntry.objects.count() == 10


def test_unknown_app_ids_and_wrong_verify_tokens_spend_the_budget_too(meta_app, public_client, small_budget):
    public_client.defaults["REMOTE_ADDR"] = ATTACKER
    unknown = [WebhookPoster(public_client, app_id=f"99{n}").post(BODY).status_code for n in range(2)]
    guess = public_client.get(f"/webhooks/whatsapp/{APP_ID}",
                              {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    limited = public_client.get(f"/webhooks/whatsapp/{APP_ID}",
                                {"hub.mode": "subscribe", "hub.verify_token": "guess-2", "hub.challenge": "1"})

    assert unknown == [404, 404] and guess.status_code == 403
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"


def test_unknown_app_ids_are_remembered_briefly_and_forgotten_when_the_app_is_created(db, public_client):
    public_client.defaults["REMOTE_ADDR"] = META
    assert WebhookPoster(public_client, app_id="4242").post(BODY).status_code == 404
    with CaptureQueriesContext(connection) as queries:
        assert WebhookPoster(public_client, app_id="4242").post(BODY).status_code == 404
    assert [q["sql"] for q in queries.captured_queries if MetaApp._meta.db_table in q["sql"]] == []

    meta_app_create(app_id="4242", secret="fresh-app-secret-0123456789", verify_token="fresh-verify")

    assert WebhookPoster(public_client, app_id="4242", secret="fresh-app-secret-0123456789").post(BODY).status_code == 200


def test_the_flow_endpoint_limits_bad_signatures_per_address(db, tenant_a, small_budget):
    client = ApiClient("localhost")
    client.defaults["REMOTE_ADDR"] = ATTACKER
    answers = [
        client.post("/flows/endpoint/alpha/1", data=b"{}", content_type="application/json").status_code
        for _ in range(4)
    ]

    assert answers == [404, 404, 404, 429]
    limited = client.post("/flows/endpoint/alpha/1", data=b"{}", content_type="application/json")
    assert limited.json()["error"]["code"] == "rate_limited" and limited["Retry-After"] == "10"


def test_a_bucket_refills_at_its_rate_and_never_above_its_burst():
    now = [100.0]
    throttle = SourceThrottle(burst=2, per_minute=60, clock=lambda: now[0])

    throttle.charge("a")
    throttle.charge("a")
    assert throttle.blocked_for("a") == pytest.approx(1.0)
    assert throttle.blocked_for("b") is None
    now[0] += 1.0
    assert throttle.blocked_for("a") is None
    now[0] += 3600
    throttle.charge("a")
    assert throttle.blocked_for("a") is None  # refilled to the burst (2), not beyond: one spent, one left
    throttle.charge("a")
    assert throttle.blocked_for("a") == pytest.approx(1.0)


def test_the_number_of_tracked_addresses_is_bounded():
    throttle = SourceThrottle(burst=1, per_minute=1, clock=lambda: 0.0, max_sources=100)
    for n in range(1000):
        throttle.charge(f"10.0.{n // 256}.{n % 256}")

    assert throttle.tracked() <= 100
