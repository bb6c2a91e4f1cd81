"""Sending a message: validate, apply the rules, count it against the quotas, queue it.

`message_send` is what the API, automations and flows call. Nothing is written unless every
check passes; the message is then queued (an outbound Message row, status `queued`) and a send
worker delivers it. A sender no person watches (an automation) keeps a refusal in the conversation
with `message_refused_record`. Runs inside the tenant's schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from pydantic import ValidationError

from messaging.models import Contact, Conversation, Message
from platform_core.errors import DomainError
from platform_core.usage_limits import MESSAGES, usage_limit_check
from sending.errors import (
    AccountNotActive,
    ContactBlocked,
    ContactOptedOut,
    IdempotencyKeyReused,
    MessageInvalid,
    OutsideServiceWindow,
    QuotaExceeded,
    TemplateNotApproved,
    TemplateNotFound,
)
from sending.outbox import OutboundItem, outbox_enqueue
from sending.quotas import quota_give_back, quota_take
from sending.schemas import MessageContentIn
from sending.validation import BuiltMessage, message_build, problem, recipient_normalise
from waba import meta
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount
from waba.selectors import phone_number_for_send
from waba.validation import digits_of

# The title of a message the platform refused before sending it (its reason is in `error_reason`).
REFUSED_TITLE = "Not sent: refused before reaching Meta"


@dataclass(frozen=True)
class MessageQueued:
    message: Message
    # True when an earlier request with the same Idempotency-Key created it.
    replayed: bool = False


def message_send(
    *,
    phone_number_id: str,
    to: str,
    content: MessageContentIn | Mapping[str, Any],
    idempotency_key: str | None = None,
) -> MessageQueued:
    """Queue one message from one of the tenant's numbers.

    `content` is the message (`{"type": "text", "text": {"body": ...}}` and so on, see
    sending.schemas.MessageContentIn). `to` is a contact's WhatsApp id or a number a person
    typed (see `recipient_resolve`). With an `idempotency_key`, a repeated call returns
    the message the first call queued (and refuses a different message under the same key).
    Raises a SendError (422, 404, 409, 429) before writing anything.
    """
    spec = _content_parse(content)
    phone = phone_number_for_send(phone_number_id=phone_number_id)
    wa_id, contact = recipient_resolve(to=to)
    template = None
    if spec.type == "template" and spec.template is not None:
        template = template_for_send(
            account=phone.account, name=spec.template.name, language=spec.template.language
        )
    built = message_build(spec=spec, to_wa_id=wa_id, template=template)
    if idempotency_key:
        earlier = Message.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replay(earlier, phone, built)
    account_check_active(account=phone.account)
    _rules_check(phone=phone, wa_id=wa_id, contact=contact, built=built, template=template)
    windows = quota_take(account=phone.account, amount=1)
    item = OutboundItem(wa_id=wa_id, built=built, template=template, idempotency_key=idempotency_key or None)
    category = template.category.lower() if template else "service"
    try:
        # One transaction: a lock a usage check takes (billing's allowance) lasts until the message is written.
        with transaction.atomic():
            usage_limit_check(resource=MESSAGES, category=category)
            [message] = outbox_enqueue(phone_number=phone, items=[item])
    except IntegrityError:
        quota_give_back(windows=windows, amount=1)
        earlier = Message.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if earlier is None:
            raise
        return _replay(earlier, phone, built)  # a concurrent request with the same key won
    except BaseException:
        quota_give_back(windows=windows, amount=1)
        raise
    return MessageQueued(message=message)


@dataclass(frozen=True)
class ConversationReply:
    """A message into a conversation the caller holds (`conversation.contact` loaded), from the
    conversation's number (`phone_number_id`, Meta's id, as `message_send` takes it)."""

    conversation: Conversation
    phone_number_id: str
    content: Mapping[str, Any]
    idempotency_key: str


def conversation_replies_ready(replies: Sequence[ConversationReply]) -> list[tuple[PhoneNumber, OutboundItem] | None]:
    """For each reply, its number and outbox item when `message_send` would queue it as it is, with
    the same checks (content, account, blocked contact, 24-hour window, an unused idempotency key);
    None when it would be refused or replayed, or is a template: send that one with `message_send`.

    For the replies of a batch of inbound messages: the recipients are contacts who wrote to the
    number, so nothing is resolved, and the keys are read in one query for them all.
    """
    keys_used = set(
        Message.objects.filter(idempotency_key__in=[reply.idempotency_key for reply in replies])
        .values_list("idempotency_key", flat=True)
    )
    return [None if reply.idempotency_key in keys_used else _reply_ready(reply) for reply in replies]


def conversation_replies_enqueue(*, phone: PhoneNumber, items: Sequence[OutboundItem]) -> list[Message] | None:
    """Queue ready replies from one number (`conversation_replies_ready`) with one quota take and one
    plan check for them all; None, with nothing written, when the quota, the plan or a concurrent
    use of a key refuses them together (then send each with `message_send`, which decides one by one)."""
    try:
        windows = quota_take(account=phone.account, amount=len(items))
    except QuotaExceeded:
        return None
    try:
        # One transaction: a lock the plan check takes (billing's allowance) lasts until the messages are written.
        with transaction.atomic():
            usage_limit_check(resource=MESSAGES, amount=len(items), category="service")
            return outbox_enqueue(phone_number=phone, items=items)
    except (DomainError, IntegrityError):
        quota_give_back(windows=windows, amount=len(items))
        return None
    except BaseException:
        quota_give_back(windows=windows, amount=len(items))
        raise


def _reply_ready(reply: ConversationReply) -> tuple[PhoneNumber, OutboundItem] | None:
    conversation = reply.conversation
    contact = conversation.contact
    if not contact.wa_id_from_meta:
        return None  # a number typed by a person: message_send resolves it
    try:
        spec = _content_parse(reply.content)
        if spec.type == "template":
            return None
        phone = phone_number_for_send(phone_number_id=reply.phone_number_id)
        built = message_build(spec=spec, to_wa_id=contact.wa_id)
        account_check_active(account=phone.account)
        _rules_check(phone=phone, wa_id=contact.wa_id, contact=contact, built=built, template=None,
                     conversation=conversation)
    except DomainError:
        return None
    item = OutboundItem(wa_id=contact.wa_id, built=built, idempotency_key=reply.idempotency_key,
                        contact_id=contact.pk, conversation_id=conversation.pk)
    return phone, item


def recipient_resolve(*, to: str) -> tuple[str, Contact | None]:
    """The WhatsApp id to send to, and its contact when there is one.

    A contact whose WhatsApp id Meta sent us (it wrote to us) is written to exactly as Meta named
    it: it is a real WhatsApp user even when libphonenumber does not consider the number possible
    (Mexico's 521 ids) or assigned (Meta's +1 555 01xx test numbers). Any other number was typed by
    a person and must be a complete, possible phone number (`recipient_normalise`, RecipientInvalid).
    """
    written = digits_of(to).removeprefix("00")  # 00 is the international prefix; WhatsApp ids never start with 0
    contact = Contact.objects.filter(wa_id=written).first() if written else None
    if contact is not None and contact.wa_id_from_meta:
        return written, contact
    wa_id = recipient_normalise(to)
    if wa_id != written:
        contact = Contact.objects.filter(wa_id=wa_id).first()
    return wa_id, contact


def message_refused_record(
    *, conversation: Conversation, content: Mapping[str, Any], body: str, error: DomainError
) -> Message:
    """Keep a message the pipeline refused as a failed outbound message of its conversation.

    For senders no person watches (automations): whoever reads the thread sees what was not sent
    and why (`error_reason` is the refusal's code, `error_details` its message). Nothing is queued
    and no quota is taken. `content` is what `message_send` was given.
    """
    message_type = str(content.get("type") or "")[: Message._meta.get_field("type").max_length] or "unknown"
    payload = content.get(message_type)
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        contact_id=conversation.contact_id,
        phone_number_id=conversation.phone_number_id,
        direction=Message.Direction.OUTBOUND,
        type=message_type,
        content=dict(payload) if isinstance(payload, Mapping) else {},
        body=body,
        status=Message.Status.FAILED,
        timestamp=now,
        failed_at=now,
        error_title=REFUSED_TITLE,
        error_details=error.message,
        error_reason=error.code,
    )
    Conversation.objects.filter(pk=conversation.pk).update(message_count=F("message_count") + 1, last_message_at=now)
    return message


def template_for_send(*, account: WhatsAppAccount, name: str, language: str) -> MessageTemplate:
    """The account's template of that name and language, which must be APPROVED."""
    template = MessageTemplate.objects.filter(account=account, name=name, language=language).first()
    if template is None:
        known = sorted(
            MessageTemplate.objects.filter(account=account, name=name).values_list("language", flat=True)
        )
        hint = f" It exists in: {', '.join(known)}." if known else ""
        raise TemplateNotFound(
            f"No template {name!r} in language {language!r} on this account.{hint}",
            details=[problem("template.name", "no such template in that language", "not_found")],
        )
    if not template.is_approved:
        raise TemplateNotApproved(
            f"Template {name!r} ({language}) is {template.status}; only APPROVED templates can be sent.",
            details=[problem("template.name", f"status is {template.status}", "not_approved")],
        )
    return template


def account_check_active(*, account: WhatsAppAccount) -> None:
    if not account.can_send:
        reason = f": {account.status_reason}" if account.status_reason else ""
        raise AccountNotActive(
            f"The WhatsApp account is {account.status}{reason}. Messages can be sent once it is active again.",
            details={"account_status": account.status},
        )


def _rules_check(
    *, phone: PhoneNumber, wa_id: str, contact: Contact | None, built: BuiltMessage, template: MessageTemplate | None,
    conversation: Conversation | None = None,
) -> None:
    """Blocked contacts, the 24-hour window (free-form messages only inside it) and marketing opt-outs.
    `conversation`: the contact's conversation with `phone` when the caller holds it (else read)."""
    if contact is not None and contact.blocked:
        raise ContactBlocked(
            f"+{wa_id} is blocked by this workspace; unblock the contact to write to them.",
            details=[problem("to", "contact is blocked", "blocked")],
        )
    if template is not None:
        if contact is not None and contact.opted_out and template.category == meta.TemplateCategory.MARKETING:
            raise ContactOptedOut(
                f"+{wa_id} opted out of marketing messages; {template.name!r} is a MARKETING template.",
                details=[problem("to", "opted out of marketing messages", "opted_out")],
            )
        return
    if conversation is None and contact is not None:
        conversation = Conversation.objects.filter(contact=contact, phone_number=phone).first()
    if conversation is None or not conversation.window_open():
        expired = conversation.service_window_expires_at if conversation is not None else None
        raise OutsideServiceWindow(
            f"+{wa_id} has not written to this number in the last 24 hours: only an approved template "
            f"can be sent now, not a {built.type} message.",
            details={
                "field": "type",
                "window_expired_at": expired.isoformat() if expired else None,
            },
        )


def _replay(earlier: Message, phone: PhoneNumber, built: BuiltMessage) -> MessageQueued:
    sent_before = dict(earlier.request_payload or {})
    sent_before.pop("biz_opaque_callback_data", None)
    if earlier.phone_number_id != phone.pk or sent_before != built.payload:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different message; use a new key for a new message.",
            details={"message_id": earlier.pk},
        )
    return MessageQueued(message=earlier, replayed=True)


def _content_parse(content: MessageContentIn | Mapping[str, Any]) -> MessageContentIn:
    if isinstance(content, MessageContentIn):
        return content
    try:
        return MessageContentIn.model_validate(dict(content))
    except ValidationError as error:
        raise MessageInvalid(
            [
                problem(".".join(str(part) for part in item["loc"]), item["msg"], item["type"])
                for item in error.errors()
            ]
        ) from None
