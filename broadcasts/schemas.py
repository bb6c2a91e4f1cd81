"""Bodies of the broadcast API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field, model_validator

from broadcasts.ab_results import AB_MIN_SENT
from platform_core.api import RowId
from sending.schemas import TemplateButtonIn, TemplateParameter, TemplateParametersIn


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
        default_factory=TemplateParametersIn,
        description="The template's parameters for a segment's recipients.",
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


# --- campaigns -------------------------------------------------------------------------------------


class ValueSourceIn(Schema):
    """Where one template variable's value comes from for each recipient: exactly one of `text`,
    `field` or `attribute`, and the `fallback` used when the contact has no value."""

    text: str | None = Field(default=None, max_length=1024, description="The same text for everyone.")
    field: Literal["name", "phone", "tier", "language", "timezone"] | None = Field(
        default=None, description="A contact field; `name` is the WhatsApp profile name."
    )
    attribute: str | None = Field(default=None, max_length=64, description="A custom attribute's key.")
    fallback: str = Field(default="", max_length=1024)
    parameter_name: str | None = Field(
        default=None, max_length=64, description="For templates with named variables: the variable's name."
    )

    @model_validator(mode="after")
    def one_source(self) -> ValueSourceIn:
        if sum(value is not None for value in (self.text, self.field, self.attribute)) != 1:
            raise ValueError("give exactly one of text, field or attribute")
        return self


class CampaignVariantIn(Schema):
    label: str = Field(default="", max_length=32, description="A, B ... by default.")
    template: BroadcastTemplateIn
    share: int | None = Field(
        default=None, ge=1, le=100, description="Percent of the audience; all or none given (then even)."
    )
    header: list[ValueSourceIn] = Field(default_factory=list, description="A text header's variable.")
    body: list[ValueSourceIn] = Field(default_factory=list, description="The body's variables, in order.")
    header_parameters: list[TemplateParameter] = Field(
        default_factory=list, description="A media header's parameter, the same for everyone."
    )
    buttons: list[TemplateButtonIn] = Field(default_factory=list)


class CampaignAudienceIn(Schema):
    segment_id: RowId | None = Field(default=None, description="A saved segment's contacts at creation.")
    tags: list[str] = Field(default_factory=list, description="Contacts with any of these tags.")
    phones: list[str] = Field(default_factory=list, description="Numbers in international format.")


class CampaignIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    phone_number_id: str
    audience: CampaignAudienceIn
    variants: list[CampaignVariantIn] = Field(min_length=1)
    send_at: datetime | None = Field(
        default=None,
        description="When to start. Without an offset it is read in `timezone` (default: the account's "
        "time zone). Absent: now.",
    )
    timezone: str | None = Field(default=None, max_length=64, description="IANA name, e.g. Europe/Berlin.")
    over_limit: Literal["refuse", "spread"] = Field(
        default="refuse",
        description="When the audience exceeds what the number's messaging limit leaves: refuse the "
        "campaign with the figures, or spread it over as many days as it needs.",
    )


class PrecheckOut(Schema):
    audience: int = Field(description="Contacts the audience matched.")
    sendable: int
    removed: dict[str, int] = Field(description="Left out, by reason: blocked, opted_out, no_value.")
    tier: str
    limit: int | None = Field(description="New users per rolling 24 h; null when unlimited.")
    used_in_window: int = Field(description="Users already reached (or queued) in the 24 h before send_at.")
    already_reached: int = Field(description="Recipients among them: they do not count again.")
    available: int | None
    days: int
    per_day: list[int]
    fits: bool
    quality: str
    send_at: datetime
    timezone: str
    estimated_cost_usd: str
    warnings: list[str]


class VariantFiguresOut(Schema):
    label: str
    template: BroadcastTemplateIn
    share: int
    recipients: int
    skipped: int
    queued: int
    sent: int
    delivered: int
    read: int
    failed: int
    failed_by_code: dict[str, int]
    cancelled: int
    withdrawn: int = Field(description="Opted out or blocked after the campaign was created.")
    replied: int
    opted_out_after: int
    delivery_rate: float | None
    read_rate: float | None
    reply_rate: float | None
    estimated_cost_usd: str | None


class CampaignOut(Schema):
    id: int
    name: str
    status: str = Field(description="scheduled, running, paused, completed or cancelled.")
    phone_number_id: str
    send_at: datetime | None
    send_at_local: str = Field(description="send_at in the zone it was given in.")
    timezone: str
    over_limit: str
    audience: dict
    precheck: dict
    created_at: datetime
    created_by: str
    paused_at: datetime | None
    cancelled_at: datetime | None
    finished_at: datetime | None
    totals: VariantFiguresOut
    variants: list[VariantFiguresOut]


class AbVariantOut(Schema):
    label: str
    template: BroadcastTemplateIn
    share: int
    recipients: int
    sent: int = Field(description="Messages Meta accepted (sent, delivered, read, or failed with Meta's error).")
    delivered: int = Field(description="Delivered or read.")
    read: int
    replied: int = Field(description="Recipients who wrote after the campaign's message was sent.")
    delivery_rate: float | None = Field(description="delivered / sent.")
    read_rate: float | None = Field(description="read / sent.")
    reply_rate: float | None = Field(description="replied / sent.")


class AbResultOut(Schema):
    id: int
    name: str
    starts_at: datetime = Field(description="When its first message was due.")
    verdict: Literal["leads", "tie", "too_few_to_call"] = Field(
        description=f"`leads`: `leader` has the highest reply rate, every variant having at least {AB_MIN_SENT} "
        "messages sent; `too_few_to_call`: a variant has fewer; `tie`: equal top rates."
    )
    leader: str | None = Field(description="The leading variant's label when the verdict is `leads`.")
    variants: list[AbVariantOut]
