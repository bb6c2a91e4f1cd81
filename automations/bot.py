"""The account's bot settings: greeting, out-of-hours notice and fallback, each with its limit.

All three need `auto_reply_enabled` and a non-empty text on the WhatsApp account:
- greeting: the contact's first message to this number, once;
- out of hours: outside business hours in the account's time zone, once per closed period
  (the time from the last closing to the next opening);
- fallback: a text that matched nothing, at most once per contact and number per 24 hours, so
  two bots can never talk to each other forever.
Limits are read from `AutomatedReply` (what was really queued), so they hold across processes.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from automations import conf
from automations.models import AutomatedReply
from messaging.models import Message
from waba.models import WhatsAppAccount

logger = logging.getLogger(__name__)
Purpose = AutomatedReply.Purpose


def _enabled_text(account: WhatsAppAccount, text: str) -> str | None:
    return text.strip() if account.auto_reply_enabled and text and text.strip() else None


def _sent_since(message: Message, purpose: str, since: datetime | None) -> bool:
    replies = AutomatedReply.objects.filter(
        contact_id=message.contact_id, phone_number_id=message.phone_number_id, purpose=purpose, error_code=""
    )
    if since is not None:
        replies = replies.filter(created_at__gte=since)
    return replies.exists()


def greeting_text(*, account: WhatsAppAccount, message: Message) -> str | None:
    text = _enabled_text(account, account.greeting_message)
    if text is None:
        return None
    earlier = Message.objects.filter(
        conversation_id=message.conversation_id, direction=Message.Direction.INBOUND, pk__lt=message.pk
    ).exists()
    if earlier or _sent_since(message, Purpose.GREETING, None):
        return None
    return text


def out_of_hours_text(*, account: WhatsAppAccount, message: Message, now: datetime) -> str | None:
    text = _enabled_text(account, account.out_of_hours_message)
    if text is None or business_open(account=account, at=now):
        return None
    if _sent_since(message, Purpose.OUT_OF_HOURS, closed_since(account=account, at=now)):
        return None
    return text


def fallback_text(*, account: WhatsAppAccount, message: Message, now: datetime) -> str | None:
    text = _enabled_text(account, account.fallback_message)
    if text is None or _sent_since(message, Purpose.FALLBACK, now - conf.FALLBACK_INTERVAL):
        return None
    return text


def account_zone(account: WhatsAppAccount) -> ZoneInfo:
    try:
        return ZoneInfo(account.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("Account %s has an unknown time zone %r; using UTC.", account.pk, account.timezone)
        return ZoneInfo("UTC")


def business_open(*, account: WhatsAppAccount, at: datetime) -> bool:
    """Open between start and end, local time; hours across midnight (22:00-06:00) work too.
    Without both hours set the business counts as always open."""
    start, end = account.business_hours_start, account.business_hours_end
    if start is None or end is None or start == end:
        return True
    local = at.astimezone(account_zone(account)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def closed_since(*, account: WhatsAppAccount, at: datetime) -> datetime:
    """When the current closed period began: the latest closing time (local `end`) not after `at`."""
    zone = account_zone(account)
    local = at.astimezone(zone)
    end: time = account.business_hours_end or time(0)
    closing = datetime.combine(local.date(), end, tzinfo=zone)
    if closing > local:
        closing -= timedelta(days=1)
    return closing
