"""Request and response bodies of the send API.

The shapes follow Meta's own message objects (a `type` plus an object of that name), so a body
written for the Cloud API reads the same here; templates take plain parameter lists instead of
Meta's nested components. Types and presence are checked here; Meta's limits (lengths, counts,
template parameters) in sending.validation, so that every caller gets the same checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

MessageType = Literal[
    "text", "template", "interactive", "image", "video", "audio", "document", "sticker", "location", "reaction"
]

# A template parameter: a plain string (a text parameter) or Meta's parameter object
# (e.g. {"type": "currency", ...} or {"type": "image", "image": {"link": "https://..."}}).
TemplateParameter = str | dict[str, Any]


class TextIn(Schema):
    body: str
    preview_url: bool = False


class MediaIn(Schema):
    """A media message: a media id from an upload, or an https link; captions on image, video, document."""

    id: str | None = None
    link: str | None = None
    caption: str | None = None
    filename: str | None = None


class LocationIn(Schema):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class ReactionIn(Schema):
    message_id: str = Field(description="The wamid reacted to.")
    emoji: str = Field(description="One emoji; an empty string removes the reaction.")


class TemplateButtonIn(Schema):
    index: int = Field(ge=0, le=9, description="Position of the button in the template.")
    sub_type: Literal["quick_reply", "url", "copy_code"]
    parameters: list[TemplateParameter] = Field(default_factory=list)


class TemplateParametersIn(Schema):
    """What fills a template's variables: as many as the template has, in order."""

    header_parameters: list[TemplateParameter] = Field(default_factory=list)
    body_parameters: list[TemplateParameter] = Field(default_factory=list)
    buttons: list[TemplateButtonIn] = Field(default_factory=list)


class TemplateIn(TemplateParametersIn):
    name: str
    language: str = Field(description="The template's language code, e.g. en_US.")


class ContextIn(Schema):
    message_id: str = Field(description="The wamid this message replies to.")


class MessageContentIn(Schema):
    """What to send: `type` and the object of that name; `context` makes it a reply."""

    type: MessageType
    text: TextIn | None = None
    template: TemplateIn | None = None
    interactive: dict[str, Any] | None = Field(
        default=None, description="Meta's interactive object: reply buttons, list or flow."
    )
    image: MediaIn | None = None
    video: MediaIn | None = None
    audio: MediaIn | None = None
    document: MediaIn | None = None
    sticker: MediaIn | None = None
    location: LocationIn | None = None
    reaction: ReactionIn | None = None
    context: ContextIn | None = None


class MessageIn(MessageContentIn):
    phone_number_id: str = Field(description="Meta's id of the sending number (one of this workspace's).")
    to: str = Field(description="The recipient's phone number in international format, e.g. +4915112345678.")


class MessageQueuedOut(Schema):
    id: int
    status: str
    type: str
    to: str
    phone_number_id: str
    created_at: datetime


class QuotaOut(Schema):
    scope: Literal["workspace", "account"]
    period: Literal["minute", "day", "month"] = Field(description="A fixed window: the UTC minute, day or month.")
    limit: int
    used: int = Field(description="Messages accepted in the current window.")
    remaining: int
    resets_at: datetime = Field(description="When the current window ends and its count starts again at 0.")


class QuotaUsageOut(Schema):
    account_id: int | None = Field(description="The account of the `account` quotas; null for the workspace's only.")
    quotas: list[QuotaOut]
