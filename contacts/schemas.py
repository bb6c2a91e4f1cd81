"""Bodies of the contacts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from contacts.models import AttributeDefinition, ConsentEvent, ImportJob
from contacts.selectors import ContactFilters, Totals
from messaging.models import Contact
from platform_core.api import MAX_PAGE_SIZE

OptInState = Literal["opted_in", "opted_out", "unknown"]
AttributeValue = str | int | float | bool | None


class ContactFiltersIn(Schema):
    search: str = Field("", max_length=200, description="Part of the name, or digits of the number.")
    tag: str = Field("", max_length=64)
    opt_in: OptInState | None = Field(None, description="Marketing consent: opted_in, opted_out or unknown.")
    blocked: bool | None = None
    attribute: str = Field("", max_length=64, description="An attribute key; with attribute_value: equals.")
    attribute_value: str = Field("", max_length=1000, description="Empty: contacts without a value.")
    inbound_within_days: int | None = Field(
        None, ge=1, le=3650, description="Wrote to the business in the last N days."
    )

    def filters(self) -> ContactFilters:
        return ContactFilters(
            search=self.search,
            tag=self.tag,
            opt_in=self.opt_in or "",
            blocked=self.blocked,
            attribute=self.attribute,
            attribute_value=self.attribute_value,
            inbound_within_days=self.inbound_within_days,
        )


class ContactListQuery(ContactFiltersIn):
    cursor: str | None = Field(None, max_length=200, description="The `next_cursor` of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class TotalsOut(Schema):
    messages_in: int
    messages_out: int
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None


class ContactOut(Schema):
    id: int
    wa_id: str = Field(description="WhatsApp id: the E.164 number without '+'.")
    phone: str = Field(description="E.164, with '+'.")
    profile_name: str
    tier: str
    notes: str
    language: str
    timezone: str
    attributes: dict[str, Any]
    tags: list[str]
    opt_in: OptInState
    opted_out_at: datetime | None = Field(description="Time of the last marketing preference change.")
    opted_in_at: datetime | None
    blocked: bool
    blocked_at: datetime | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    created_at: datetime
    totals: TotalsOut


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactIn(Schema):
    phone: str = Field(max_length=64, description="With its country code, e.g. +4915112345678.")
    default_country: str = Field(
        "", max_length=2, description="Reads a number without country code, e.g. DE."
    )
    profile_name: str = Field("", max_length=1000)
    tier: str = Field("", max_length=1000)
    notes: str = Field("", max_length=10000)
    language: str = Field("", max_length=100)
    timezone: str = Field("", max_length=100)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=50)
    opted_in: bool = Field(False, description="Records the contact's consent to marketing now.")


class ContactPatch(Schema):
    profile_name: str | None = Field(None, max_length=1000)
    tier: str | None = Field(None, max_length=1000)
    notes: str | None = Field(None, max_length=10000)
    language: str | None = Field(None, max_length=100)
    timezone: str | None = Field(None, max_length=100)
    attributes: dict[str, AttributeValue] | None = Field(None, description="Merged; null removes a value.")
    tags: list[str] | None = Field(None, max_length=50, description="Replaces the tags.")


class TagsIn(Schema):
    tags: list[str] = Field(min_length=1, max_length=50)


class ConsentIn(Schema):
    kind: Literal["opt_in", "opt_out"]
    note: str = Field("", max_length=500)


class ConsentOut(Schema):
    id: int
    kind: str
    source: str
    recorded_by: str
    note: str
    occurred_at: datetime


class AttributeDefinitionIn(Schema):
    key: str = Field(max_length=64)
    label: str = Field(max_length=200)
    type: Literal["text", "number", "date", "boolean", "choice"]
    choices: list[str] = Field(default_factory=list, max_length=100)


class AttributeDefinitionPatch(Schema):
    label: str = Field(max_length=200)
    choices: list[str] | None = Field(None, max_length=100)


class AttributeDefinitionOut(Schema):
    id: int
    key: str
    label: str
    type: str
    choices: list[str]


class ImportMappingIn(Schema):
    mapping: dict[str, str] = Field(
        description='{"<column index>": "phone" | "profile_name" | ... | "attr:<key>"}'
    )
    default_country: str = Field("", max_length=2)


class ImportJobOut(Schema):
    id: int
    status: str
    filename: str
    columns: list[str]
    sample_rows: list[list[str]]
    mapping: dict[str, str]
    default_country: str
    rows_total: int
    rows_done: int
    created_count: int
    updated_count: int
    error_count: int
    failure: str
    created_at: datetime
    finished_at: datetime | None


def opt_in_state(contact: Contact) -> OptInState:
    if contact.opted_out:
        return "opted_out"
    return "opted_in" if contact.opted_in_at else "unknown"


def contact_out(contact: Contact, totals: Totals | None = None) -> dict[str, Any]:
    totals = totals or Totals()
    return {
        "id": contact.pk,
        "wa_id": contact.wa_id,
        "phone": f"+{contact.wa_id}",
        "profile_name": contact.profile_name,
        "tier": contact.tier,
        "notes": contact.notes,
        "language": contact.language,
        "timezone": contact.timezone,
        "attributes": contact.attributes or {},
        "tags": contact.tags or [],
        "opt_in": opt_in_state(contact),
        "opted_out_at": contact.opted_out_at,
        "opted_in_at": contact.opted_in_at,
        "blocked": contact.blocked,
        "blocked_at": contact.blocked_at,
        "first_seen_at": contact.first_seen_at,
        "last_seen_at": contact.last_seen_at,
        "created_at": contact.created_at,
        "totals": totals.__dict__,
    }


def definition_out(definition: AttributeDefinition) -> dict[str, Any]:
    return {
        "id": definition.pk,
        "key": definition.key,
        "label": definition.label,
        "type": definition.type,
        "choices": definition.choices,
    }


def consent_out(event: ConsentEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "source": event.source,
        "recorded_by": event.recorded_by,
        "note": event.note,
        "occurred_at": event.occurred_at,
    }


def import_out(job: ImportJob) -> dict[str, Any]:
    return {name: getattr(job, name) for name in ImportJobOut.model_fields if name != "id"} | {"id": job.pk}
