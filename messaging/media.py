"""Fetch an inbound message's media from Meta on demand and keep it (tenant schema).

Checks on the way in, before anything is stored: the content type Meta reports must be one Meta
allows for that message type, the size must be within Meta's limit for the type and the
platform's cap (`MEDIA_STORE_MAX_BYTES`, default 16 MB; enforced while streaming, so an
oversized file is never held whole), and the bytes must match the SHA-256 Meta gave.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction

from messaging.errors import (
    AccountCredentialsMissing,
    GraphRequestFailed,
    MediaChecksumMismatch,
    MediaTooLarge,
    MediaTypeNotAllowed,
    NoMedia,
    NotInbound,
)
from messaging.models import Message, MessageMedia
from waba import meta
from waba.graph import GraphClient, GraphError, GraphMediaTooLarge


def media_size_limit(message_type: str) -> int:
    return min(meta.MEDIA_MAX_BYTES[message_type], settings.MEDIA_STORE_MAX_BYTES)


def message_media_fetch(*, message: Message) -> MessageMedia:
    """The stored media of `message`, fetched from Meta the first time. Idempotent."""
    stored = MessageMedia.objects.filter(message=message).first()
    if stored is not None:
        return stored
    media_id = (message.content or {}).get("media_id")
    if message.direction != Message.Direction.INBOUND:
        raise NotInbound("Only media a customer sent is fetched from Meta.")
    if message.type not in meta.MEDIA_CONTENT_TYPES or not media_id:
        raise NoMedia(f"Message {message.pk} is a {message.type} message and carries no media.")
    client = _client_for(message)
    limit = media_size_limit(message.type)
    try:
        info = client.get_media(str(media_id))
        mime_type = _content_type_check(message.type, info.get("mime_type") or message.content.get("mime_type"))
        declared = int(info.get("file_size") or 0)
        if declared > limit:
            raise MediaTooLarge(f"The {message.type} is {declared} bytes; at most {limit} are accepted.",
                                details={"limit_bytes": limit, "size_bytes": declared})
        content = client.download_media(str(info.get("url") or ""), max_bytes=limit)
    except GraphMediaTooLarge as error:
        raise MediaTooLarge(f"The {message.type} is larger than {limit} bytes.",
                            details={"limit_bytes": limit, "size_bytes": error.actual_bytes}) from None
    except GraphError as error:
        raise GraphRequestFailed(error, doing="hand out the media") from None
    except ValueError as error:  # a download URL outside Meta's hosts: the token is never sent there
        raise GraphRequestFailed(GraphError(str(error)), doing="hand out the media") from None
    digest = hashlib.sha256(content).hexdigest()
    expected = info.get("sha256") or message.content.get("sha256")
    if expected and not _digest_matches(digest, str(expected)):
        raise MediaChecksumMismatch("The downloaded media does not match the SHA-256 Meta reported.")
    try:
        with transaction.atomic():
            return MessageMedia.objects.create(message=message, mime_type=mime_type, size=len(content),
                                               sha256=digest, content=content)
    except IntegrityError:  # fetched concurrently by another request
        return MessageMedia.objects.get(message=message)


def _client_for(message: Message) -> GraphClient:
    token = message.phone_number.account.access_token
    if not token:
        raise AccountCredentialsMissing("This number's WhatsApp account has no access token.")
    return GraphClient(token.reveal())


def _content_type_check(message_type: str, reported: str | None) -> str:
    mime_type = (reported or "").split(";", 1)[0].strip().lower()
    if mime_type not in meta.MEDIA_CONTENT_TYPES[message_type]:
        raise MediaTypeNotAllowed(
            f"Meta reports {reported!r} for this {message_type}; accepted: "
            f"{', '.join(sorted(meta.MEDIA_CONTENT_TYPES[message_type]))}.",
            details={"content_type": reported},
        )
    return (reported or mime_type).strip()


def _digest_matches(hex_digest: str, expected: str) -> bool:
    """Meta gives the SHA-256 as hex on the media endpoint and as base64 in webhooks."""
    if expected.lower() == hex_digest:
        return True
    try:
        return base64.b64decode(expected, validate=True) == bytes.fromhex(hex_digest)
    except (binascii.Error, ValueError):
        return False
