"""The tenant's webhook event log: each routed change recorded in its own schema, listed per tenant."""

from __future__ import annotations

import json

import pytest

from messaging.models import WebhookEventLogEntry
from tests.fixtures import load_webhook_fixture, load_webhook_fixture_bytes
from tests.messaging.factories import (
    FIXTURE_PHONE_ID,
    FIXTURE_WABA_ID,
    SECOND_PHONE_ID,
    SECOND_WABA_ID,
    route_claim,
)
from tests.webhooks.conftest import process_journal
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry
from webhooks.processing import dead_letter_replay


@pytest.fixture(autouse=True)
def _empty_logs(tenant_a, tenant_b, in_tenant):
    """Rows other tests committed in the session's tenants are hidden (deleted inside this test only)."""
    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant):
            WebhookEventLogEntry.objects.all().delete()


def _items(client, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/webhook-events{query}")
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_each_tenant_lists_only_the_changes_routed_to_it(
    webhook, number_a, number_b, api_a, api_b, account_events
):
    body = load_webhook_fixture_bytes("batch_two_numbers")
    assert webhook.post(body).status_code == 200
    assert webhook.post(body).status_code == 200  # Meta's redelivery of the same changes
    process_journal()
    received_at = WebhookJournalEntry.objects.order_by("id").first().received_at

    alpha = _items(api_a)
    assert [(item["field"], item["event_types"], item["event_count"]) for item in alpha] == [
        ("messages", ["status"], 2),
        ("messages", ["message"], 1),
    ]
    assert {item["phone_number_id"] for item in alpha} == {FIXTURE_PHONE_ID}
    assert {item["waba_id"] for item in alpha} == {FIXTURE_WABA_ID}
    assert all(item["status"] == "processed" and item["error"] == "" for item in alpha)
    assert alpha[0]["received_at"].startswith(received_at.isoformat()[:19])

    beta = _items(api_b)
    assert [(item["field"], item["event_types"], item["phone_number_id"], item["waba_id"]) for item in beta] == [
        ("message_template_status_update", ["account_event"], "", SECOND_WABA_ID),
        ("messages", ["message"], SECOND_PHONE_ID, SECOND_WABA_ID),
    ]
    assert api_b.get("/api/v1/webhook-events").json()["count"] == 2

    assert [item["id"] for item in _items(api_b, "?field=message_template_status_update")] == [beta[0]["id"]]
    assert _items(api_a, "?field=message_template_status_update") == []
    assert _items(api_a, "?status=failed") == [] and len(_items(api_a, "?status=processed")) == 2
    page = api_a.get("/api/v1/webhook-events?limit=1&offset=1").json()
    assert page["count"] == 2 and [item["id"] for item in page["items"]] == [alpha[1]["id"]]


def test_a_change_alpha_cannot_apply_is_listed_failed_then_processed_after_replay(
    webhook, tenant_a, in_tenant, api_a, api_b
):
    from tests.messaging.factories import PhoneNumberFactory

    # Routed to alpha, but alpha has no row for the number yet: dead-lettered, and failed in alpha's log.
    route_claim(tenant=tenant_a, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])
    assert webhook.post(load_webhook_fixture_bytes("message_text")).status_code == 200
    process_journal()

    failed = _items(api_a, "?status=failed")
    assert len(failed) == 1 and failed[0]["field"] == "messages" and failed[0]["event_types"] == ["message"]
    assert FIXTURE_PHONE_ID in failed[0]["error"]
    assert _items(api_a, "?status=processed") == []
    assert _items(api_b) == []

    with in_tenant(tenant_a):
        PhoneNumberFactory(phone_number_id=FIXTURE_PHONE_ID, account__waba_id=FIXTURE_WABA_ID)
    assert dead_letter_replay(dead_letter_id=WebhookDeadLetter.objects.get().pk).delivered

    replayed = _items(api_a)
    assert [(item["id"], item["status"], item["error"]) for item in replayed] == [(failed[0]["id"], "processed", "")]
    assert replayed[0]["received_at"] == failed[0]["received_at"]


def test_an_unexpected_failure_is_listed_by_its_type_only(webhook, number_a, api_a, monkeypatch):
    from webhooks import processing

    def broken(**kwargs):
        raise RuntimeError("token=EAAG-secret-value")

    monkeypatch.setattr(processing, "message_status_apply", broken)
    monkeypatch.setattr(processing, "message_statuses_apply", broken)  # the batch fails, then one by one
    payload = load_webhook_fixture("status_delivered")
    assert webhook.post(json.dumps(payload)).status_code == 200
    process_journal()

    (entry,) = _items(api_a)
    assert entry["status"] == "failed" and entry["event_types"] == ["status"]
    assert entry["error"] == "Applying failed with an unexpected RuntimeError."
    assert "secret" not in json.dumps(entry)
    assert WebhookJournalEntry.objects.get().state != WebhookJournalEntry.State.PROCESSED


@pytest.mark.parametrize("query", ["status=lost", "limit=0"])
def test_bad_filters_are_422_with_the_field(api_a, query):
    response = api_a.get(f"/api/v1/webhook-events?{query}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["field"].startswith("query.")


def test_without_a_key_nothing_is_listed(tenant_a):
    from tests.conftest import ApiClient, host_of

    assert ApiClient(host_of(tenant_a)).get("/api/v1/webhook-events").status_code == 401



def _logged(received_days_ago: float, name: str) -> WebhookEventLogEntry:
    from datetime import timedelta

    from django.utils import timezone

    return WebhookEventLogEntry.objects.create(
        envelope_hash=name.ljust(64, "0"),
        received_at=timezone.now() - timedelta(days=received_days_ago),
        field="messages",
        status=WebhookEventLogEntry.Status.PROCESSED,
    )


def test_each_tenants_event_log_is_pruned_past_its_retention(sync_jobs, tenant_a, tenant_b, in_tenant, settings):
    from webhooks import tasks

    settings.WEBHOOK_EVENT_LOG_RETENTION_DAYS = 14
    with in_tenant(tenant_a):
        for days, name in ((20, "a-old"), (15, "a-older-than-14"), (13, "a-recent"), (0, "a-now")):
            _logged(days, name)
    with in_tenant(tenant_b):
        _logged(30, "b-old")
        _logged(1, "b-recent")

    assert tasks.event_logs_prune_fan_out() >= 2

    with in_tenant(tenant_a):
        kept = sorted(WebhookEventLogEntry.objects.values_list("envelope_hash", flat=True))
        assert [name.rstrip("0") for name in kept] == ["a-now", "a-recent"]
    with in_tenant(tenant_b):
        assert [row.rstrip("0") for row in WebhookEventLogEntry.objects.values_list("envelope_hash", flat=True)] == [
            "b-recent"
        ]


def test_pruning_goes_in_batches_until_nothing_old_is_left(tenant_a, in_tenant, settings):
    from webhooks.event_log import event_log_prune

    settings.WEBHOOK_EVENT_LOG_RETENTION_DAYS = 1
    with in_tenant(tenant_a):
        for index in range(7):
            _logged(3, f"old-{index}")
        _logged(0, "new")
        assert event_log_prune(batch_size=2) == 7
        assert WebhookEventLogEntry.objects.count() == 1
