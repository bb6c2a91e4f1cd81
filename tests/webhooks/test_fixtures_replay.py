"""Every recorded payload, replayed through the real endpoint with a real signature, is processed in the
owning tenant's schema with nothing dead-lettered; account-level fields reach the WABA app's models."""

from __future__ import annotations

import pytest

from tests.fixtures import fixture_names, load_webhook_fixture_bytes
from tests.messaging.factories import FIXTURE_WABA_ID
from tests.webhooks.conftest import process_journal
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry


@pytest.mark.parametrize("fixture", fixture_names())
def test_every_recorded_payload_is_accepted_and_processed(fixture, webhook, number_a, number_b, account_events):
    assert webhook.post(load_webhook_fixture_bytes(fixture)).status_code == 200
    process_journal()

    entry = WebhookJournalEntry.objects.get()
    assert entry.state == WebhookJournalEntry.State.PROCESSED, entry.last_error
    assert entry.outcome and "dead_lettered" not in entry.outcome
    assert not WebhookDeadLetter.objects.exists()


def test_template_approval_updates_the_template_once(webhook, number_a, tenant_a, in_tenant):
    from waba.models import AccountEventLog, MessageTemplate

    with in_tenant(tenant_a):
        template = MessageTemplate.objects.create(account=number_a.account, name="appointment_reminder",
                                                  language="en_US", category="UTILITY", status="PENDING",
                                                  meta_template_id="1689556908129832")
    for _ in range(2):  # Meta delivers twice
        webhook.post(load_webhook_fixture_bytes("template_status_approved"))
    process_journal()

    with in_tenant(tenant_a):
        template.refresh_from_db()
        logged = list(AccountEventLog.objects.values_list("waba_id", "field", "outcome"))
    assert template.status == "APPROVED"
    assert logged == [(FIXTURE_WABA_ID, "message_template_status_update", "applied")]


def test_quality_downgrade_updates_the_number(webhook, number_a, tenant_a, in_tenant):
    from waba.models import PhoneNumber

    webhook.post(load_webhook_fixture_bytes("phone_number_quality_downgrade"))
    process_journal()

    with in_tenant(tenant_a):
        assert PhoneNumber.objects.get(pk=number_a.pk).messaging_limit_tier == "TIER_2K"
