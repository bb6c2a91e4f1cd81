"""The business reads what customers wrote: mark messages read here and send Meta's read receipt.

Meta treats a read receipt for one message as read for every earlier message of that chat, so
one receipt (for the newest message being marked) covers them all, and the same holds locally.
The receipt is sent first: if Meta refuses, nothing is marked and the caller can try again.
Marking what is already read sends nothing and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet

from messaging.errors import AccountCredentialsMissing, GraphRequestFailed, NotInbound
from messaging.inbound import NOT_FROM_CUSTOMER_TYPES
from messaging.models import Conversation, Message
from waba.graph import GraphClient, GraphError
from waba.models import PhoneNumber


@dataclass(frozen=True)
class ReadResult:
    conversation_id: int
    marked_read: int
    unread_count: int
    receipt_wamid: str | None


def conversation_mark_read(*, conversation: Conversation) -> ReadResult:
    """Mark every inbound message of the conversation read (one receipt, for the newest)."""
    newest = _unread(conversation).order_by("-timestamp", "-id").first()
    if newest is None:
        return _result(conversation, marked=0, receipt_wamid=None)
    return message_mark_read(message=newest)


def message_mark_read(*, message: Message) -> ReadResult:
    """Mark this inbound message and the earlier ones of its conversation read."""
    if message.direction != Message.Direction.INBOUND:
        raise NotInbound("Only messages the customer sent can be marked as read.")
    conversation = message.conversation
    up_to_here = _unread(conversation).filter(timestamp__lte=message.timestamp)
    if not up_to_here.exists():
        return _result(conversation, marked=0, receipt_wamid=None)
    _receipt_send(phone=message.phone_number, wamid=message.wamid or "")
    with transaction.atomic():
        marked = up_to_here.update(is_read_by_business=True)
        _unread_recount(conversation)
    return _result(conversation, marked=marked, receipt_wamid=message.wamid)


def _unread(conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND,
                                  is_read_by_business=False)


def _receipt_send(*, phone: PhoneNumber, wamid: str) -> None:
    token = phone.account.access_token
    if not token:
        raise AccountCredentialsMissing(
            f"The WhatsApp account of {phone.display_phone_number or phone.phone_number_id} has no access token.")
    try:
        GraphClient(token.reveal()).mark_read(phone.phone_number_id, wamid)
    except GraphError as error:
        raise GraphRequestFailed(error, doing="mark the message as read") from None


def _unread_recount(conversation: Conversation) -> None:
    """One statement, so an inbound message counted meanwhile is neither lost nor counted twice."""
    excluded = tuple(NOT_FROM_CUSTOMER_TYPES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Conversation._meta.db_table} SET unread_count = ("
            f" SELECT count(*) FROM {Message._meta.db_table} m WHERE m.conversation_id = %s"
            " AND m.direction = %s AND NOT m.is_read_by_business AND NOT (m.type = ANY(%s))"
            ") WHERE id = %s",
            [conversation.pk, Message.Direction.INBOUND, list(excluded), conversation.pk],
        )


def _result(conversation: Conversation, *, marked: int, receipt_wamid: str | None) -> ReadResult:
    unread = Conversation.objects.filter(pk=conversation.pk).values_list("unread_count", flat=True).first() or 0
    return ReadResult(conversation_id=conversation.pk, marked_read=marked, unread_count=unread,
                      receipt_wamid=receipt_wamid)
