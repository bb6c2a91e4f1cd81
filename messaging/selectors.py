"""Reads of messages and conversations (tenant schema), with keyset cursor pagination.

A cursor is an opaque token of the last row's sort key; pages stay stable while new messages
arrive (no offsets). Isolation comes from the schema: another tenant's id simply does not exist.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging.errors import ConversationNotFound, InvalidCursor, MessageNotFound
from messaging.models import Conversation, Message
from platform_core.api import PG_BIGINT_MAX
from waba.validation import PhoneNumberInvalid, phone_number_normalise

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _SortAt(TypedDict):
    sort_at: datetime


_NOT_DIGITS = re.compile(r"\D")


def wa_id_from_phone(phone: str) -> str:
    """'+49 151 2345-678' -> '491512345678' (WhatsApp ids are the E.164 digits).

    A lookup, not a check: text that is no phone number becomes its digits and simply matches nothing.
    """
    try:
        return phone_number_normalise(phone, possible_only=True).removeprefix("+")
    except PhoneNumberInvalid:
        return _NOT_DIGITS.sub("", phone)


def _messages() -> QuerySet[Message]:
    return Message.objects.select_related("contact", "phone_number", "stored_media").defer("request_payload")


def message_get(*, message_id: int) -> Message:
    message = _messages().filter(pk=message_id).first()
    if message is None:
        raise MessageNotFound(f"No message {message_id} in this workspace.")
    return message


def messages_list(
    *,
    contact: str | None = None,
    direction: str | None = None,
    type: str | None = None,  # noqa: A002 - the API's filter name
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    conversation_id: int | None = None,
    phone_number_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Message], str | None]:
    """Newest first. Returns one page and the cursor of the next (None on the last page)."""
    messages = _messages()
    if contact:
        messages = messages.filter(contact__wa_id=wa_id_from_phone(contact))
    if direction:
        messages = messages.filter(direction=direction)
    if type:
        messages = messages.filter(type=type)
    if status:
        messages = messages.filter(status=status)
    if since:
        messages = messages.filter(timestamp__gte=since)
    if until:
        messages = messages.filter(timestamp__lt=until)
    if conversation_id:
        messages = messages.filter(conversation_id=conversation_id)
    if phone_number_id:
        messages = messages.filter(phone_number__phone_number_id=phone_number_id)
    if cursor:
        at, pk = _cursor_decode(cursor)
        messages = messages.filter(Q(timestamp__lt=at) | Q(timestamp=at, id__lt=pk))
    page = list(messages.order_by("-timestamp", "-id")[: limit + 1])
    next_cursor = _cursor_encode(page[limit - 1].timestamp, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def _conversations() -> QuerySet[WithAnnotations[Conversation, _SortAt]]:
    return Conversation.objects.select_related("contact", "phone_number").annotate(
        sort_at=Coalesce("last_message_at", "created_at")
    )


def conversation_get(*, conversation_id: int) -> Conversation:
    conversation = _conversations().filter(pk=conversation_id).first()
    if conversation is None:
        raise ConversationNotFound(f"No conversation {conversation_id} in this workspace.")
    return conversation


def conversations_list(
    *,
    contact: str | None = None,
    phone_number_id: str | None = None,
    unread: bool | None = None,
    window_open: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[Conversation], str | None]:
    """Most recent activity first; same cursor rules as messages."""
    conversations = _conversations()
    if contact:
        conversations = conversations.filter(contact__wa_id=wa_id_from_phone(contact))
    if phone_number_id:
        conversations = conversations.filter(phone_number__phone_number_id=phone_number_id)
    if unread is not None:
        conversations = conversations.filter(unread_count__gt=0) if unread else conversations.filter(unread_count=0)
    if window_open is not None:
        open_now = Q(service_window_expires_at__gt=timezone.now())
        conversations = conversations.filter(open_now if window_open else ~open_now)
    if cursor:
        at, pk = _cursor_decode(cursor)
        conversations = conversations.filter(Q(sort_at__lt=at) | Q(sort_at=at, id__lt=pk))
    page = list(conversations.order_by("-sort_at", "-id")[: limit + 1])
    next_cursor = _cursor_encode(page[limit - 1].sort_at, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def _cursor_encode(at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), pk]).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime, int]:
    """The sort key in a cursor; anything this API could not have written (a naive or far-off time, an
    id out of the column's range, deep JSON) is InvalidCursor, never a database error."""
    try:
        raw: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at, pk = datetime.fromisoformat(raw[0]), int(raw[1])
        if at.tzinfo is None or not 0 < pk <= PG_BIGINT_MAX:
            raise ValueError("not a cursor of this API")
        at = at.astimezone(UTC)  # PostgreSQL refuses some offsets Python accepts (beyond 15:59)
    except (binascii.Error, ValueError, TypeError, IndexError, KeyError, OverflowError, RecursionError):
        raise InvalidCursor("The cursor is not one this API returned; start again without it.") from None
    return at, pk


def conversation_messages_page(
    *, conversation_id: int, before: str | None = None, limit: int = 50
) -> tuple[list[Message], str | None]:
    """One page of a conversation's thread, oldest first for reading, and the cursor of the page
    before it (None when this page reaches the first message). `before` is such a cursor."""
    messages = Message.objects.filter(conversation_id=conversation_id).select_related("template", "stored_media")
    messages = messages.defer("request_payload")
    if before:
        at, pk = _cursor_decode(before)
        messages = messages.filter(Q(timestamp__lt=at) | Q(timestamp=at, id__lt=pk))
    page = list(messages.order_by("-timestamp", "-id")[: limit + 1])
    earlier = _cursor_encode(page[limit - 1].timestamp, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit][::-1], earlier


def conversation_messages_changed(
    *, conversation_id: int, after_id: int, since: datetime | None, limit: int = 200
) -> tuple[list[Message], list[Message]]:
    """What changed in a thread since a reader last looked: messages with an id above `after_id`
    (oldest first), and older ones updated after `since` (a status moved on). One query."""
    changed = Q(id__gt=after_id)
    if since is not None:
        changed |= Q(updated_at__gt=since)
    messages = Message.objects.filter(changed, conversation_id=conversation_id).select_related(
        "template", "stored_media"
    ).defer("request_payload")
    found = list(messages.order_by("timestamp", "id")[:limit])
    return [m for m in found if m.pk > after_id], [m for m in found if m.pk <= after_id]


def messages_by_wamid(*, wamids: Sequence[str]) -> dict[str, Message]:
    """The messages a page quotes or reacts to, by Meta id (those that are stored)."""
    wanted = {wamid for wamid in wamids if wamid}
    if not wanted:
        return {}
    found = Message.objects.filter(wamid__in=wanted).only("id", "wamid", "type", "body", "direction")
    return {message.wamid: message for message in found if message.wamid}


def conversations_last_message(*, conversation_ids: Sequence[int]) -> dict[int, Message]:
    """The newest message of each conversation, for a list's snippets. One query."""
    if not conversation_ids:
        return {}
    newest = (
        Message.objects.filter(conversation_id__in=list(conversation_ids))
        .order_by("conversation_id", "-timestamp", "-id")
        .distinct("conversation_id")
        .only("id", "conversation_id", "direction", "type", "body", "status", "timestamp", "content")
    )
    return {message.conversation_id: message for message in newest}
