"""Bodies of the broadcast API."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from platform_core.api import RowId
from sending.schemas import TemplateParametersIn


class BroadcastTemplateIn(Schema):
    name: str
    language: str = Field(description="The template's language code, e.g. en_US.")


class BroadcastRecipientIn(TemplateParametersIn):
    to: str = Field(description="International phone number, e.g. +4915112345678.")


class BroadcastIn(Schema):
    phone_number_id: str
    name: str = Field(default="", max_length=200)
    template: BroadcastTemplateIn
    recipients: list[BroadcastRecipientIn] = Field(
        default_factory=list, description="At most 10,000 per request. Or give `segment_id` instead."
    )
    segment_id: RowId | None = Field(
        default=None,
        description="Send to a saved segment's contacts as they are now (less the opted-out and the "
        "blocked), each with the same `parameters`. Either this or `recipients`.",
    )
    parameters: TemplateParametersIn = Field(
        default_factory=TemplateParametersIn, description="The template's parameters for a segment's recipients."
    )


class BroadcastProgressOut(Schema):
    total: int
    queued: int = Field(description="Waiting or being sent.")
    sent: int
    delivered: int
    read: int
    failed: int
    cancelled: int
    skipped: int = Field(description="Not sent at all, e.g. opted out of marketing messages.")


class BroadcastOut(Schema):
    id: int
    name: str
    status: str = Field(description="queuing, running, completed or cancelled.")
    phone_number_id: str
    template: BroadcastTemplateIn
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str
    progress: BroadcastProgressOut


class BroadcastCancelIn(Schema):
    reason: str = Field(default="", max_length=400)
