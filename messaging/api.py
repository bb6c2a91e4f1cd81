"""Tenant API of messaging: messages and conversations.

One router for `/messages...` so that reading (here) and sending (sending.api registers
its operations on this same router) share paths such as /messages and /messages/{id}.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from messaging import selectors
from messaging.media import inbound_media_retry, message_media_content, message_media_fetch
from messaging.receipts import conversation_mark_read, message_mark_read
from messaging.schemas import (
    ConversationFilters,
    ConversationOut,
    ConversationPage,
    MessageFilters,
    MessageOut,
    MessagePage,
    ReadOut,
    conversation_out,
    message_out,
)

router = Router(tags=["messages"])


@router.get("/messages", response=MessagePage, summary="List messages",
            description="Both directions, newest first. Filter by customer phone, direction, type, status and "
            "time; page with `cursor` (the `next_cursor` of the previous page).")
def messages_list(request: HttpRequest, filters: Query[MessageFilters]):
    page, next_cursor = selectors.messages_list(**filters.dict())
    return {"items": [message_out(message) for message in page], "next_cursor": next_cursor}


@router.get("/messages/{int:message_id}", response=MessageOut, summary="Get a message")
def message_get(request: HttpRequest, message_id: int):
    return message_out(selectors.message_get(message_id=message_id))


@router.post("/messages/{int:message_id}/read", response=ReadOut, summary="Mark a message read",
             description="Marks this inbound message and the earlier ones of its conversation as read and sends "
             "Meta the read receipt (the customer sees blue ticks).")
def message_read(request: HttpRequest, message_id: int):
    return message_mark_read(message=selectors.message_get(message_id=message_id)).__dict__


@router.get("/messages/{int:message_id}/media", summary="Download a message's media",
            response={200: None},
            description="The file of an inbound image, video, audio, document or sticker, kept in storage "
            "when it arrived (fetched from Meta now if that has not happened yet). Answers with the file itself "
            "(its content type); 409 media_not_kept while it is pending or after it failed, 410 media_expired "
            "after the retention period.")
def message_media(request: HttpRequest, message_id: int):
    media = message_media_fetch(message=selectors.message_get(message_id=message_id))
    response = HttpResponse(message_media_content(media=media), content_type=media.mime_type)
    filename = (media.message.content or {}).get("filename")
    disposition = "attachment" if filename else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{_safe_filename(filename)}"' if filename \
        else disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Media-SHA256"] = media.sha256
    response["Cache-Control"] = "private, max-age=3600"
    return response


@router.post("/messages/{int:message_id}/media/retry", response=MessageOut, summary="Retry keeping a message's media",
             description="Starts the attempts to fetch and store an inbound message's media over, after they "
             "failed. Answers the message; its `media.state` is pending until the background job is done.")
def message_media_retry(request: HttpRequest, message_id: int):
    message = selectors.message_get(message_id=message_id)
    inbound_media_retry(message=message)
    return message_out(selectors.message_get(message_id=message_id))


@router.get("/conversations", response=ConversationPage, summary="List conversations",
            description="Most recent activity first, with unread counts and the 24-hour service window.")
def conversations_list(request: HttpRequest, filters: Query[ConversationFilters]):
    page, next_cursor = selectors.conversations_list(**filters.dict())
    return {"items": [conversation_out(conversation) for conversation in page], "next_cursor": next_cursor}


@router.get("/conversations/{int:conversation_id}", response=ConversationOut, summary="Get a conversation")
def conversation_get(request: HttpRequest, conversation_id: int):
    return conversation_out(selectors.conversation_get(conversation_id=conversation_id))


@router.post("/conversations/{int:conversation_id}/read", response=ReadOut, summary="Mark a conversation read",
             description="Marks every inbound message read; one read receipt goes to Meta for the newest.")
def conversation_read(request: HttpRequest, conversation_id: int):
    return conversation_mark_read(conversation=selectors.conversation_get(conversation_id=conversation_id)).__dict__


def _safe_filename(filename: str) -> str:
    return "".join(ch for ch in filename if ch.isprintable() and ch not in '"\\/\r\n')[:200] or "file"
