"""The media library: Meta's per-type limits before upload, the exact Graph requests, the resumable
upload whose handle a template's media header sample uses, sending by an uploaded id, isolation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messaging.models import Message
from tests.sending.factories import ConversationFactory
from tests.waba.conftest import APP_ID, PHONE_ID, TOKEN
from waba import meta
from waba.errors import FieldsInvalid
from waba.models import MediaAsset
from waba.services.media import media_check

PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 2000
MB = 1024 * 1024


def upload(api, account_id, name, content_type, data, purpose=""):
    query = f"?purpose={purpose}" if purpose else ""
    return api.post(
        f"/api/v1/accounts/{account_id}/media{query}",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def test_upload_goes_to_the_numbers_media_endpoint_and_is_kept_in_the_library(
    live_account, sim, api_a, tenant_a, in_tenant
):
    response = upload(api_a, live_account.pk, "menu.png", "image/png", PNG)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["media_type"] == "image" and body["size_bytes"] == len(PNG) and body["media_id"]
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    sent = sim.requests(method="POST", path_contains="/media")[-1]
    assert sent["object_id"] == PHONE_ID and sent["edge"] == "media"
    assert sent["body"] == {
        "messaging_product": "whatsapp",
        "type": "image/png",
        "file": {"filename": "menu.png", "content_type": "image/png", "size": len(PNG)},
    }
    assert sent["authorization"] == "Bearer …" + TOKEN[-4:]
    with in_tenant(tenant_a):
        asset = MediaAsset.objects.get()
    assert asset.expires_at - asset.uploaded_at == timedelta(days=30)
    listed = api_a.get(f"/api/v1/accounts/{live_account.pk}/media").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]] and listed["count"] == 1


@pytest.mark.parametrize(
    ("name", "content_type", "size", "words"),
    [
        ("big.jpg", "image/jpeg", 5 * MB + 1, "at most 5 MB"),
        ("clip.mp4", "video/mp4", 16 * MB + 1, "at most 16 MB"),
        ("voice.ogg", "audio/ogg", 16 * MB + 1, "at most 16 MB"),
        ("cat.gif", "image/gif", 10, "does not accept image/gif"),
        ("run.exe", "application/x-msdownload", 10, "does not accept"),
        ("empty.png", "image/png", 0, "empty"),
    ],
)
def test_files_meta_would_refuse_never_leave(live_account, sim, api_a, name, content_type, size, words):
    response = upload(api_a, live_account.pk, name, content_type, b"x" * size)
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "file" and words in detail["message"]
    assert sim.requests(path_contains="/media") == []


def test_per_type_limits():
    assert media_check(content_type="application/pdf", data=b"x" * (100 * MB)) == "document"
    with pytest.raises(FieldsInvalid):
        media_check(content_type="application/pdf", data=b"x" * (100 * MB + 1))
    assert media_check(content_type="audio/mpeg", data=b"x" * (16 * MB)) == "audio"
    static = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"s" * (100 * 1024)
    with pytest.raises(FieldsInvalid, match="at most 100 KB"):
        media_check(content_type="image/webp", data=static)
    animated = b"RIFF\x00\x00\x00\x00WEBPVP8XANIM" + b"a" * (300 * 1024)
    assert media_check(content_type="image/webp", data=animated) == "sticker"
    with pytest.raises(FieldsInvalid, match="at most 500 KB"):
        media_check(content_type="image/webp", data=animated + b"a" * (300 * 1024))
    assert meta.MEDIA_MAX_BYTES["image"] == 5 * MB


def test_a_sample_upload_gives_the_handle_a_media_header_template_needs(live_account, sim, api_a):
    response = upload(api_a, live_account.pk, "header.png", "image/png", PNG, purpose="sample")

    assert response.status_code == 201, response.content
    handle = response.json()["handle"]
    assert handle and response.json()["media_id"] == ""
    session = sim.requests(method="POST", path_contains="/uploads")[-1]
    assert session["object_id"] == APP_ID and session["edge"] == "uploads"
    assert session["query"] == {
        "file_length": str(len(PNG)),
        "file_type": "image/png",
        "file_name": "header.png",
    }
    bytes_sent = sim.requests(method="POST", path_contains="upload:")[-1]
    assert bytes_sent["object_id"].startswith("upload:") and bytes_sent["edge"] is None

    template = {
        "name": "menu_of_the_day",
        "language": "en_US",
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}},
            {"type": "BODY", "text": "Today's menu is {{1}}. Enjoy!", "example": {"body_text": [["pasta"]]}},
        ],
    }
    created = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", template)
    assert created.status_code == 201, created.content
    assert (
        sim.requests(method="POST", path_contains="message_templates")[-1]["body"]["components"][0]
        == template["components"][0]
    )

    template["components"][0] = {"type": "HEADER", "format": "IMAGE"}
    template["name"] = "menu_without_sample"
    refused = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", template)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "components[0].example.header_handle"


def test_samples_take_only_the_types_metas_resumable_upload_takes(live_account, sim, api_a):
    response = upload(api_a, live_account.pk, "voice.ogg", "audio/ogg", b"o" * 100, purpose="sample")
    assert response.status_code == 422
    assert sim.requests(path_contains="uploads") == []


def test_a_message_is_sent_by_the_uploaded_media_id(live_account, sim, api_a, tenant_a, in_tenant):
    media_id = upload(api_a, live_account.pk, "menu.png", "image/png", PNG).json()["media_id"]
    with in_tenant(tenant_a):
        conversation = ConversationFactory(
            phone_number=live_account.phone_numbers.get(phone_number_id=PHONE_ID)
        )
        wa_id = conversation.contact.wa_id

    response = api_a.post_json(
        "/api/v1/messages",
        {
            "phone_number_id": PHONE_ID,
            "to": "+" + wa_id,
            "type": "image",
            "image": {"id": media_id, "caption": "Menu"},
        },
    )

    assert response.status_code == 202, response.content
    with in_tenant(tenant_a):
        payload = Message.objects.get(pk=response.json()["id"]).request_payload
    assert payload["image"] == {"id": media_id, "caption": "Menu"}


def test_another_tenants_media_is_not_found(live_account, sim, api_a, api_b):
    asset = upload(api_a, live_account.pk, "menu.png", "image/png", PNG).json()
    assert api_a.get(f"/api/v1/media/{asset['id']}").status_code == 200
    assert api_b.get(f"/api/v1/media/{asset['id']}").status_code == 404
    assert api_b.get(f"/api/v1/accounts/{live_account.pk}/media").status_code == 404
    assert upload(api_b, live_account.pk, "menu.png", "image/png", PNG).status_code == 404
