"""Keep the media customers send: fetch it from Meta soon after arrival, check it, store it (tenant schema).

Meta's media ids expire, so every inbound image, video, audio, document or sticker gets a
`MessageMedia` row (pending) with its message, and a background job (messaging.media_tasks)
fetches the file at once; the inbox and the API read it from storage later. Checks on the way in,
before anything is stored: the content type must be one Meta allows for the message type and the
same as the one announced with the message; the size must be within Meta's limit for the type and
the platform's cap (`MEDIA_STORE_MAX_BYTES`, enforced while streaming, so an oversized file is
never held whole); the bytes must match the SHA-256 Meta gave. A failure that a retry can cure
(Meta unreachable, a checksum mismatch, storage down) is retried with backoff up to
MAX_ATTEMPTS times; the others fail at once, with the reason, until someone asks for a retry.

Files go to Django's default storage under `<schema name>/inbound-media/`, so two tenants never
share a path, and are deleted after INBOUND_MEDIA_RETENTION_DAYS (`inbound_media_expire`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from messaging.errors import (
    AccountCredentialsMissing,
    GraphRequestFailed,
    MediaChecksumMismatch,
    MediaExpired,
    MediaNotKept,
    MediaStorageFailed,
    MediaTooLarge,
    MediaTypeNotAllowed,
    NoMedia,
    NotInbound,
)
from messaging.models import Message, MessageMedia
from platform_core.backoff import backoff_delay
from platform_core.errors import DomainError
from tenants.context import connection
from tenants.jobs import TASK_OPTIONS, tenant_task, tenant_task_enqueue
from tenants.work_pending import WorkKind, work_announce
from waba import meta
from waba.graph import GraphClient, GraphError, GraphMediaTooLarge

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BASE_S = 60.0
RETRY_MAX_S = 3600.0
# An attempt that died without recording its outcome (a killed worker) is due again after this.
ATTEMPT_LEASE = timedelta(minutes=5)
RETRYABLE = (MediaChecksumMismatch, MediaStorageFailed)


def media_size_limit(message_type: str) -> int:
    return min(meta.MEDIA_MAX_BYTES[message_type], settings.MEDIA_STORE_MAX_BYTES)


def carries_media(message: Message) -> bool:
    return (
        message.direction == Message.Direction.INBOUND
        and message.type in meta.MEDIA_CONTENT_TYPES
        and bool((message.content or {}).get("media_id"))
    )


def inbound_media_track(*, message: Message) -> MessageMedia | None:
    """Record that `message`'s media must be kept and queue its fetch once the message commits.

    Called inside the transaction that stores the message; does nothing for messages without media.
    """
    if not carries_media(message):
        return None
    media = MessageMedia.objects.create(message=message, next_attempt_at=timezone.now())
    work_announce(kind=WorkKind.MEDIA, due_at=media.next_attempt_at)
    _fetch_queue(message_id=message.pk)
    return media


def inbound_media_keep(*, media: MessageMedia, now: datetime | None = None) -> MessageMedia:
    """The background attempt: fetch and store `media` if it is pending and due. Never raises a
    domain error: the outcome is recorded on the row. Safe to run concurrently (the row is claimed)."""
    now = now or timezone.now()
    if media.state != MessageMedia.State.PENDING or not _claim(media, now=now, due_only=True):
        return media
    _attempt(media, now=now)
    return media


def inbound_media_next_due() -> datetime | None:
    """When the next pending media is due (a retry, or the lease of an attempt under way); None
    when none is pending."""
    pending = MessageMedia.objects.filter(state=MessageMedia.State.PENDING)
    if pending.filter(next_attempt_at__isnull=True).exists():
        return timezone.now()
    return pending.aggregate(due=Min("next_attempt_at"))["due"]


def inbound_media_due_keep(*, now: datetime | None = None, limit: int = 20) -> int:
    """Attempt the pending media whose retry is due (and any whose job was lost). Returns how many were tried."""
    now = now or timezone.now()
    due = MessageMedia.objects.filter(state=MessageMedia.State.PENDING, next_attempt_at__lte=now)
    tried = 0
    for media in due.select_related("message__phone_number__account").order_by("next_attempt_at")[:limit]:
        if _claim(media, now=now, due_only=True):
            _attempt(media, now=now)
            tried += 1
    return tried


def message_media_fetch(*, message: Message) -> MessageMedia:
    """The stored media of `message`, for reading it. When the background job has not kept it yet
    and an attempt is due, fetches it now. Raises the attempt's error, or MediaNotKept (pending or
    failed) or MediaExpired."""
    if message.direction != Message.Direction.INBOUND:
        raise NotInbound("Only media a customer sent is fetched from Meta.")
    if not carries_media(message):
        raise NoMedia(f"Message {message.pk} is a {message.type} message and carries no media.")
    media, _ = MessageMedia.objects.get_or_create(
        message=message, defaults={"next_attempt_at": timezone.now()}
    )
    media.message = message
    now = timezone.now()
    if media.state == MessageMedia.State.PENDING and _claim(media, now=now, due_only=True):
        error = _attempt(media, now=now)
        if error is not None:
            raise error
    if media.state == MessageMedia.State.STORED:
        return media
    if media.state == MessageMedia.State.EXPIRED:
        raise MediaExpired(
            f"The media was deleted after {settings.INBOUND_MEDIA_RETENTION_DAYS} days.",
            details={"expired_at": media.expired_at.isoformat() if media.expired_at else None},
        )
    raise MediaNotKept(media_state_text(media), details={"state": media.state, "reason": media.failure_code})


def message_media_content(*, media: MessageMedia) -> bytes:
    try:
        with media.file.open("rb") as handle:
            return handle.read()
    except OSError as error:
        raise MediaStorageFailed(f"The stored media could not be read: {type(error).__name__}.") from None


@transaction.atomic
def inbound_media_retry(*, message: Message) -> MessageMedia:
    """Try again to keep media that failed (or is still pending): attempts start over, the fetch is queued."""
    if not carries_media(message):
        raise NoMedia(f"Message {message.pk} carries no media from the customer.")
    media, _ = MessageMedia.objects.select_for_update().get_or_create(message=message)
    if media.state == MessageMedia.State.STORED:
        return media
    if media.state == MessageMedia.State.EXPIRED:
        raise MediaExpired("The media was deleted after its retention period; Meta no longer has it.")
    MessageMedia.objects.filter(pk=media.pk).update(
        state=MessageMedia.State.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        failure_code="",
        failure_reason="",
    )
    work_announce(kind=WorkKind.MEDIA)
    _fetch_queue(message_id=message.pk)
    media.refresh_from_db()
    return media


def inbound_media_expire(*, now: datetime | None = None, batch: int = 200) -> int:
    """Delete stored files older than INBOUND_MEDIA_RETENTION_DAYS and mark them expired. Returns how many."""
    days = settings.INBOUND_MEDIA_RETENTION_DAYS
    if not days:
        return 0
    now = now or timezone.now()
    old = MessageMedia.objects.filter(
        state=MessageMedia.State.STORED, fetched_at__lt=now - timedelta(days=days)
    )
    expired = 0
    while chunk := list(old.order_by("fetched_at")[:batch]):
        for media in chunk:
            if media.file.name:
                default_storage.delete(media.file.name)
            expired += MessageMedia.objects.filter(pk=media.pk, state=MessageMedia.State.STORED).update(
                state=MessageMedia.State.EXPIRED, file="", expired_at=now
            )
    return expired


def media_state_text(media: MessageMedia) -> str:
    """What a person reads about media that is not (or no longer) in storage."""
    if media.state == MessageMedia.State.FAILED:
        return f"Media could not be kept: {media.failure_reason}"
    if media.state == MessageMedia.State.EXPIRED:
        return "Media expired: deleted after the retention period."
    if media.state == MessageMedia.State.PENDING and media.failure_reason:
        return (
            f"Media not kept yet (attempt {media.attempts} of {MAX_ATTEMPTS} failed: {media.failure_reason})"
        )
    return "Media is being fetched from WhatsApp."


def media_storage_path(*, schema_name: str, message_id: int, sha256: str, mime_type: str) -> str:
    extension = mimetypes.guess_extension(_base_type(mime_type)) or ""
    return f"{schema_name}/inbound-media/{message_id}-{sha256[:16]}{extension}"


# --- one attempt ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Download:
    mime_type: str
    content: bytes
    sha256: str


@tenant_task
def media_keep_task(message_id: int) -> None:
    """The job queued for each new inbound media message (and for a retry)."""
    media = (
        MessageMedia.objects.select_related("message__phone_number__account").filter(pk=message_id).first()
    )
    if media is not None:
        inbound_media_keep(media=media)


def _fetch_queue(*, message_id: int) -> None:
    schema_name = connection.schema_name
    transaction.on_commit(
        lambda: tenant_task_enqueue(
            media_keep_task, message_id, schema_name=schema_name, q_options=TASK_OPTIONS
        )
    )


def _claim(media: MessageMedia, *, now: datetime, due_only: bool) -> bool:
    """Take this attempt (one UPDATE conditional on the attempts seen), so two workers never both fetch."""
    rows = MessageMedia.objects.filter(pk=media.pk, state=MessageMedia.State.PENDING, attempts=media.attempts)
    if due_only:
        rows = rows.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    if not rows.update(attempts=F("attempts") + 1, next_attempt_at=now + ATTEMPT_LEASE):
        media.refresh_from_db()
        return False
    media.attempts += 1
    return True


def _attempt(media: MessageMedia, *, now: datetime) -> DomainError | None:
    """Fetch, check and store the claimed `media`; record the outcome on the row and return the error, if any."""
    message = media.message
    try:
        download = _download(message)
        name = _store(media, download)
    except DomainError as error:
        _failure_record(media, error, now=now)
        return error
    media.state, media.file.name = MessageMedia.State.STORED, name
    media.mime_type, media.size, media.sha256 = download.mime_type, len(download.content), download.sha256
    media.fetched_at, media.next_attempt_at, media.failure_code, media.failure_reason = now, None, "", ""
    media.save(
        update_fields=[
            "state",
            "file",
            "mime_type",
            "size",
            "sha256",
            "fetched_at",
            "next_attempt_at",
            "failure_code",
            "failure_reason",
        ]
    )
    return None


def _failure_record(media: MessageMedia, error: DomainError, *, now: datetime) -> None:
    retry = _retryable(error) and media.attempts < MAX_ATTEMPTS
    media.state = MessageMedia.State.PENDING if retry else MessageMedia.State.FAILED
    media.next_attempt_at = (
        now
        + timedelta(seconds=backoff_delay(retry=media.attempts - 1, base_s=RETRY_BASE_S, max_s=RETRY_MAX_S))
        if retry
        else None
    )
    media.failure_code, media.failure_reason = error.code, error.message[:1000]
    media.save(update_fields=["state", "next_attempt_at", "failure_code", "failure_reason"])
    logger.warning(
        "Media of message %s not kept (attempt %s, %s): %s",
        media.message_id,
        media.attempts,
        "will retry" if retry else "gave up",
        error.code,
    )


def _retryable(error: DomainError) -> bool:
    if isinstance(error, GraphRequestFailed):
        return bool((error.details or {}).get("retryable"))
    return isinstance(error, RETRYABLE)


def _store(media: MessageMedia, download: _Download) -> str:
    name = media_storage_path(
        schema_name=connection.schema_name,
        message_id=media.message_id,
        sha256=download.sha256,
        mime_type=download.mime_type,
    )
    try:
        return default_storage.save(name, ContentFile(download.content))
    except OSError as error:
        raise MediaStorageFailed(
            f"The media could not be written to storage: {type(error).__name__}."
        ) from None


def _download(message: Message) -> _Download:
    media_id = str(message.content["media_id"])
    client = _client_for(message)
    limit = media_size_limit(message.type)
    try:
        info = client.get_media(media_id)
        mime_type = _content_type_check(
            message.type, info.get("mime_type") or message.content.get("mime_type")
        )
        _announced_type_check(message, mime_type)
        declared = int(info.get("file_size") or 0)
        if declared > limit:
            raise MediaTooLarge(
                f"The {message.type} is {declared} bytes; at most {limit} are accepted.",
                details={"limit_bytes": limit, "size_bytes": declared},
            )
        content = client.download_media(str(info.get("url") or ""), max_bytes=limit)
    except GraphMediaTooLarge as error:
        raise MediaTooLarge(
            f"The {message.type} is larger than {limit} bytes.",
            details={"limit_bytes": limit, "size_bytes": error.actual_bytes},
        ) from None
    except GraphError as error:
        raise GraphRequestFailed(error, doing="hand out the media") from None
    except ValueError as error:  # a download URL outside Meta's hosts: the token is never sent there
        raise GraphRequestFailed(GraphError(str(error)), doing="hand out the media") from None
    digest = hashlib.sha256(content).hexdigest()
    expected = info.get("sha256") or message.content.get("sha256")
    if expected and not _digest_matches(digest, str(expected)):
        raise MediaChecksumMismatch("The downloaded media does not match the SHA-256 Meta reported.")
    return _Download(mime_type=mime_type, content=content, sha256=digest)


def _client_for(message: Message) -> GraphClient:
    token = message.phone_number.account.access_token
    if not token:
        raise AccountCredentialsMissing("This number's WhatsApp account has no access token.")
    return GraphClient(token.reveal())


def _base_type(mime_type: str | None) -> str:
    return (mime_type or "").split(";", 1)[0].strip().lower()


def _content_type_check(message_type: str, reported: str | None) -> str:
    if _base_type(reported) not in meta.MEDIA_CONTENT_TYPES[message_type]:
        raise MediaTypeNotAllowed(
            f"Meta reports {reported!r} for this {message_type}; accepted: "
            f"{', '.join(sorted(meta.MEDIA_CONTENT_TYPES[message_type]))}.",
            details={"content_type": reported},
        )
    return (reported or "").strip()


def _announced_type_check(message: Message, served: str) -> None:
    """The type Meta announced with the message must be the type it serves the file as."""
    announced = message.content.get("mime_type")
    if announced and _base_type(str(announced)) != _base_type(served):
        raise MediaTypeNotAllowed(
            f"The message announced {announced!r} but Meta serves the file as {served!r}.",
            details={"content_type": served, "announced": announced},
        )


def _digest_matches(hex_digest: str, expected: str) -> bool:
    """Meta gives the SHA-256 as hex on the media endpoint and as base64 in webhooks."""
    if expected.lower() == hex_digest:
        return True
    try:
        return base64.b64decode(expected, validate=True) == bytes.fromhex(hex_digest)
    except (binascii.Error, ValueError):
        return False
