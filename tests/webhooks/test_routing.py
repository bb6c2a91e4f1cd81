"""Routing each change to its tenant's schema; dead letters for what nobody owns, and their replay."""

from __future__ import annotations

import json

import pytest

from messaging.models import Contact, Message
from tenants.services import tenant_resume, tenant_suspend
from tests.fixtures import load_webhook_fixture, load_webhook_fixture_bytes
from tests.messaging.factories import (
    FIXTURE_PHONE_ID,
    FIXTURE_WABA_ID,
    SECOND_PHONE_ID,
    SECOND_WABA_ID,
    PhoneNumberFactory,
    meta_app_create,
    route_claim,
)
from tests.webhooks.conftest import TENANT_APP_ID, TENANT_APP_SECRET, WebhookPoster, process_journal
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry
from webhooks.processing import dead_letter_replay, journal_entry_process

ACCOUNT_FIXTURES = [
    "template_status_approved",
    "template_status_rejected",
    "template_status_paused",
    "template_quality_update",
    "template_category_update",
    "phone_number_quality_downgrade",
    "phone_number_quality_throughput_upgrade",
    "phone_number_name_update",
    "account_update_violation",
    "business_capability_update",
    "flows_status_change",
    "flows_endpoint_error_rate",
    "flows_endpoint_availability",
    "security_pin_changed",
]


def test_a_batch_mixing_two_tenants_lands_each_part_in_its_own_schema(
    webhook, number_a, number_b, tenant_a, tenant_b, in_tenant, account_events
):
    with in_tenant(tenant_a):
        from tests.messaging.factories import ConversationFactory, MessageFactory

        outbound = MessageFactory(conversation=ConversationFactory(phone_number=number_a),
                                  direction=Message.Direction.OUTBOUND, status=Message.Status.SENT,
                                  wamid="wamid.HBgLMTYzMTU1NTExODEVAgASGBQxRTNDNUE3QjlEMkY0RTZBOEMwQgA=")
    assert webhook.post(load_webhook_fixture_bytes("batch_two_numbers")).status_code == 200
    process_journal()

    with in_tenant(tenant_a):
        assert list(Message.objects.filter(direction="in").values_list("body", flat=True)) == [
            "Is the shop open today?"]
        assert Message.objects.get(pk=outbound.pk).status == Message.Status.READ
        assert list(Contact.objects.filter(messages__direction="in").values_list("wa_id", flat=True)) == [
            "16315551181"]
    with in_tenant(tenant_b):
        assert list(Message.objects.values_list("body", flat=True)) == ["Hello from the second shop"]
        assert list(Contact.objects.values_list("wa_id", flat=True)) == ["14155550123"]
    assert [(call["waba_id"], call["field"], call["schema"]) for call in account_events] == [
        (SECOND_WABA_ID, "message_template_status_update", tenant_b.schema_name)]
    entry = WebhookJournalEntry.objects.get()
    assert entry.state == WebhookJournalEntry.State.PROCESSED
    assert entry.outcome == {"account_events": 1, "messages_stored": 2, "statuses_applied": 2}
    assert not WebhookDeadLetter.objects.exists()


@pytest.mark.parametrize("fixture", ACCOUNT_FIXTURES)
def test_account_level_fields_reach_the_waba_service_in_the_owning_schema(
    fixture, webhook, number_a, tenant_a, account_events
):
    change = load_webhook_fixture(fixture)["entry"][0]["changes"][0]

    webhook.post(load_webhook_fixture_bytes(fixture))
    process_journal()

    assert account_events == [{"waba_id": FIXTURE_WABA_ID, "field": change["field"], "value": change["value"],
                               "schema": tenant_a.schema_name}]
    assert WebhookJournalEntry.objects.get().outcome == {"account_events": 1}


def test_an_account_event_the_waba_app_fails_to_apply_is_retried_not_dropped(webhook, number_a, monkeypatch):
    from webhooks import processing

    def account_event_apply(**kwargs):
        raise RuntimeError("the template table is locked")

    monkeypatch.setattr(processing, "account_event_apply", account_event_apply)
    webhook.post(load_webhook_fixture_bytes("template_status_approved"))
    process_journal()

    entry = WebhookJournalEntry.objects.get()
    assert entry.state == WebhookJournalEntry.State.PENDING  # retried later, not dropped
    assert entry.attempts == 1
    assert "the template table is locked" in entry.last_error


def test_user_preferences_stop_opts_the_contact_out(webhook, number_a, tenant_a, in_tenant):
    webhook.post(load_webhook_fixture_bytes("user_preferences_stop"))
    process_journal()

    with in_tenant(tenant_a):
        contact = Contact.objects.get(wa_id="16315551181")
    assert contact.opted_out is True
    assert int(contact.opted_out_at.timestamp()) == 1750270140

    resume = load_webhook_fixture("user_preferences_stop")
    preference = resume["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    preference.update(value="resume", timestamp=1750270000)  # older than the stop: ignored
    webhook.post(json.dumps(resume))
    process_journal()
    with in_tenant(tenant_a):
        assert Contact.objects.get(wa_id="16315551181").opted_out is True


def test_events_for_a_number_nobody_owns_are_dead_lettered_and_replayed_after_the_claim(
    webhook, tenant_a, in_tenant
):
    assert webhook.post(load_webhook_fixture_bytes("message_text")).status_code == 200
    process_journal()

    dead_letter = WebhookDeadLetter.objects.get()
    assert (dead_letter.reason, dead_letter.routing_kind, dead_letter.routing_id, dead_letter.field) == (
        "unrouted", "phone_number_id", FIXTURE_PHONE_ID, "messages")
    assert WebhookJournalEntry.objects.get().outcome == {"dead_lettered": 1}
    assert dead_letter_replay(dead_letter_id=dead_letter.pk).delivered is False

    with in_tenant(tenant_a):
        PhoneNumberFactory(phone_number_id=FIXTURE_PHONE_ID, account__waba_id=FIXTURE_WABA_ID)
    route_claim(tenant=tenant_a, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])
    result = dead_letter_replay(dead_letter_id=dead_letter.pk)

    assert result.delivered is True and result.tenant_slug == "alpha"
    dead_letter.refresh_from_db()
    assert dead_letter.resolved_at is not None and dead_letter.resolved_tenant == tenant_a
    assert dead_letter.replay_count == 2
    with in_tenant(tenant_a):
        assert Message.objects.get().body == "Hi! Do you deliver on Saturdays?"
    dead_letter_replay(dead_letter_id=dead_letter.pk)  # replaying again is harmless
    with in_tenant(tenant_a):
        assert Message.objects.count() == 1


def test_the_same_unowned_change_twice_is_one_dead_letter(webhook):
    webhook.post(load_webhook_fixture_bytes("message_text"))
    webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()

    assert WebhookDeadLetter.objects.count() == 1
    assert WebhookJournalEntry.objects.filter(state="processed").count() == 2


def test_only_the_unowned_part_of_a_batch_is_dead_lettered(webhook, number_a, tenant_a, in_tenant, account_events):
    webhook.post(load_webhook_fixture_bytes("batch_two_numbers"))  # beta's number and WABA are unclaimed
    process_journal()

    assert sorted(WebhookDeadLetter.objects.values_list("routing_id", "field")) == [
        (SECOND_WABA_ID, "message_template_status_update"), (SECOND_PHONE_ID, "messages")]
    with in_tenant(tenant_a):
        assert Message.objects.count() == 1
    assert account_events == []


def test_a_tenant_app_cannot_deliver_into_another_tenant(public_client, number_a, tenant_a, tenant_b, in_tenant):
    """Beta knows its own app's secret; signing events for alpha's number must not reach alpha."""
    meta_app_create(app_id=TENANT_APP_ID, secret=TENANT_APP_SECRET, verify_token="t", tenant=tenant_b)
    poster = WebhookPoster(public_client, TENANT_APP_ID, TENANT_APP_SECRET)

    assert poster.post(load_webhook_fixture_bytes("message_text")).status_code == 200
    process_journal()

    with in_tenant(tenant_a):
        assert not Message.objects.exists()
    assert WebhookDeadLetter.objects.get().reason == "app_not_allowed"


def test_a_tenant_app_delivers_into_its_own_tenant(public_client, number_a, tenant_a, in_tenant):
    meta_app_create(app_id=TENANT_APP_ID, secret=TENANT_APP_SECRET, verify_token="t", tenant=tenant_a)

    WebhookPoster(public_client, TENANT_APP_ID, TENANT_APP_SECRET).post(load_webhook_fixture_bytes("message_text"))
    process_journal()

    with in_tenant(tenant_a):
        assert Message.objects.count() == 1


def test_a_suspended_tenants_events_wait_as_dead_letters(webhook, number_a, tenant_a, in_tenant):
    tenant_suspend(tenant=tenant_a, reason="unpaid")
    webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()

    dead_letter = WebhookDeadLetter.objects.get()
    assert dead_letter.reason == "tenant_inactive"
    with in_tenant(tenant_a):
        assert not Message.objects.exists()

    tenant_resume(tenant=tenant_a)
    assert dead_letter_replay(dead_letter_id=dead_letter.pk).delivered
    with in_tenant(tenant_a):
        assert Message.objects.count() == 1


def test_resuming_a_tenant_delivers_what_waited_for_it_and_only_that(
    sync_jobs, webhook, number_a, number_b, tenant_a, tenant_b, in_tenant
):
    tenant_suspend(tenant=tenant_a, reason="unpaid")
    tenant_suspend(tenant=tenant_b, reason="unpaid")
    webhook.post(load_webhook_fixture_bytes("message_text"))  # to alpha's number
    webhook.post(load_webhook_fixture_bytes("batch_two_numbers"))  # to alpha's and beta's
    process_journal()
    waiting = WebhookDeadLetter.objects.filter(reason="tenant_inactive", resolved_at__isnull=True)
    assert waiting.count() >= 3

    tenant_resume(tenant=tenant_a)

    resolved = WebhookDeadLetter.objects.filter(resolved_at__isnull=False)
    assert resolved.exists() and set(resolved.values_list("resolved_tenant", flat=True)) == {tenant_a.pk}
    assert not WebhookDeadLetter.objects.filter(reason="tenant_inactive", resolved_at__isnull=True,
                                                routing_id=FIXTURE_PHONE_ID).exists()
    assert WebhookDeadLetter.objects.filter(resolved_at__isnull=True, routing_id=SECOND_PHONE_ID).exists()
    with in_tenant(tenant_a):
        assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 2
    with in_tenant(tenant_b):
        assert not Message.objects.exists()  # beta is still suspended: its letters wait


def test_routed_but_missing_number_row_is_dead_lettered(webhook, tenant_a, in_tenant):
    route_claim(tenant=tenant_a, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])

    webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()

    dead_letter = WebhookDeadLetter.objects.get()
    assert dead_letter.reason == "phone_number_missing"
    assert "alpha" in dead_letter.detail


@pytest.mark.parametrize("fixture", ["invalid/message_without_id", "invalid/text_without_body",
                                     "invalid/status_without_id", "invalid/messages_without_metadata"])
def test_a_malformed_change_is_dead_lettered_without_holding_back_the_rest(
    fixture, webhook, number_a, tenant_a, in_tenant
):
    bad = load_webhook_fixture(fixture)
    good = load_webhook_fixture("message_text")
    bad["entry"].extend(good["entry"])

    webhook.post(json.dumps(bad))
    process_journal()

    assert WebhookDeadLetter.objects.get().reason == "invalid_payload"
    with in_tenant(tenant_a):
        assert Message.objects.get().body == "Hi! Do you deliver on Saturdays?"
    assert WebhookJournalEntry.objects.get().state == WebhookJournalEntry.State.PROCESSED


@pytest.mark.parametrize("fixture", ["invalid/object_not_waba", "invalid/entry_not_list"])
def test_a_body_that_is_no_envelope_is_kept_and_marked_failed(fixture, webhook):
    webhook.post(load_webhook_fixture_bytes(fixture))
    process_journal()

    entry = WebhookJournalEntry.objects.get()
    assert entry.state == WebhookJournalEntry.State.FAILED
    assert entry.last_error
    assert bytes(entry.body) == load_webhook_fixture_bytes(fixture)


def test_value_level_errors_are_counted(webhook, number_a):
    webhook.post(load_webhook_fixture_bytes("messages_value_errors"))
    process_journal()

    assert WebhookJournalEntry.objects.get().outcome == {"errors_reported": 1}


def test_processing_an_entry_again_changes_nothing(webhook, number_a, tenant_a, in_tenant):
    webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()
    entry = WebhookJournalEntry.objects.get()
    WebhookJournalEntry.objects.filter(pk=entry.pk).update(state="pending")

    assert journal_entry_process(entry_id=entry.pk) == {"messages_duplicate": 1}
    with in_tenant(tenant_a):
        assert Message.objects.count() == 1
