"""Bodies of the messaging read API: messages (both directions), conversations, read receipts, filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from messaging.models import Conversation, Message, MessageMedia
from messaging.status_order import MessageStatus
from platform_core.api import MAX_PAGE_SIZE, RowId, UtcDateTime

Direction = Literal["in", "out"]


class ContactRef(Schema):
    id: int
    wa_id: str = Field(description="WhatsApp id: the E.164 number without '+'.")
    profile_name: str
    opted_out: bool


class PhoneNumberRef(Schema):
    id: int
    phone_number_id: str = Field(description="Meta's phone_number_id.")
    display_phone_number: str


class MessageErrorOut(Schema):
    code: int | None = Field(description="Meta's error code, when Meta failed the message.")
    title: str
    details: str
    reason: str = Field(
        description="Our machine-readable reason when the platform refused the message before sending it "
        "(e.g. outside_service_window, account_not_active); empty for Meta's errors."
    )


class MediaFailureOut(Schema):
    code: str
    message: str


class StoredMediaOut(Schema):
    """Keeping an inbound message's media: fetched from Meta in the background after it arrives."""

    state: Literal["pending", "stored", "failed", "expired"] = Field(
        description="pending: being fetched (or waiting for a retry); stored: in storage, download it from "
        "/messages/{id}/media; failed: given up (see failure); expired: deleted after the retention period.")
    mime_type: str
    size: int | None
    sha256: str = Field(description="Hex SHA-256 of the stored file, checked against Meta's.")
    attempts: int
    next_attempt_at: datetime | None
    failure: MediaFailureOut | None = Field(description="Why the last attempt failed, if it did.")
    fetched_at: datetime | None
    expired_at: datetime | None


class MessageOut(Schema):
    """A message of either direction. Outbound messages also show their delivery progress."""

    id: int
    conversation_id: int
    direction: Direction
    type: str
    status: MessageStatus
    wamid: str | None
    body: str = Field(description="The searchable text: words, caption, title or name.")
    content: dict[str, Any] = Field(description="The type's payload (see the webhook parser for inbound types).")
    context_wamid: str = Field(description="The message this one replies to, if any.")
    timestamp: datetime
    contact: ContactRef
    phone_number: PhoneNumberRef
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    error: MessageErrorOut | None
    pricing_category: str
    pricing: dict[str, Any] | None
    conversation_info: dict[str, Any] | None
    template_id: int | None
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    is_read_by_business: bool
    media: StoredMediaOut | None = Field(description="Inbound media: whether and when it was kept in storage.")
    created_at: datetime
    updated_at: datetime


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class MessageFilters(Schema):
    contact: str | None = Field(None, description="The customer's phone number, with or without '+'.")
    direction: Direction | None = None
    type: str | None = None
    status: MessageStatus | None = None
    since: UtcDateTime | None = Field(None, description="Messages at or after this time (ISO 8601).")
    until: UtcDateTime | None = Field(None, description="Messages before this time (ISO 8601).")
    conversation_id: RowId | None = None
    phone_number_id: str | None = Field(None, description="Meta's phone_number_id of one of your numbers.")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class ConversationOut(Schema):
    id: int
    contact: ContactRef
    phone_number: PhoneNumberRef
    message_count: int
    unread_count: int
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    service_window_expires_at: datetime | None
    window_open: bool = Field(description="Inside the 24-hour customer-service window: any message may be sent.")
    created_at: datetime


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class ConversationFilters(Schema):
    contact: str | None = Field(None, description="The customer's phone number, with or without '+'.")
    phone_number_id: str | None = None
    unread: bool | None = Field(None, description="true: only conversations with unread messages.")
    window_open: bool | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class ReadOut(Schema):
    conversation_id: int
    marked_read: int = Field(description="Inbound messages newly marked as read.")
    unread_count: int
    receipt_wamid: str | None = Field(description="The message Meta got a read receipt for (none if nothing was unread).")


def contact_ref(message_or_conversation: Message | Conversation) -> dict[str, Any]:
    contact = message_or_conversation.contact
    return {"id": contact.pk, "wa_id": contact.wa_id, "profile_name": contact.profile_name,
            "opted_out": contact.opted_out}


def phone_number_ref(message_or_conversation: Message | Conversation) -> dict[str, Any]:
    phone = message_or_conversation.phone_number
    return {"id": phone.pk, "phone_number_id": phone.phone_number_id,
            "display_phone_number": phone.display_phone_number}


def message_out(message: Message) -> dict[str, Any]:
    failed = message.error_code is not None or message.error_title or message.error_reason
    stored = getattr(message, "stored_media", None)
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "type": message.type,
        "status": message.status,
        "wamid": message.wamid,
        "body": message.body,
        "content": message.content,
        "context_wamid": message.context_wamid,
        "timestamp": message.timestamp,
        "contact": contact_ref(message),
        "phone_number": phone_number_ref(message),
        "sent_at": message.sent_at,
        "delivered_at": message.delivered_at,
        "read_at": message.read_at,
        "failed_at": message.failed_at,
        "error": {"code": message.error_code, "title": message.error_title, "details": message.error_details,
                  "reason": message.error_reason} if failed else None,
        "pricing_category": message.pricing_category,
        "pricing": message.pricing,
        "conversation_info": message.conversation_info,
        "template_id": message.template_id,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "last_attempt_at": message.last_attempt_at,
        "is_read_by_business": message.is_read_by_business,
        "media": stored_media_out(stored) if stored else None,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
    }


def stored_media_out(media: MessageMedia) -> dict[str, Any]:
    return {
        "state": media.state,
        "mime_type": media.mime_type,
        "size": media.size,
        "sha256": media.sha256,
        "attempts": media.attempts,
        "next_attempt_at": media.next_attempt_at,
        "failure": {"code": media.failure_code, "message": media.failure_reason} if media.failure_code else None,
        "fetched_at": media.fetched_at,
        "expired_at": media.expired_at,
    }


def conversation_out(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "contact": contact_ref(conversation),
        "phone_number": phone_number_ref(conversation),
        "message_count": conversation.message_count,
        "unread_count": conversation.unread_count,
        "last_message_at": conversation.last_message_at,
        "last_inbound_at": conversation.last_inbound_at,
        "service_window_expires_at": conversation.service_window_expires_at,
        "window_open": conversation.window_open(),
        "created_at": conversation.created_at,
    }
