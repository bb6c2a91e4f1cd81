"""Inbound media fetched from Meta (the simulator) on demand, checked, stored, served again from storage."""

from __future__ import annotations

import base64
import hashlib

import pytest

from messaging.media import _digest_matches
from messaging.models import MessageMedia
from tests.messaging.factories import FIXTURE_PHONE_ID, FIXTURE_WABA_ID, ConversationFactory, MessageFactory

JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 50


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def sim(graph_simulator, number_a):
    graph_simulator.seed({
        "wabas": [{"id": FIXTURE_WABA_ID, "phone_numbers": [{"id": FIXTURE_PHONE_ID, "display_phone_number": "1"}]}],
        "tokens": [{"token": number_a.account.access_token.reveal(), "waba_ids": [FIXTURE_WABA_ID]}],
    })
    return graph_simulator


@pytest.fixture
def media_message(sim, number_a, tenant_a, in_tenant):
    """An inbound message of `kind` whose media Meta (the simulator) holds."""

    def make(kind="image", content=JPEG, mime_type="image/jpeg", filename=None, **extra):
        with sim.state.lock:
            media = sim.state.media_add(content=content, mime_type=mime_type, waba_id=FIXTURE_WABA_ID,
                                        phone_number_id=FIXTURE_PHONE_ID, filename=filename)
        with in_tenant(tenant_a):
            return MessageFactory(
                conversation=ConversationFactory(phone_number=number_a), type=kind,
                content={"media_id": media.id, "mime_type": mime_type, "sha256": media.sha256,
                         "filename": filename, **extra}), media

    return make


def _graph_calls(sim, since):
    return [(call["method"], call["path"]) for call in sim.simulator.requests.query(since_seq=since)]


def test_fetching_stores_the_file_and_serves_it_again_without_meta(api_a, sim, media_message, tenant_a, in_tenant):
    message, media = media_message()
    since = sim.simulator.requests.last_seq()

    first = api_a.get(f"/api/v1/messages/{message.pk}/media")
    second = api_a.get(f"/api/v1/messages/{message.pk}/media")

    assert first.status_code == second.status_code == 200
    assert first.content == second.content == JPEG
    assert first["Content-Type"] == "image/jpeg"
    assert first["X-Media-SHA256"] == hashlib.sha256(JPEG).hexdigest()
    assert first["X-Content-Type-Options"] == "nosniff"
    assert _graph_calls(sim, since) == [("GET", f"/v23.0/{media.id}"), ("GET", f"/_media/{media.id}")]
    with in_tenant(tenant_a):
        stored = MessageMedia.objects.get(message=message)
    assert (stored.size, stored.mime_type) == (len(JPEG), "image/jpeg")
    shown = api_a.get(f"/api/v1/messages/{message.pk}").json()["media"]
    assert shown["size"] == len(JPEG) and shown["sha256"] == hashlib.sha256(JPEG).hexdigest()


def test_a_document_downloads_as_an_attachment_with_its_name(api_a, media_message):
    message, _ = media_message("document", b"%PDF-1.7 invoice", "application/pdf", filename='invoice "1042".pdf')

    response = api_a.get(f"/api/v1/messages/{message.pk}/media")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="invoice 1042.pdf"'


def test_a_voice_note_with_codec_parameters_is_accepted(api_a, media_message):
    message, _ = media_message("audio", b"OggS voice", "audio/ogg; codecs=opus")

    response = api_a.get(f"/api/v1/messages/{message.pk}/media")

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg; codecs=opus"


def test_over_the_size_limit_is_413_and_nothing_is_stored(api_a, media_message, settings, tenant_a, in_tenant):
    settings.MEDIA_STORE_MAX_BYTES = 100
    message, _ = media_message()

    response = api_a.get(f"/api/v1/messages/{message.pk}/media")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "media_too_large"
    assert response.json()["error"]["details"] == {"limit_bytes": 100, "size_bytes": len(JPEG)}
    with in_tenant(tenant_a):
        assert not MessageMedia.objects.filter(state="stored").exists()


def test_a_sticker_over_metas_500_kb_is_refused(api_a, media_message):
    message, _ = media_message("sticker", b"RIFF" + b"\0" * (500 * 1024), "image/webp")

    assert api_a.get(f"/api/v1/messages/{message.pk}/media").status_code == 413


def test_a_content_type_meta_does_not_allow_for_the_type_is_415(api_a, media_message, tenant_a, in_tenant):
    message, _ = media_message("image", b"MZ\x90\x00", "application/x-msdownload")

    response = api_a.get(f"/api/v1/messages/{message.pk}/media")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "media_type_not_allowed"
    with in_tenant(tenant_a):
        assert not MessageMedia.objects.filter(state="stored").exists()


def test_bytes_that_do_not_match_metas_checksum_are_refused(api_a, sim, media_message, tenant_a, in_tenant):
    message, media = media_message()
    media.sha256 = "0" * 64

    response = api_a.get(f"/api/v1/messages/{message.pk}/media")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "media_checksum_mismatch"
    with in_tenant(tenant_a):
        assert not MessageMedia.objects.filter(state="stored").exists()


def test_media_meta_no_longer_has_is_a_graph_error(api_a, media_message, sim):
    message, media = media_message()
    with sim.state.lock:
        del sim.state.media[media.id]

    response = api_a.get(f"/api/v1/messages/{message.pk}/media")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "graph_error"


def test_messages_without_media_are_422(api_a, number_a, tenant_a, in_tenant, sim):
    with in_tenant(tenant_a):
        conversation = ConversationFactory(phone_number=number_a)
        text = MessageFactory(conversation=conversation)
        outbound = MessageFactory(conversation=conversation, direction="out", type="image",
                                  content={"media_id": "123"})

    assert api_a.get(f"/api/v1/messages/{text.pk}/media").json()["error"]["code"] == "no_media"
    assert api_a.get(f"/api/v1/messages/{outbound.pk}/media").json()["error"]["code"] == "not_inbound"


def test_webhook_checksums_are_base64_and_media_endpoint_checksums_hex():
    digest = hashlib.sha256(JPEG).digest()

    assert _digest_matches(digest.hex(), digest.hex())
    assert _digest_matches(digest.hex(), base64.b64encode(digest).decode())
    assert not _digest_matches(digest.hex(), base64.b64encode(b"x" * 32).decode())
    assert not _digest_matches(digest.hex(), "not base64 at all!")
