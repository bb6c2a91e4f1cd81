"""Pydantic models for the JSON Meta posts to the WhatsApp webhook.

Every model allows extra keys (Meta adds fields without notice) but requires the keys the
platform relies on: routing ids, wamids, timestamps and the content a message type carries.
Graph ids arrive sometimes as strings and sometimes as numbers; `GraphId` stores them as strings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _id_to_str(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


GraphId = Annotated[str, BeforeValidator(_id_to_str)]
NonEmptyId = Annotated[str, BeforeValidator(_id_to_str), Field(min_length=1)]
UnixSeconds = Annotated[str, BeforeValidator(_id_to_str), Field(pattern=r"^\d{1,12}$")]


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


# --- envelope -----------------------------------------------------------------------------------

class Change(Payload):
    field: str = Field(min_length=1)
    value: dict[str, Any]


class Entry(Payload):
    id: NonEmptyId
    time: int | None = None
    changes: list[Change]


class Envelope(Payload):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


# --- the `messages` field -----------------------------------------------------------------------

class GraphErrorItem(Payload):
    code: int
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None
    href: str | None = None


class Metadata(Payload):
    display_phone_number: str
    phone_number_id: NonEmptyId


class Profile(Payload):
    name: str | None = None


class Contact(Payload):
    wa_id: NonEmptyId
    profile: Profile | None = None


class MessageContext(Payload):
    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: dict[str, Any] | None = None


class Referral(Payload):
    """Where a Click-to-WhatsApp ad or post sent the customer from; every key is optional."""

    source_url: str | None = None
    source_id: GraphId | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


class Message(Payload):
    """The common part of every inbound message; the type-specific part is validated per type."""

    from_: NonEmptyId = Field(alias="from")
    id: NonEmptyId
    timestamp: UnixSeconds
    type: str = Field(min_length=1)
    context: MessageContext | None = None
    errors: list[GraphErrorItem] = []


class Status(Payload):
    id: NonEmptyId
    status: str = Field(min_length=1)
    timestamp: UnixSeconds
    recipient_id: str
    biz_opaque_callback_data: str | None = None
    conversation: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    errors: list[GraphErrorItem] = []


class MessagesValue(Payload):
    messaging_product: Literal["whatsapp"]
    metadata: Metadata
    contacts: list[Contact] = []
    messages: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    errors: list[GraphErrorItem] = []


# --- message content, one model per inbound type ------------------------------------------------

class TextContent(Payload):
    body: str


class MediaContent(Payload):
    id: NonEmptyId
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    animated: bool = False


class LocationContent(Payload):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ContactCard(Payload):
    name: dict[str, Any]


class ButtonContent(Payload):
    text: str
    payload: str | None = None


class ReactionContent(Payload):
    message_id: NonEmptyId
    emoji: str | None = None  # absent when the user removes a reaction


class OrderContent(Payload):
    catalog_id: NonEmptyId
    product_items: list[dict[str, Any]]
    text: str | None = None


class SystemContent(Payload):
    body: str | None = None
    type: str | None = None
    wa_id: str | None = None  # current payloads: the user's new number
    new_wa_id: str | None = None  # older payloads


class ButtonReply(Payload):
    id: str
    title: str


class ListReply(Payload):
    id: str
    title: str
    description: str | None = None


class NfmReply(Payload):
    response_json: str
    name: str | None = None
    body: str | None = None


class InteractiveContent(Payload):
    type: str = Field(min_length=1)


# --- account-level fields -----------------------------------------------------------------------

class TemplateStatusValue(Payload):
    event: str
    message_template_id: GraphId
    message_template_name: str
    message_template_language: str
    reason: str | None = None


class TemplateQualityValue(Payload):
    message_template_id: GraphId
    message_template_name: str
    message_template_language: str
    new_quality_score: str
    previous_quality_score: str | None = None


class TemplateCategoryValue(Payload):
    message_template_id: GraphId
    message_template_name: str
    message_template_language: str
    new_category: str
    previous_category: str | None = None


class PhoneNumberQualityValue(Payload):
    display_phone_number: str
    event: str
    current_limit: str | None = None


class PhoneNumberNameValue(Payload):
    display_phone_number: str
    decision: str
    requested_verified_name: str | None = None
    rejection_reason: str | None = None


class AccountUpdateValue(Payload):
    event: str


class BusinessCapabilityValue(Payload):
    max_daily_conversation_per_phone: int | None = None
    max_daily_conversations_per_business: int | None = None
    max_phone_numbers_per_business: int | None = None
    max_phone_numbers_per_waba: int | None = None


class FlowsValue(Payload):
    event: str
    flow_id: NonEmptyId


class SecurityValue(Payload):
    display_phone_number: str
    event: str


class UserPreference(Payload):
    wa_id: NonEmptyId
    category: str
    value: str
    detail: str | None = None
    timestamp: int | None = None


class UserPreferencesValue(Payload):
    messaging_product: Literal["whatsapp"]
    metadata: Metadata
    user_preferences: list[UserPreference]


class Call(Payload):
    """One event of a WhatsApp call (`connect`, `terminate`); a terminated call has status and duration."""

    id: NonEmptyId
    from_: NonEmptyId = Field(alias="from")
    to: NonEmptyId
    event: str = Field(min_length=1)
    timestamp: UnixSeconds
    direction: str | None = None
    status: str | None = None
    duration: int | None = None
    start_time: UnixSeconds | None = None
    end_time: UnixSeconds | None = None


class CallStatus(Payload):
    """A status of a business-initiated call (`type` "call"): RINGING, ACCEPTED, REJECTED ..."""

    id: NonEmptyId
    type: str = Field(min_length=1)
    status: str = Field(min_length=1)
    timestamp: UnixSeconds
    recipient_id: NonEmptyId


class CallsValue(Payload):
    messaging_product: Literal["whatsapp"]
    metadata: Metadata
    contacts: list[Contact] = []
    calls: list[Call] = []
    statuses: list[CallStatus] = []


class AnyValue(Payload):
    """For fields the platform does not interpret yet: accepted as they come."""
