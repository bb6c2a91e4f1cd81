"""The public webhook endpoint: verification handshake, signature, size and JSON checks, the journal."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ApiClient
from tests.fixtures import load_webhook_fixture_bytes
from tests.messaging.factories import meta_app_create
from tests.webhooks.conftest import (
    APP_ID,
    APP_SECRET,
    TENANT_APP_ID,
    TENANT_APP_SECRET,
    VERIFY_TOKEN,
    WebhookPoster,
)
from waba.meta import WEBHOOK_PAYLOAD_MAX_BYTES
from webhooks.models import WebhookJournalEntry
from webhooks.signature import compute_signature

BODY = load_webhook_fixture_bytes("message_text")


def _verify(client, app_id=APP_ID, **params):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    query.update(params)
    return client.get(f"/webhooks/whatsapp/{app_id}", {k: v for k, v in query.items() if v is not None})


# --- GET: the verification handshake ------------------------------------------------------------

def test_verification_answers_the_challenge_as_plain_text(meta_app, public_client):
    response = _verify(public_client)

    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("params", [
    {"hub.verify_token": "wrong-token"},
    {"hub.verify_token": None},
    {"hub.mode": "unsubscribe"},
])
def test_verification_with_wrong_token_or_mode_is_403(meta_app, public_client, params):
    response = _verify(public_client, **params)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "verification_failed"
    assert VERIFY_TOKEN not in response.content.decode()


def test_verification_without_challenge_is_400(meta_app, public_client):
    response = _verify(public_client, **{"hub.challenge": None})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_challenge"


def test_another_apps_verify_token_does_not_verify(meta_app, public_client):
    meta_app_create(app_id=TENANT_APP_ID, secret=TENANT_APP_SECRET, verify_token="other-token")

    assert _verify(public_client, app_id=TENANT_APP_ID).status_code == 403
    assert _verify(public_client, app_id=TENANT_APP_ID, **{"hub.verify_token": "other-token"}).status_code == 200


def test_unknown_app_is_404_for_get_and_post(meta_app, public_client):
    assert _verify(public_client, app_id="999").status_code == 404
    response = WebhookPoster(public_client, app_id="999").post(BODY)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_app"
    assert WebhookJournalEntry.objects.count() == 0


@pytest.mark.parametrize("app_id", ["1%00", "1%0A2", "%E2%80%8B", "9" * 65])
def test_an_app_id_that_cannot_be_one_is_an_unknown_app_not_a_500(meta_app, public_client, app_id):
    response = public_client.post(f"/webhooks/whatsapp/{app_id}", data=BODY, content_type="application/json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_app"
    assert WebhookJournalEntry.objects.count() == 0


def test_the_platform_default_app_comes_from_settings(db, public_client, settings):
    settings.META_APP_ID = "555000111"
    settings.META_APP_SECRET = "settings-secret-abcdef0123456789"
    settings.META_VERIFY_TOKEN = "settings-verify-token"

    verify = _verify(public_client, app_id="555000111", **{"hub.verify_token": "settings-verify-token"})
    posted = WebhookPoster(public_client, app_id="555000111", secret="settings-secret-abcdef0123456789").post(BODY)

    assert verify.status_code == 200
    assert posted.status_code == 200
    assert WebhookJournalEntry.objects.get().app_id == "555000111"


def test_tenant_supplied_app_verifies_with_its_own_secret(tenant_b, public_client):
    meta_app_create(app_id=TENANT_APP_ID, secret=TENANT_APP_SECRET, verify_token="t", tenant=tenant_b)

    assert WebhookPoster(public_client, TENANT_APP_ID, TENANT_APP_SECRET).post(BODY).status_code == 200
    assert WebhookPoster(public_client, TENANT_APP_ID, APP_SECRET).post(BODY).status_code == 403


# --- POST: accepted bodies are journaled whole ----------------------------------------------------

def test_signed_post_is_journaled_byte_for_byte_before_the_200(webhook):
    response = webhook.post(BODY)

    assert response.status_code == 200
    entry = WebhookJournalEntry.objects.get()
    assert response.json() == {"accepted": entry.pk}
    assert bytes(entry.body) == BODY
    assert entry.app_id == APP_ID
    assert entry.signature_verified is True
    assert entry.state == WebhookJournalEntry.State.PENDING
    assert entry.received_at is not None


def test_trailing_slash_url_works_too(webhook):
    response = webhook.client.generic("POST", f"/webhooks/whatsapp/{APP_ID}/", BODY,
                                      content_type="application/json",
                                      headers={"X-Hub-Signature-256": compute_signature(BODY, APP_SECRET)})

    assert response.status_code == 200


@pytest.mark.parametrize("signature", [
    None,
    "",
    "sha256=" + "0" * 64,
    "sha1=" + "0" * 40,
    compute_signature(BODY, "someone-elses-secret"),
])
def test_missing_or_forged_signature_is_403_and_stores_nothing(webhook, signature):
    response = webhook.post(BODY, signature=signature)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert APP_SECRET not in response.content.decode()
    assert WebhookJournalEntry.objects.count() == 0


def test_tampered_body_is_403(webhook):
    signature = compute_signature(BODY, APP_SECRET)

    response = webhook.post(BODY.replace(b"Saturdays", b"Sundays"), signature=signature)

    assert response.status_code == 403
    assert WebhookJournalEntry.objects.count() == 0


def test_a_rotated_secret_works_at_once(webhook, meta_app):
    assert webhook.post(BODY).status_code == 200  # caches the app
    meta_app.app_secret = "rotated-secret-0123456789abcdef"
    meta_app.save()

    rotated = WebhookPoster(webhook.client, secret="rotated-secret-0123456789abcdef")
    import time

    time.sleep(1.05)  # one re-read per second per app
    assert rotated.post(BODY).status_code == 200
    assert webhook.post(BODY).status_code == 403


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe\x00", b'{"object": "whatsapp_business_account",'])
def test_malformed_json_is_400_and_stores_nothing(webhook, body):
    response = webhook.post(body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert WebhookJournalEntry.objects.count() == 0


def test_body_over_3_mb_is_413_and_stores_nothing(webhook):
    padding = "x" * (WEBHOOK_PAYLOAD_MAX_BYTES + 1 - len('{"pad": ""}'))
    body = json.dumps({"pad": padding}).encode()
    assert len(body) == WEBHOOK_PAYLOAD_MAX_BYTES + 1

    response = webhook.post(body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert WebhookJournalEntry.objects.count() == 0


def test_body_of_exactly_3_mb_is_accepted(webhook):
    padding = "x" * (WEBHOOK_PAYLOAD_MAX_BYTES - len('{"pad": ""}'))
    body = json.dumps({"pad": padding}).encode()

    assert webhook.post(body).status_code == 200
    assert len(bytes(WebhookJournalEntry.objects.get().body)) == WEBHOOK_PAYLOAD_MAX_BYTES


def test_oversized_declared_length_is_refused_before_reading(webhook):
    response = webhook.client.generic("POST", f"/webhooks/whatsapp/{APP_ID}", BODY,
                                      content_type="application/json",
                                      CONTENT_LENGTH=str(WEBHOOK_PAYLOAD_MAX_BYTES + 10))

    assert response.status_code == 413


def test_other_methods_are_405(webhook):
    response = webhook.client.put(f"/webhooks/whatsapp/{APP_ID}", BODY, content_type="application/json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_webhooks_are_not_served_on_a_tenant_host(meta_app, tenant_a):
    client = ApiClient("alpha.localhost")
    response = client.generic("POST", f"/webhooks/whatsapp/{APP_ID}", BODY, content_type="application/json",
                              headers={"X-Hub-Signature-256": compute_signature(BODY, APP_SECRET)})

    assert response.status_code == 404
    assert WebhookJournalEntry.objects.count() == 0


def test_a_tenant_row_for_the_platform_app_id_never_shadows_the_settings(tenant_b, public_client, settings):
    """A row left by a tenant (or made by a typo) for the platform's app id must not take its webhooks over."""
    settings.META_APP_ID = "555000111"
    settings.META_APP_SECRET = "settings-secret-abcdef0123456789"
    settings.META_VERIFY_TOKEN = "settings-verify-token"
    meta_app_create(app_id="555000111", secret="tenant-secret-0123456789abcdef", verify_token="tenant-token",
                    tenant=tenant_b)

    genuine = WebhookPoster(public_client, app_id="555000111", secret="settings-secret-abcdef0123456789").post(BODY)
    forged = WebhookPoster(public_client, app_id="555000111", secret="tenant-secret-0123456789abcdef").post(BODY)
    verify = _verify(public_client, app_id="555000111", **{"hub.verify_token": "settings-verify-token"})
    tenant_verify = _verify(public_client, app_id="555000111", **{"hub.verify_token": "tenant-token"})

    assert genuine.status_code == 200
    assert forged.status_code == 403
    assert (verify.status_code, tenant_verify.status_code) == (200, 403)
    assert list(WebhookJournalEntry.objects.values_list("app_id", flat=True)) == ["555000111"]
