"""Admin pages: tenant admin lists messages and conversations; platform admin lists journal and dead letters
and replays them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from messaging.models import Message, MessageMedia
from tests.factories import TenantUserFactory
from tests.fixtures import load_webhook_fixture_bytes
from tests.messaging.factories import (
    FIXTURE_PHONE_ID,
    FIXTURE_WABA_ID,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    PhoneNumberFactory,
    route_claim,
)
from tests.webhooks.conftest import process_journal
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry


@pytest.fixture
def platform_admin(db) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(TenantUserFactory.create(username="platform-root"))
    return client


@pytest.fixture
def alpha_admin(tenant_a, in_tenant) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    with in_tenant(tenant_a):  # users and sessions live in the tenant's schema
        client.force_login(TenantUserFactory.create(username="alpha-root"))
    return client


def test_tenant_admin_searches_messages_by_phone_or_name_and_filters(
    alpha_admin, number_a, number_b, tenant_a, tenant_b, in_tenant
):
    with in_tenant(tenant_a):
        kerry = ConversationFactory(phone_number=number_a, contact=ContactFactory(wa_id="16315551181",
                                                                                  profile_name="Kerry Fisher"))
        alex = ConversationFactory(phone_number=number_a, contact=ContactFactory(wa_id="14155550123",
                                                                                 profile_name="Alex Rivera"))
        MessageFactory(conversation=kerry, body="kerry asks about delivery")
        MessageFactory(conversation=alex, body="alex sends a photo", type="image")
    with in_tenant(tenant_b):
        MessageFactory(conversation=ConversationFactory(phone_number=number_b), body="beta private words")

    page = alpha_admin.get("/admin/messaging/message/").content.decode()
    by_phone = alpha_admin.get("/admin/messaging/message/", {"q": "16315551181"}).content.decode()
    by_name = alpha_admin.get("/admin/messaging/message/", {"q": "Rivera"}).content.decode()
    by_type = alpha_admin.get("/admin/messaging/message/", {"type__exact": "image"}).content.decode()

    assert "kerry asks about delivery" in page and "alex sends a photo" in page
    assert "beta private words" not in page
    assert "kerry asks" in by_phone and "alex sends" not in by_phone
    assert "alex sends" in by_name and "kerry asks" not in by_name
    assert "alex sends" in by_type and "kerry asks" not in by_type
    assert alpha_admin.get("/admin/messaging/message/", {"status__exact": "received"}).status_code == 200
    conversations = alpha_admin.get("/admin/messaging/conversation/", {"q": "Kerry"}).content.decode()
    assert "Kerry Fisher" in conversations and "Alex Rivera" not in conversations
    assert alpha_admin.get("/admin/messaging/contact/", {"q": "1415"}).status_code == 200


def test_tenant_admin_cannot_edit_messages(alpha_admin, number_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a))

    assert alpha_admin.get(f"/admin/messaging/message/{message.pk}/change/").status_code == 200
    assert alpha_admin.post(f"/admin/messaging/message/{message.pk}/change/", {"body": "edited"}).status_code == 403
    assert alpha_admin.get("/admin/messaging/message/add/").status_code == 403


def test_platform_admin_lists_the_journal_and_replays_entries(platform_admin, webhook, number_a):
    webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()
    entry = WebhookJournalEntry.objects.get()

    listing = platform_admin.get("/admin/webhooks/webhookjournalentry/")
    detail = platform_admin.get(f"/admin/webhooks/webhookjournalentry/{entry.pk}/change/")
    replay = platform_admin.post("/admin/webhooks/webhookjournalentry/",
                                 {"action": "replay", "_selected_action": [entry.pk]})

    assert listing.status_code == 200 and "processed" in listing.content.decode()
    assert "Do you deliver on Saturdays?" in detail.content.decode()
    assert replay.status_code == 302
    entry.refresh_from_db()
    assert entry.state == WebhookJournalEntry.State.PENDING
    process_journal()
    entry.refresh_from_db()
    assert entry.outcome == {"messages_duplicate": 1}


def test_platform_admin_replays_dead_letters_after_the_number_is_claimed(
    platform_admin, webhook, tenant_a, in_tenant
):
    webhook.post(load_webhook_fixture_bytes("message_text"))
    process_journal()
    dead_letter = WebhookDeadLetter.objects.get()

    listing = platform_admin.get("/admin/webhooks/webhookdeadletter/", {"resolved": "no"})
    assert FIXTURE_PHONE_ID in listing.content.decode()
    still = platform_admin.post("/admin/webhooks/webhookdeadletter/",
                                {"action": "replay", "_selected_action": [dead_letter.pk]}, follow=True)
    assert "still undeliverable (unrouted)" in still.content.decode()

    with in_tenant(tenant_a):
        PhoneNumberFactory(phone_number_id=FIXTURE_PHONE_ID, account__waba_id=FIXTURE_WABA_ID)
    route_claim(tenant=tenant_a, waba_id=FIXTURE_WABA_ID, phone_number_ids=[FIXTURE_PHONE_ID])
    done = platform_admin.post("/admin/webhooks/webhookdeadletter/",
                               {"action": "replay", "_selected_action": [dead_letter.pk]}, follow=True)

    assert "Delivered 1." in done.content.decode()
    dead_letter.refresh_from_db()
    assert dead_letter.resolved_tenant == tenant_a
    with in_tenant(tenant_a):
        assert Message.objects.count() == 1


def test_tenant_admin_does_not_show_platform_tables(alpha_admin):
    assert alpha_admin.get("/admin/webhooks/webhookjournalentry/").status_code == 404


def test_the_message_list_shows_a_short_preview_in_five_columns(alpha_admin, number_a, tenant_a, in_tenant):
    long_text = "Could I order two bags of the Ethiopian Yirgacheffe, whole beans please? " * 4
    with in_tenant(tenant_a):
        conversation = ConversationFactory(
            phone_number=number_a, contact=ContactFactory(wa_id="16315551181", profile_name="Kerry Fisher")
        )
        MessageFactory(conversation=conversation, body=long_text)
        MessageFactory(conversation=conversation, body="the beans", type="image")

    response = alpha_admin.get("/admin/messaging/message/")

    page = response.content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page)
    assert headers == ["timestamp", "customer", "direction", "status", "text"]
    previews = re.findall(r'<td class="field-text">([^<]*)</td>', page)
    assert sorted(previews) == sorted([long_text[:99] + "…", "[image] the beans"])
    assert long_text.strip() not in page
    assert '<td class="field-customer">Kerry Fisher (+16315551181)</td>' in page
    stylesheet = re.search(r'href="(/static/messaging/admin/messages\.css)"', page)
    assert stylesheet is not None
    css = b"".join(alpha_admin.get(stylesheet.group(1)).streaming_content).decode()
    assert "td.field-text" in css and "min-width" in css


def test_tenant_admin_shows_kept_media_read_only_and_retries_a_failed_one(
    alpha_admin, number_a, tenant_a, in_tenant, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    with in_tenant(tenant_a):
        message = MessageFactory(conversation=ConversationFactory(phone_number=number_a), type="image",
                                 content={"media_id": "77", "mime_type": "image/jpeg"})
        media = MessageMedia.objects.create(message=message, state="failed", attempts=5,
                                            failure_code="graph_error", failure_reason="Meta refused")

    listing = alpha_admin.get("/admin/messaging/messagemedia/")
    change = alpha_admin.get(f"/admin/messaging/messagemedia/{media.pk}/change/")
    retried = alpha_admin.post("/admin/messaging/messagemedia/", {
        "action": "retry_keeping", "_selected_action": [media.pk]})

    assert listing.status_code == 200 and "graph_error" in listing.content.decode()
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert alpha_admin.post(f"/admin/messaging/messagemedia/{media.pk}/change/", {}).status_code == 403
    assert retried.status_code == 302
    with in_tenant(tenant_a):
        media.refresh_from_db()
    assert (media.state, media.attempts, media.failure_code) == ("pending", 0, "")
