"""Tenant API of contacts: `/contacts...` (list, search, filters, CRUD, tags, block, consent, export,
attribute definitions, CSV imports) and `/segments...` (saved audiences, their live counts, pages and
export).

Deleting a contact erases it with its conversations, messages, consent history, automation state
and Flow answers: the right answer to a customer who asks to be forgotten. Business records (orders,
tickets) stay, without the contact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from contacts import imports, segments, selectors, services
from contacts.errors import AttributeDefinitionNotFound
from contacts.models import AttributeDefinition, ConsentEvent, Segment
from contacts.schemas import (
    AttributeDefinitionIn,
    AttributeDefinitionOut,
    AttributeDefinitionPatch,
    ConsentIn,
    ConsentOut,
    ContactFiltersIn,
    ContactIn,
    ContactListQuery,
    ContactOut,
    ContactPage,
    ContactPatch,
    ImportJobOut,
    ImportMappingIn,
    TagsIn,
    consent_out,
    contact_out,
    definition_out,
    import_out,
)
from messaging.models import Contact
from platform_core.api import MAX_PAGE_SIZE, ShapedRows, paginated

router = Router(tags=["contacts"])


def _actor(request: HttpRequest) -> services.Actor:
    key = getattr(request, "auth", None)
    return services.Actor(ConsentEvent.Source.API, f"api-key:{getattr(key, 'prefix', '')}")


def _with_totals(contact: Contact) -> dict[str, Any]:
    return contact_out(contact, selectors.totals_for([contact.pk]).get(contact.pk))


@router.get(
    "/contacts",
    response=ContactPage,
    summary="List contacts",
    description="Newest first. Search by name or number; filter by tag, opt-in state, blocked, an "
    "attribute's value and recent inbound messages; page with `cursor`.",
)
def contacts_list(request: HttpRequest, query: Query[ContactListQuery]):
    page, next_cursor = selectors.contacts_list(query.filters(), cursor=query.cursor, limit=query.limit)
    totals = selectors.totals_for([contact.pk for contact in page])
    return {
        "items": [contact_out(contact, totals.get(contact.pk)) for contact in page],
        "next_cursor": next_cursor,
    }


@router.post(
    "/contacts",
    response={201: ContactOut},
    summary="Create a contact",
    description="The number is stored in E.164; 409 `contact_exists` when it is already a contact.",
)
def contact_create(request: HttpRequest, payload: ContactIn):
    data = payload.dict()
    contact = services.contact_create(actor=_actor(request), **data)
    return Status(201, _with_totals(contact))


@router.get(
    "/contacts/export",
    summary="Export contacts as CSV",
    response={200: None},
    description="The contacts matching the same filters as the list, as a CSV file (streamed).",
)
def contacts_export(request: HttpRequest, query: Query[ContactFiltersIn]):
    return export_response(selectors.contacts_export_lines(query.filters()))


def export_response(lines: Any, filename: str = "contacts.csv") -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/contacts/{int:contact_id}", response=ContactOut, summary="Get a contact")
def contact_get(request: HttpRequest, contact_id: int):
    return _with_totals(selectors.contact_get(contact_id=contact_id))


@router.patch(
    "/contacts/{int:contact_id}",
    response=ContactOut,
    summary="Edit a contact",
    description="Changes the fields given; `attributes` are merged (null removes one), `tags` replaced.",
)
def contact_update(request: HttpRequest, contact_id: int, payload: ContactPatch):
    contact = selectors.contact_get(contact_id=contact_id)
    changes = payload.dict(exclude_unset=True)
    return _with_totals(services.contact_update(contact=contact, **changes))


@router.delete(
    "/contacts/{int:contact_id}",
    response={204: None},
    summary="Delete a contact",
    description="Erases the contact and the conversations with them: messages (with their stored media "
    "and sends still queued), consent history, automation state and Flow answers are deleted, not kept "
    "detached. Orders and tickets stay as business records, without the contact. Cannot be undone.",
)
def contact_delete(request: HttpRequest, contact_id: int):
    services.contact_delete(contact=selectors.contact_get(contact_id=contact_id))
    return Status(204, None)


@router.post("/contacts/{int:contact_id}/tags", response=ContactOut, summary="Add tags")
def contact_tags_add(request: HttpRequest, contact_id: int, payload: TagsIn):
    contact = services.contact_tags_add(
        contact=selectors.contact_get(contact_id=contact_id), tags=payload.tags
    )
    return _with_totals(contact)


@router.delete("/contacts/{int:contact_id}/tags/{tag}", response=ContactOut, summary="Remove a tag")
def contact_tag_remove(request: HttpRequest, contact_id: int, tag: str):
    contact = services.contact_tags_remove(contact=selectors.contact_get(contact_id=contact_id), tags=[tag])
    return _with_totals(contact)


@router.post("/contacts/{int:contact_id}/block", response=ContactOut, summary="Block a contact")
def contact_block(request: HttpRequest, contact_id: int):
    return _with_totals(services.contact_block(contact=selectors.contact_get(contact_id=contact_id)))


@router.post("/contacts/{int:contact_id}/unblock", response=ContactOut, summary="Unblock a contact")
def contact_unblock(request: HttpRequest, contact_id: int):
    return _with_totals(services.contact_unblock(contact=selectors.contact_get(contact_id=contact_id)))


@router.post(
    "/contacts/{int:contact_id}/consent",
    response={201: ConsentOut},
    summary="Record consent",
    description="The business records an opt-in or opt-out of marketing messages. An opted-out "
    "contact is refused MARKETING templates (`contact_opted_out`), as after the customer's own stop.",
)
def consent_record(request: HttpRequest, contact_id: int, payload: ConsentIn):
    contact = selectors.contact_get(contact_id=contact_id)
    event = services.consent_record(
        contact=contact, kind=payload.kind, actor=_actor(request), note=payload.note
    )
    return Status(201, consent_out(event))


@router.get("/contacts/{int:contact_id}/consent", response=list[ConsentOut], summary="Consent history")
@paginated
def consent_history(request: HttpRequest, contact_id: int):
    contact = selectors.contact_get(contact_id=contact_id)
    return ShapedRows(selectors.consent_history(contact=contact), consent_out)


# --- attribute definitions -----------------------------------------------------------------------


def _definition(definition_id: int) -> AttributeDefinition:
    definition = (
        AttributeDefinition.objects.filter(pk=definition_id).first() if definition_id < 2**63 else None
    )
    if definition is None:
        raise AttributeDefinitionNotFound(f"No attribute {definition_id} in this workspace.")
    return definition


@router.get(
    "/contacts/attributes", response=list[AttributeDefinitionOut], summary="List attribute definitions"
)
@paginated
def attributes_list(request: HttpRequest):
    return ShapedRows(selectors.attribute_definitions(), definition_out)


@router.post(
    "/contacts/attributes",
    response={201: AttributeDefinitionOut},
    summary="Define an attribute",
    description="Types: text, number, date (YYYY-MM-DD), boolean, choice (one of `choices`).",
)
def attribute_create(request: HttpRequest, payload: AttributeDefinitionIn):
    return Status(201, definition_out(services.attribute_definition_create(**payload.dict())))


@router.patch(
    "/contacts/attributes/{int:definition_id}",
    response=AttributeDefinitionOut,
    summary="Edit an attribute",
    description="The label and choices; key and type stay.",
)
def attribute_update(request: HttpRequest, definition_id: int, payload: AttributeDefinitionPatch):
    definition = services.attribute_definition_update(definition=_definition(definition_id), **payload.dict())
    return definition_out(definition)


@router.delete(
    "/contacts/attributes/{int:definition_id}",
    response={204: None},
    summary="Delete an attribute",
    description="Also removes its value from every contact.",
)
def attribute_delete(request: HttpRequest, definition_id: int):
    services.attribute_definition_delete(definition=_definition(definition_id))
    return Status(204, None)


# --- imports -----------------------------------------------------------------------------------------


@router.post(
    "/contacts/imports",
    response={201: ImportJobOut},
    summary="Upload a CSV file to import",
    description="Returns the file's columns, its first rows and a guessed mapping; start the import "
    "with POST /contacts/imports/{id}/start.",
)
def import_upload(request: HttpRequest, file: File[UploadedFile]):
    job = imports.import_upload(
        chunks=file.chunks(), filename=file.name or "contacts.csv", created_by=_actor(request).name
    )
    return Status(201, import_out(job))


@router.post(
    "/contacts/imports/{int:job_id}/start",
    response=ImportJobOut,
    summary="Start an import",
    description="Maps columns (by index) to fields or `attr:<key>`, then runs in the background.",
)
def import_start(request: HttpRequest, job_id: int, payload: ImportMappingIn):
    with transaction.atomic():
        job = imports.import_start(
            job=imports.import_get(job_id=job_id),
            mapping=payload.mapping,
            default_country=payload.default_country,
        )
    return import_out(job)


@router.get("/contacts/imports/{int:job_id}", response=ImportJobOut, summary="An import's progress")
def import_get(request: HttpRequest, job_id: int):
    return import_out(imports.import_get(job_id=job_id))


@router.get(
    "/contacts/imports/{int:job_id}/errors",
    response={200: None},
    summary="An import's error report",
    description="Each refused row with its line number and reason, as CSV.",
)
def import_errors(request: HttpRequest, job_id: int):
    job = imports.import_get(job_id=job_id)
    return export_response(imports.import_errors_lines(job=job), filename=f"import-{job.pk}-errors.csv")


# --- segments ------------------------------------------------------------------------------------

DEFINITION_HELP = (
    '{"match": "all" | "any", "conditions": [{"kind": ..., "operator": ..., "key": ..., "value": ...}]}. '
    "Kinds and operators: tags (has_any, has_all, has_none; value: list of tags); attribute (key; "
    "equals, not_equals, greater and less for number and date attributes, is_set, not_set; value typed "
    "as the attribute); opt_in (opted_in, opted_out, unknown); blocked (blocked, not_blocked); activity "
    "(inbound_within_days with value N, never_wrote, window_open); broadcast (received_within_days, "
    "replied_within_days; value N)."
)


class SegmentIn(Schema):
    name: str = Field(max_length=1000)
    description: str = Field("", max_length=5000)
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class SegmentPatch(Schema):
    name: str | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=5000)
    definition: dict[str, Any] | None = Field(None, description=DEFINITION_HELP)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    definition: dict[str, Any]
    count: int = Field(description="Contacts matching it now.")
    created_at: datetime
    updated_at: datetime


class SegmentPreviewIn(Schema):
    definition: dict[str, Any] = Field(description=DEFINITION_HELP)


class SegmentPreviewOut(Schema):
    count: int
    newest: list[ContactOut] = Field(description=f"The newest {segments.PREVIEW_SIZE} matching contacts.")


class SegmentContactsQuery(Schema):
    cursor: str | None = Field(None, max_length=200, description="The `next_cursor` of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


def _segment_out(segment: Segment, count: int | None = None) -> dict[str, Any]:
    if count is None:
        count = segments.segment_contacts(definition=segment.definition).count()
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "definition": segment.definition,
        "count": count,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _contacts_out(contacts: list[Contact]) -> list[dict[str, Any]]:
    totals = selectors.totals_for([contact.pk for contact in contacts])
    return [contact_out(contact, totals.get(contact.pk)) for contact in contacts]


@router.get("/segments", response=list[SegmentOut], summary="List segments with their counts")
@paginated
def segments_list(request: HttpRequest):
    """Each segment on the page is counted now (one COUNT each)."""
    return ShapedRows(
        segments.segments_by_name(),
        lambda segment: _segment_out(segment, segments.segment_contacts(definition=segment.definition).count()),
    )


@router.post(
    "/segments",
    response={201: SegmentOut},
    summary="Create a segment",
    description="422 `validation_error` names each refused part of the definition, e.g. "
    "`definition.conditions[0].key` for an unknown attribute.",
)
def segment_create(request: HttpRequest, payload: SegmentIn):
    return Status(201, _segment_out(segments.segment_create(**payload.dict())))


@router.post(
    "/segments/preview",
    response=SegmentPreviewOut,
    summary="Preview a definition",
    description="The count and the newest contacts of a definition, without saving it.",
)
def segment_preview(request: HttpRequest, payload: SegmentPreviewIn):
    count, contacts = segments.segment_preview(definition=payload.definition)
    return {"count": count, "newest": _contacts_out(contacts)}


@router.get("/segments/{int:segment_id}", response=SegmentOut, summary="Get a segment")
def segment_get(request: HttpRequest, segment_id: int):
    return _segment_out(segments.segment_get(segment_id=segment_id))


@router.patch("/segments/{int:segment_id}", response=SegmentOut, summary="Edit a segment")
def segment_update(request: HttpRequest, segment_id: int, payload: SegmentPatch):
    segment = segments.segment_get(segment_id=segment_id)
    return _segment_out(segments.segment_update(segment=segment, **payload.dict(exclude_unset=True)))


@router.delete("/segments/{int:segment_id}", response={204: None}, summary="Delete a segment")
def segment_delete(request: HttpRequest, segment_id: int):
    segments.segment_delete(segment=segments.segment_get(segment_id=segment_id))
    return Status(204, None)


@router.get(
    "/segments/{int:segment_id}/contacts",
    response=ContactPage,
    summary="A segment's contacts",
    description="Newest first, in the contacts list's shape; page with `cursor`.",
)
def segment_contacts(request: HttpRequest, segment_id: int, query: Query[SegmentContactsQuery]):
    segment = segments.segment_get(segment_id=segment_id)
    page, next_cursor = segments.segment_contacts_page(
        segment=segment, cursor=query.cursor, limit=query.limit
    )
    return {"items": _contacts_out(page), "next_cursor": next_cursor}


@router.get(
    "/segments/{int:segment_id}/export",
    response={200: None},
    summary="Export a segment as CSV",
    description="The segment's contacts in the contacts export's columns (streamed).",
)
def segment_export(request: HttpRequest, segment_id: int):
    segment = segments.segment_get(segment_id=segment_id)
    return export_response(
        segments.segment_export_lines(segment=segment), filename=f"segment-{segment.pk}.csv"
    )
