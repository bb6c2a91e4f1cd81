"""Turn a decoded Meta webhook envelope into a flat list of typed events.

Pure: no Django, no database. Two dispatch tables do the work: `FIELD_NORMALISERS` keyed by the
change's `field`, and, inside `messages` changes, `MESSAGE_NORMALISERS` keyed by message type
(`INTERACTIVE_NORMALISERS` one level further for interactive replies). Adding a type or field
means adding one small function and one table row.

Every event knows its routing key: `("phone_number_id", id)` for events of the `messages` field,
`("waba_id", id)` for account-level fields. A structurally invalid envelope raises
`WebhookPayloadError`; the caller keeps the raw body (journal, dead letters) either way.

Every string of the events can be stored: a NUL character or a lone surrogate, which PostgreSQL
refuses, comes out as U+FFFD (the raw body in the journal keeps what Meta sent).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from platform_core.text import json_storable
from waba import meta
from waba import webhook_payloads as p

RoutingKind = Literal["phone_number_id", "waba_id"]
RoutingKey = tuple[RoutingKind, str]

UNSUPPORTED_TYPE = "unsupported"


class PayloadErrorCode(StrEnum):
    INVALID_ENVELOPE = "invalid_envelope"
    UNEXPECTED_OBJECT = "unexpected_object"
    INVALID_VALUE = "invalid_value"
    INVALID_MESSAGE = "invalid_message"
    INVALID_STATUS = "invalid_status"


class WebhookPayloadError(Exception):
    """The envelope does not have the shape Meta documents. Retrying the same body cannot help."""

    retryable = False

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- events ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InboundMessage:
    """A message a WhatsApp user sent to one of our business numbers."""

    phone_number_id: str
    display_phone_number: str
    waba_id: str
    wa_id: str
    profile_name: str | None
    wamid: str
    timestamp: datetime
    type: str
    content: dict[str, Any]
    context: dict[str, Any] | None
    raw: dict[str, Any]
    # The Click-to-WhatsApp ad or post the customer came from (`Referral`'s keys), when Meta sent one.
    referral: dict[str, Any] | None = None

    @property
    def routing_key(self) -> RoutingKey:
        return ("phone_number_id", self.phone_number_id)


@dataclass(frozen=True)
class StatusUpdate:
    """A sent / delivered / read / failed report for a message we sent."""

    phone_number_id: str
    waba_id: str
    wamid: str
    status: str
    timestamp: datetime
    recipient_id: str
    biz_opaque_callback_data: str | None
    conversation: dict[str, Any] | None
    pricing: dict[str, Any] | None
    errors: list[dict[str, Any]]
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def routing_key(self) -> RoutingKey:
        return ("phone_number_id", self.phone_number_id)

    @property
    def pricing_category(self) -> str | None:
        """marketing, utility, authentication, service ...: from pricing, else the conversation origin."""
        if self.pricing and self.pricing.get("category"):
            return str(self.pricing["category"])
        origin = (self.conversation or {}).get("origin") or {}
        return origin.get("type")


@dataclass(frozen=True)
class WebhookErrorEvent:
    """Errors Meta reports for a phone number at the level of a `messages` change value."""

    phone_number_id: str
    display_phone_number: str
    waba_id: str
    errors: list[dict[str, Any]]

    @property
    def routing_key(self) -> RoutingKey:
        return ("phone_number_id", self.phone_number_id)


@dataclass(frozen=True)
class AccountEvent:
    """Any change of a field other than `messages`: templates, phone numbers, account, flows ...

    `value` is the change value as Meta sent it. `event`, `display_phone_number` and
    `phone_number_id` are lifted out when the value carries them, `occurred_at` comes from the
    entry's `time`. Routed by WABA even when a phone number is named, since the WABA owns it.
    """

    waba_id: str
    field: str
    value: dict[str, Any]
    event: str | None = None
    display_phone_number: str | None = None
    phone_number_id: str | None = None
    occurred_at: datetime | None = None

    @property
    def routing_key(self) -> RoutingKey:
        return ("waba_id", self.waba_id)


@dataclass(frozen=True)
class CallEvent:
    """One event of a WhatsApp call on a business number (`calls` field): `connect`, `terminate`, or
    `status` for a status update of a business-initiated call.

    `wa_id` is the customer's side of the call whatever its direction. `status` comes with
    `terminate` (COMPLETED, FAILED ..., with `duration_s`) and with `status` (RINGING, ACCEPTED,
    REJECTED ...). Routed by WABA like the other fields outside `messages`.
    """

    phone_number_id: str
    display_phone_number: str
    waba_id: str
    call_id: str
    wa_id: str
    profile_name: str | None
    event: str
    direction: str
    timestamp: datetime
    status: str | None
    duration_s: int | None
    raw: dict[str, Any]

    @property
    def routing_key(self) -> RoutingKey:
        return ("waba_id", self.waba_id)


WebhookEvent = InboundMessage | StatusUpdate | WebhookErrorEvent | AccountEvent | CallEvent


# --- entry point -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Change:
    waba_id: str
    entry_time: int | None
    field: str
    value: dict[str, Any]
    where: str


ChangeNormaliser = Callable[[_Change], list[WebhookEvent]]
ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_envelope(payload: dict[str, Any]) -> list[WebhookEvent]:
    """All events in one webhook POST, in payload order. Raises WebhookPayloadError."""
    if not isinstance(payload, Mapping):
        raise WebhookPayloadError(PayloadErrorCode.INVALID_ENVELOPE, "the body is not a JSON object")
    payload = json_storable(payload)
    if payload.get("object") != "whatsapp_business_account":
        raise WebhookPayloadError(
            PayloadErrorCode.UNEXPECTED_OBJECT,
            f"object is {payload.get('object')!r}, expected 'whatsapp_business_account'",
        )
    envelope = _validate(p.Envelope, payload, PayloadErrorCode.INVALID_ENVELOPE, "")
    events: list[WebhookEvent] = []
    for entry_index, entry in enumerate(envelope.entry):
        for change_index, change in enumerate(entry.changes):
            normalise = FIELD_NORMALISERS.get(change.field, _account_field(p.AnyValue))
            events.extend(normalise(_Change(
                waba_id=entry.id,
                entry_time=entry.time,
                field=change.field,
                value=change.value,
                where=f"entry[{entry_index}].changes[{change_index}].value",
            )))
    return events


# --- the `messages` field ----------------------------------------------------------------------

def _messages_change(change: _Change) -> list[WebhookEvent]:
    value = _validate(p.MessagesValue, change.value, PayloadErrorCode.INVALID_VALUE, change.where)
    metadata = value.metadata
    events: list[WebhookEvent] = []
    for index, message in enumerate(value.messages):
        events.append(_inbound_message(change, value, message, f"{change.where}.messages[{index}]"))
    for index, status in enumerate(value.statuses):
        events.append(_status_update(change, metadata, status, f"{change.where}.statuses[{index}]"))
    if value.errors:
        events.append(WebhookErrorEvent(
            phone_number_id=metadata.phone_number_id,
            display_phone_number=metadata.display_phone_number,
            waba_id=change.waba_id,
            errors=list(change.value["errors"]),
        ))
    return events


def _inbound_message(
    change: _Change, value: p.MessagesValue, raw: dict[str, Any], where: str
) -> InboundMessage:
    code = PayloadErrorCode.INVALID_MESSAGE
    message = _validate(p.Message, raw, code, where)
    normalise = MESSAGE_NORMALISERS.get(message.type)
    if normalise is None:
        message_type, content = UNSUPPORTED_TYPE, _unknown_type_content(message, raw)
    else:
        message_type = message.type
        try:
            content = normalise(message, raw)
        except ValidationError as error:
            raise WebhookPayloadError(code, _describe(error, f"{where}.{message.type}")) from error
    contact = _sender_contact(value.contacts, message.from_)
    return InboundMessage(
        phone_number_id=value.metadata.phone_number_id,
        display_phone_number=value.metadata.display_phone_number,
        waba_id=change.waba_id,
        wa_id=contact.wa_id if contact else message.from_,
        profile_name=contact.profile.name if contact and contact.profile else None,
        wamid=message.id,
        timestamp=_utc(message.timestamp, code, where),
        type=message_type,
        content=content,
        context=_context(message.context),
        raw=raw,
        referral=_referral(raw.get("referral")),
    )


def _status_update(change: _Change, metadata: p.Metadata, raw: dict[str, Any], where: str) -> StatusUpdate:
    code = PayloadErrorCode.INVALID_STATUS
    status = _validate(p.Status, raw, code, where)
    return StatusUpdate(
        phone_number_id=metadata.phone_number_id,
        waba_id=change.waba_id,
        wamid=status.id,
        status=status.status,
        timestamp=_utc(status.timestamp, code, where),
        recipient_id=status.recipient_id,
        biz_opaque_callback_data=status.biz_opaque_callback_data,
        conversation=status.conversation,
        pricing=status.pricing,
        errors=list(raw.get("errors") or []),
        raw=raw,
    )


def _sender_contact(contacts: Sequence[p.Contact], sender: str) -> p.Contact | None:
    """The contact entry for the sender; system messages carry none."""
    for contact in contacts:
        if contact.wa_id == sender:
            return contact
    return contacts[0] if len(contacts) == 1 else None


def _context(context: p.MessageContext | None) -> dict[str, Any] | None:
    if context is None:
        return None
    return {
        "from": context.from_,
        "id": context.id,
        "forwarded": context.forwarded,
        "frequently_forwarded": context.frequently_forwarded,
        "referred_product": context.referred_product,
    }


def _referral(referral: Any) -> dict[str, Any] | None:
    """The ad referral's known keys; a malformed referral is left out rather than losing the message
    (the journal keeps the raw body)."""
    if referral is None:
        return None
    try:
        return p.Referral.model_validate(referral).model_dump(include=set(p.Referral.model_fields))
    except ValidationError:
        return None


# --- message content, one normaliser per type ---------------------------------------------------

MessageNormaliser = Callable[[p.Message, dict[str, Any]], dict[str, Any]]
_CONTACT_CARDS = TypeAdapter(Annotated[list[p.ContactCard], Field(min_length=1)])


def _text(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    return {"body": p.TextContent.model_validate(raw.get("text")).body}


def _media(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    media = p.MediaContent.model_validate(raw.get(message.type))
    return {
        "media_id": media.id,
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "caption": media.caption,
        "filename": media.filename,
        "voice": media.voice,
        "animated": media.animated,
    }


def _location(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    location = p.LocationContent.model_validate(raw.get("location"))
    return location.model_dump(include={"latitude", "longitude", "name", "address", "url"})


def _contacts(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    _CONTACT_CARDS.validate_python(raw.get("contacts"))
    return {"contacts": list(raw["contacts"])}


def _button(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    button = p.ButtonContent.model_validate(raw.get("button"))
    return {"payload": button.payload, "text": button.text}


def _reaction(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    reaction = p.ReactionContent.model_validate(raw.get("reaction"))
    return {"message_id": reaction.message_id, "emoji": reaction.emoji or None}


def _order(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    order = p.OrderContent.model_validate(raw.get("order"))
    return {"catalog_id": order.catalog_id, "product_items": order.product_items, "text": order.text}


def _system(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    system = p.SystemContent.model_validate(raw.get("system"))
    return {"body": system.body, "type": system.type, "new_wa_id": system.new_wa_id or system.wa_id}


def _unsupported(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    unsupported = raw.get("unsupported")
    original = unsupported.get("type") if isinstance(unsupported, dict) else None
    return {"errors": list(raw.get("errors") or []), "original_type": original}


def _unknown_type_content(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    """A type this table does not know yet is kept as `unsupported` instead of failing the POST."""
    return {"errors": list(raw.get("errors") or []), "original_type": message.type}


def _interactive(message: p.Message, raw: dict[str, Any]) -> dict[str, Any]:
    interactive = p.InteractiveContent.model_validate(raw.get("interactive"))
    reply = raw["interactive"].get(interactive.type)
    normalise = INTERACTIVE_NORMALISERS.get(interactive.type, _interactive_other)
    return {"kind": interactive.type, **normalise(reply)}


def _interactive_fields(**known: Any) -> dict[str, Any]:
    fields = dict.fromkeys(("id", "title", "description", "response", "flow_token", "body", "name"))
    fields.update(known)
    return fields


def _button_reply(reply: Any) -> dict[str, Any]:
    button = p.ButtonReply.model_validate(reply)
    return _interactive_fields(id=button.id, title=button.title)


def _list_reply(reply: Any) -> dict[str, Any]:
    row = p.ListReply.model_validate(reply)
    return _interactive_fields(id=row.id, title=row.title, description=row.description)


def _nfm_reply(reply: Any) -> dict[str, Any]:
    """Flow (and address) responses: `response_json` is a JSON document inside a string.

    A response_json that is not a JSON object yields an empty `response` rather than an error,
    so a customer's submission is never dropped; the raw string stays in the event's `raw`.
    """
    nfm = p.NfmReply.model_validate(reply)
    try:
        response = json.loads(nfm.response_json)
    except ValueError:
        response = {}
    if not isinstance(response, dict):
        response = {}
    flow_token = response.get("flow_token")
    return _interactive_fields(
        response=response,
        flow_token=str(flow_token) if flow_token is not None else None,
        body=nfm.body,
        name=nfm.name,
    )


def _interactive_other(reply: Any) -> dict[str, Any]:
    reply = reply if isinstance(reply, dict) else {}
    return _interactive_fields(id=reply.get("id"), title=reply.get("title"))


INTERACTIVE_NORMALISERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "button_reply": _button_reply,
    "list_reply": _list_reply,
    "nfm_reply": _nfm_reply,
}

MESSAGE_NORMALISERS: dict[str, MessageNormaliser] = {
    "text": _text,
    "image": _media,
    "video": _media,
    "audio": _media,
    "document": _media,
    "sticker": _media,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
}


# --- the `calls` field -------------------------------------------------------------------------

def _calls_change(change: _Change) -> list[WebhookEvent]:
    value = _validate(p.CallsValue, change.value, PayloadErrorCode.INVALID_VALUE, change.where)
    metadata = value.metadata
    business = "".join(ch for ch in metadata.display_phone_number if ch.isdigit())
    events: list[WebhookEvent] = []
    for index, call in enumerate(value.calls):
        where = f"{change.where}.calls[{index}]"
        direction = call.direction or (
            meta.CALL_BUSINESS_INITIATED if call.from_ == business else meta.CALL_USER_INITIATED
        )
        customer = call.to if direction == meta.CALL_BUSINESS_INITIATED else call.from_
        contact = _sender_contact(value.contacts, customer)
        events.append(CallEvent(
            phone_number_id=metadata.phone_number_id,
            display_phone_number=metadata.display_phone_number,
            waba_id=change.waba_id,
            call_id=call.id,
            wa_id=customer,
            profile_name=contact.profile.name if contact and contact.profile else None,
            event=call.event,
            direction=direction,
            timestamp=_utc(call.timestamp, PayloadErrorCode.INVALID_VALUE, where),
            status=call.status,
            duration_s=call.duration,
            raw=change.value["calls"][index],
        ))
    for index, status in enumerate(value.statuses):
        if status.type != meta.CALL_STATUS_TYPE:
            continue
        contact = _sender_contact(value.contacts, status.recipient_id)
        events.append(CallEvent(
            phone_number_id=metadata.phone_number_id,
            display_phone_number=metadata.display_phone_number,
            waba_id=change.waba_id,
            call_id=status.id,
            wa_id=status.recipient_id,
            profile_name=contact.profile.name if contact and contact.profile else None,
            event=meta.CALL_STATUS_EVENT,
            direction=meta.CALL_BUSINESS_INITIATED,
            timestamp=_utc(status.timestamp, PayloadErrorCode.INVALID_VALUE, f"{change.where}.statuses[{index}]"),
            status=status.status.upper(),
            duration_s=None,
            raw=change.value["statuses"][index],
        ))
    return events


# --- account-level fields ----------------------------------------------------------------------

def _account_field(model: type[BaseModel]) -> ChangeNormaliser:
    """A normaliser that checks the value against `model` and emits one AccountEvent."""

    def normalise(change: _Change) -> list[WebhookEvent]:
        _validate(model, change.value, PayloadErrorCode.INVALID_VALUE, change.where)
        value = change.value
        metadata = found if isinstance(found := value.get("metadata"), dict) else {}
        event = value.get("event")
        display = (
            value.get("display_phone_number") or metadata.get("display_phone_number") or value.get("phone_number")
        )
        phone_number_id = metadata.get("phone_number_id")
        return [AccountEvent(
            waba_id=change.waba_id,
            field=change.field,
            value=value,
            event=event if isinstance(event, str) else None,
            display_phone_number=str(display) if display else None,
            phone_number_id=str(phone_number_id) if phone_number_id else None,
            occurred_at=_entry_time(change.entry_time),
        )]

    return normalise


FIELD_NORMALISERS: dict[str, ChangeNormaliser] = {
    meta.WEBHOOK_MESSAGES_FIELD: _messages_change,
    "message_template_status_update": _account_field(p.TemplateStatusValue),
    "message_template_quality_update": _account_field(p.TemplateQualityValue),
    "template_category_update": _account_field(p.TemplateCategoryValue),
    "phone_number_quality_update": _account_field(p.PhoneNumberQualityValue),
    "phone_number_name_update": _account_field(p.PhoneNumberNameValue),
    "account_update": _account_field(p.AccountUpdateValue),
    "business_capability_update": _account_field(p.BusinessCapabilityValue),
    "flows": _account_field(p.FlowsValue),
    "security": _account_field(p.SecurityValue),
    "user_preferences": _account_field(p.UserPreferencesValue),
    meta.WEBHOOK_CALLS_FIELD: _calls_change,
}


# --- helpers -----------------------------------------------------------------------------------

def _validate(model: type[ModelT], data: Any, code: str, where: str) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise WebhookPayloadError(code, _describe(error, where)) from error


def _describe(error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    path = where
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return f"{path or 'body'}: {first['msg']}"


def _utc(unix_seconds: str, code: str, where: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(unix_seconds), tz=UTC)
    except (ValueError, OverflowError, OSError) as error:
        raise WebhookPayloadError(code, f"{where}.timestamp: {unix_seconds!r} is not a unix time") from error


def _entry_time(unix_seconds: int | None) -> datetime | None:
    if unix_seconds is None:
        return None
    try:
        return datetime.fromtimestamp(unix_seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
