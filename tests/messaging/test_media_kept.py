"""Inbound media kept on arrival: fetched in the background from Meta (the simulator), checked, stored in
Django's storage under the tenant's schema, retried with backoff, expired after the retention period."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from messaging.media import MAX_ATTEMPTS, RETRY_MAX_S, inbound_media_due_keep, inbound_media_expire
from messaging.media_tasks import media_due_keep_fan_out, media_expire_fan_out
from messaging.models import Message, MessageMedia
from platform_core.schedules import schedule_specs
from tests.console.conftest import console_a, console_b, user_a, user_b  # noqa: F401
from tests.fixtures import load_webhook_fixture
from tests.messaging.factories import FIXTURE_PHONE_ID, FIXTURE_WABA_ID
from tests.webhooks.conftest import process_journal

VOICE = b"OggS\x00\x02" + bytes(range(256)) * 40


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def sim(graph_simulator, number_a):
    graph_simulator.seed(
        {
            "wabas": [
                {
                    "id": FIXTURE_WABA_ID,
                    "phone_numbers": [{"id": FIXTURE_PHONE_ID, "display_phone_number": "1"}],
                }
            ],
            "tokens": [{"token": number_a.account.access_token.reveal(), "waba_ids": [FIXTURE_WABA_ID]}],
        }
    )
    return graph_simulator


@pytest.fixture
def voice_note(sim, webhook, sync_jobs, django_capture_on_commit_callbacks):
    """A customer's voice note whose file Meta (the simulator) holds, posted through the real webhook
    endpoint and applied by the webhook worker; the jobs it queues run as the cluster runs them."""

    def post(content: bytes = VOICE, mime_type: str = "audio/ogg; codecs=opus", served_as: str | None = None):
        with sim.state.lock:
            media = sim.state.media_add(
                content=content,
                mime_type=served_as or mime_type,
                waba_id=FIXTURE_WABA_ID,
                phone_number_id=FIXTURE_PHONE_ID,
                filename=None,
            )
        body = load_webhook_fixture("message_audio_voice")
        audio = body["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]
        audio.update(
            id=media.id,
            mime_type=mime_type,
            sha256=base64.b64encode(hashlib.sha256(content).digest()).decode(),
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook.post(json.dumps(body)).status_code == 200
            assert process_journal() == 1
        return media

    return post


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _kept(tenant, in_tenant) -> MessageMedia:
    with in_tenant(tenant):
        return MessageMedia.objects.select_related("message").get()


def test_a_voice_note_is_stored_on_arrival_without_anyone_viewing_it(
    voice_note, sim, tenant_a, in_tenant, api_a
):
    media = voice_note()

    kept = _kept(tenant_a, in_tenant)
    digest = hashlib.sha256(VOICE).hexdigest()
    assert kept.state == MessageMedia.State.STORED
    assert (kept.mime_type, kept.size, kept.sha256, kept.attempts) == (
        "audio/ogg; codecs=opus",
        len(VOICE),
        digest,
        1,
    )
    assert kept.file.name == f"{tenant_a.schema_name}/inbound-media/{kept.message_id}-{digest[:16]}.oga"
    with default_storage.open(kept.file.name, "rb") as stored:
        assert stored.read() == VOICE
    assert [(c["method"], c["path"]) for c in sim.simulator.requests.query(since_seq=0)][-2:] == [
        ("GET", f"/v23.0/{media.id}"),
        ("GET", f"/_media/{media.id}"),
    ]

    shown = api_a.get(f"/api/v1/messages/{kept.message_id}").json()["media"]
    assert shown["state"] == "stored" and shown["sha256"] == digest and shown["size"] == len(VOICE)
    assert shown["failure"] is None and shown["fetched_at"]
    since = sim.simulator.requests.last_seq()
    response = api_a.get(f"/api/v1/messages/{kept.message_id}/media")
    assert response.status_code == 200 and response.content == VOICE
    assert response["X-Media-SHA256"] == digest
    assert sim.simulator.requests.query(since_seq=since) == []  # served from storage, Meta not asked again


def test_a_checksum_mismatch_is_refused_and_retried_with_backoff(voice_note, sim, tenant_a, in_tenant, api_a):
    media = voice_note()
    with in_tenant(tenant_a):
        MessageMedia.objects.update(
            state="pending", file="", sha256="", size=None, attempts=0, next_attempt_at=timezone.now()
        )
    media.sha256 = "0" * 64  # Meta's media endpoint now reports another checksum than the bytes have
    start = timezone.now()

    with in_tenant(tenant_a):
        assert inbound_media_due_keep(now=start) == 1
    kept = _kept(tenant_a, in_tenant)
    assert kept.state == MessageMedia.State.PENDING and not kept.file
    assert (kept.failure_code, kept.attempts) == ("media_checksum_mismatch", 1)
    assert start < kept.next_attempt_at <= start + timedelta(seconds=RETRY_MAX_S)
    shown = api_a.get(f"/api/v1/messages/{kept.message_id}").json()["media"]
    assert shown["state"] == "pending" and shown["failure"] == {
        "code": "media_checksum_mismatch",
        "message": "The downloaded media does not match the SHA-256 Meta reported.",
    }
    with in_tenant(tenant_a):
        assert inbound_media_due_keep(now=kept.next_attempt_at - timedelta(seconds=1)) == 0  # not due yet

    media.sha256 = hashlib.sha256(VOICE).hexdigest()  # the next attempt gets matching bytes
    with in_tenant(tenant_a):
        assert inbound_media_due_keep(now=kept.next_attempt_at) == 1
    kept = _kept(tenant_a, in_tenant)
    assert (kept.state, kept.attempts, kept.failure_code) == (MessageMedia.State.STORED, 2, "")
    with default_storage.open(kept.file.name, "rb") as stored:
        assert stored.read() == VOICE


def test_retries_are_bounded_then_the_failure_and_a_retry_button_show(
    voice_note,
    sim,
    tenant_a,
    in_tenant,
    console_a,  # noqa: F811
):
    media = voice_note()
    with in_tenant(tenant_a):
        MessageMedia.objects.update(state="pending", file="", attempts=0, next_attempt_at=timezone.now())
    media.sha256 = "0" * 64
    for _ in range(MAX_ATTEMPTS):
        with in_tenant(tenant_a):
            MessageMedia.objects.update(next_attempt_at=timezone.now())
            inbound_media_due_keep()
    kept = _kept(tenant_a, in_tenant)
    assert (kept.state, kept.attempts, kept.next_attempt_at) == (
        MessageMedia.State.FAILED,
        MAX_ATTEMPTS,
        None,
    )

    conversation_id = kept.message.conversation_id
    html = console_a.get(f"/app/inbox/{conversation_id}/").content.decode()
    assert ("Media could not be kept: The downloaded media does not match the SHA-256 Meta reported.") in html
    retry_url = f"/app/inbox/{conversation_id}/media/{kept.message_id}/retry/"
    assert f'action="{retry_url}"' in html and ">Retry</button>" in html
    assert "<audio" not in html  # no player for a file that is not there
    assert console_a.get(f"/app/inbox/{conversation_id}/media/{kept.message_id}/").status_code == 409

    media.sha256 = hashlib.sha256(VOICE).hexdigest()
    response = console_a.post(retry_url, {"csrfmiddlewaretoken": _csrf(html)})
    assert response.status_code == 302
    assert response.url == f"/app/inbox/{conversation_id}/#msg-{kept.message_id}"
    with in_tenant(tenant_a):
        inbound_media_due_keep()  # the test's transaction never commits: run what the queued job runs
    kept = _kept(tenant_a, in_tenant)
    assert (kept.state, kept.attempts) == (MessageMedia.State.STORED, 1)
    html = console_a.get(f"/app/inbox/{conversation_id}/").content.decode()
    assert "could not be kept" not in html and "<audio" in html


def test_a_type_other_than_announced_fails_at_once(voice_note, tenant_a, in_tenant, api_a):
    voice_note(mime_type="audio/ogg; codecs=opus", served_as="audio/mpeg")

    kept = _kept(tenant_a, in_tenant)
    assert (kept.state, kept.attempts, kept.failure_code) == (
        MessageMedia.State.FAILED,
        1,
        "media_type_not_allowed",
    )
    assert (
        kept.failure_reason
        == "The message announced 'audio/ogg; codecs=opus' but Meta serves the file as 'audio/mpeg'."
    )
    response = api_a.get(f"/api/v1/messages/{kept.message_id}/media")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "media_not_kept"
    assert response.json()["error"]["details"] == {"state": "failed", "reason": "media_type_not_allowed"}


def test_the_retry_endpoint_starts_over(voice_note, sim, tenant_a, in_tenant, api_a):
    voice_note(served_as="audio/mpeg")
    kept = _kept(tenant_a, in_tenant)

    response = api_a.post(f"/api/v1/messages/{kept.message_id}/media/retry")

    assert response.status_code == 200
    assert response.json()["media"]["state"] == "pending" and response.json()["media"]["attempts"] == 0
    assert response.json()["media"]["failure"] is None


def test_a_file_past_retention_is_deleted_and_shown_expired(
    voice_note,
    settings,
    tenant_a,
    in_tenant,
    api_a,
    console_a,  # noqa: F811
):
    settings.INBOUND_MEDIA_RETENTION_DAYS = 30
    voice_note()
    kept = _kept(tenant_a, in_tenant)
    path = kept.file.name

    with in_tenant(tenant_a):
        assert inbound_media_expire(now=kept.fetched_at + timedelta(days=29)) == 0
        assert inbound_media_expire(now=kept.fetched_at + timedelta(days=30, seconds=1)) == 1
    kept = _kept(tenant_a, in_tenant)
    assert (kept.state, kept.file.name) == (MessageMedia.State.EXPIRED, "")
    assert kept.expired_at is not None
    assert not default_storage.exists(path)

    assert api_a.get(f"/api/v1/messages/{kept.message_id}").json()["media"]["state"] == "expired"
    response = api_a.get(f"/api/v1/messages/{kept.message_id}/media")
    assert response.status_code == 410 and response.json()["error"]["code"] == "media_expired"
    html = console_a.get(f"/app/inbox/{kept.message.conversation_id}/").content.decode()
    assert "Media expired: deleted after the retention period." in html and "<audio" not in html


def test_retention_zero_keeps_files_forever(voice_note, settings, tenant_a, in_tenant):
    settings.INBOUND_MEDIA_RETENTION_DAYS = 0
    voice_note()
    with in_tenant(tenant_a):
        assert inbound_media_expire(now=timezone.now() + timedelta(days=3650)) == 0
    assert _kept(tenant_a, in_tenant).state == MessageMedia.State.STORED


def test_the_schedules_fan_out_to_each_tenant(voice_note, settings, sync_jobs, tenant_a, in_tenant):
    settings.INBOUND_MEDIA_RETENTION_DAYS = 1
    voice_note()
    with in_tenant(tenant_a):
        MessageMedia.objects.update(fetched_at=timezone.now() - timedelta(days=2))
    specs = {spec.name: spec for spec in schedule_specs()}
    assert specs["platform:media-keep-due"].func == "messaging.media_tasks.media_due_keep_fan_out"
    assert specs["platform:media-retention"].func == "messaging.media_tasks.media_expire_fan_out"
    assert specs["platform:media-retention"].every_minutes == 24 * 60

    media_due_keep_fan_out()
    media_expire_fan_out()

    assert _kept(tenant_a, in_tenant).state == MessageMedia.State.EXPIRED


def test_another_tenant_cannot_read_or_retry_the_media(
    voice_note,
    tenant_a,
    tenant_b,
    in_tenant,
    api_b,
    console_b,  # noqa: F811
):
    voice_note()
    kept = _kept(tenant_a, in_tenant)
    with in_tenant(tenant_b):
        assert not Message.objects.filter(pk=kept.message_id).exists()

    for response in (
        api_b.get(f"/api/v1/messages/{kept.message_id}/media"),
        api_b.post(f"/api/v1/messages/{kept.message_id}/media/retry"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "message_not_found"
    conversation_id = kept.message.conversation_id
    assert console_b.get(f"/app/inbox/{conversation_id}/media/{kept.message_id}/").status_code == 404
    token = _csrf(console_b.get("/app/inbox/").content.decode())
    assert (
        console_b.post(
            f"/app/inbox/{conversation_id}/media/{kept.message_id}/retry/", {"csrfmiddlewaretoken": token}
        ).status_code
        == 404
    )
    with in_tenant(tenant_a):
        assert MessageMedia.objects.get().attempts == 1
