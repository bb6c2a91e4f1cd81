"""The account's media library: files uploaded to Meta, checked against Meta's limits first.

Two kinds of upload: message media (`POST /{phone_number_id}/media`, a media id to send by that
lives about 30 days) and samples (Meta's resumable upload through the account's app, a handle for a
template's `example.header_handle` or the profile's `profile_picture_handle`). A file Meta would
refuse (type or size) is refused here and never sent.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from waba import meta
from waba.errors import AccountNotReady, FieldsInvalid, MediaNotFound
from waba.models import MediaAsset, PhoneNumber, WhatsAppAccount
from waba.services.credentials import meta_call

# Content types Meta's resumable upload takes (template header samples, profile photos).
SAMPLE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "video/mp4", "application/pdf"})


def media_type_for(content_type: str) -> str | None:
    """Meta's media message type (`image`, `video`, ...) for a content type, None when unsupported."""
    for media_type, content_types in meta.MEDIA_CONTENT_TYPES.items():
        if content_type in content_types and media_type != "sticker":
            return media_type
    return "sticker" if content_type in meta.MEDIA_CONTENT_TYPES["sticker"] else None


def media_max_bytes(*, media_type: str, data: bytes) -> int:
    """Meta's size limit for this file: a static WebP sticker has a smaller one than an animated one."""
    if media_type == "sticker" and not _is_animated_webp(data):
        return meta.STICKER_STATIC_MAX_BYTES
    return meta.MEDIA_MAX_BYTES[media_type]


def _is_animated_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP" and b"ANIM" in data[12:4096]


def media_check(*, content_type: str, data: bytes, allowed: frozenset[str] | None = None) -> str:
    """The media type of a file Meta accepts; FieldsInvalid (field `file`) otherwise."""
    media_type = media_type_for(content_type)
    if media_type is None or (allowed is not None and content_type not in allowed):
        accepted = (
            sorted(allowed)
            if allowed is not None
            else sorted(set().union(*meta.MEDIA_CONTENT_TYPES.values()))
        )
        raise _file_invalid(
            f"Meta does not accept {content_type or 'this file type'} here. Accepted: {', '.join(accepted)}."
        )
    if not data:
        raise _file_invalid("The file is empty.")
    most = media_max_bytes(media_type=media_type, data=data)
    if len(data) > most:
        raise _file_invalid(
            f"Too large for a {media_type}: at most {_size(most)}, this file is {_size(len(data))}."
        )
    return media_type


def _file_invalid(message: str) -> FieldsInvalid:
    return FieldsInvalid(message, details=[{"field": "file", "message": message, "type": "value_error"}])


def _size(value: int) -> str:
    if value >= 1024 * 1024:
        return f"{value / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    return f"{value / 1024:.0f} KB"


def media_upload(
    *,
    account: WhatsAppAccount,
    name: str,
    content_type: str,
    data: bytes,
    phone_number: PhoneNumber | None = None,
) -> MediaAsset:
    """Upload message media through one of the account's numbers and keep it in the library."""
    media_type = media_check(content_type=content_type, data=data)
    phone_number = phone_number or account.phone_numbers.order_by("pk").first()
    if phone_number is None or phone_number.account_id != account.pk:
        raise AccountNotReady(
            f"The WhatsApp account {account.pk} needs a phone number before media can be uploaded."
        )
    with meta_call(account=account, doing="upload the media") as client:
        answer = client.upload_media(
            phone_number.phone_number_id, filename=name, content_type=content_type, data=data
        )
    now = timezone.now()
    return MediaAsset.objects.create(
        account=account,
        phone_number=phone_number,
        purpose=MediaAsset.Purpose.MESSAGE,
        name=name,
        media_type=media_type,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        media_id=str(answer.get("id") or ""),
        uploaded_at=now,
        expires_at=now + timedelta(seconds=meta.MEDIA_ID_LIFETIME_S),
    )


def media_sample_upload(*, account: WhatsAppAccount, name: str, content_type: str, data: bytes) -> MediaAsset:
    """Resumable upload through the account's app: the asset's `handle` goes into a template's
    `example.header_handle` or the profile's `profile_picture_handle`.
    """
    media_type = media_check(content_type=content_type, data=data, allowed=SAMPLE_CONTENT_TYPES)
    if not account.app_id:
        raise AccountNotReady(
            f"The WhatsApp account {account.pk} needs its app id (setup step 1) for sample uploads."
        )
    with meta_call(account=account, doing="upload the sample") as client:
        session = client.upload_session_create(
            account.app_id, file_length=len(data), file_type=content_type, file_name=name
        )
        answer = client.upload_session_send(str(session.get("id") or ""), data, file_offset=0)
    return MediaAsset.objects.create(
        account=account,
        purpose=MediaAsset.Purpose.SAMPLE,
        name=name,
        media_type=media_type,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        handle=str(answer.get("h") or ""),
        uploaded_at=timezone.now(),
    )


def media_assets_of(*, account: WhatsAppAccount | None = None) -> QuerySet[MediaAsset]:
    assets = MediaAsset.objects.select_related("account")
    return assets.filter(account=account) if account is not None else assets


def media_asset_get(*, asset_id: int) -> MediaAsset:
    asset = MediaAsset.objects.select_related("account").filter(pk=asset_id).first()
    if asset is None:
        raise MediaNotFound(f"No media {asset_id} in this workspace.")
    return asset
