"""Reads of contacts: search and filters with keyset pages, totals per page, consent history, export.

Pages are keyed on the id, newest contact first: a cursor is the last id seen, so pages stay stable
while contacts are added. Totals come from one aggregate query over the page's contacts.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from contacts.attributes import AttributeValueInvalid, attribute_value_clean
from contacts.errors import ContactInvalid, ContactNotFound, InvalidCursor
from contacts.models import AttributeDefinition, ConsentEvent
from contacts.services import problem
from messaging.models import Contact, Conversation, Message
from platform_core.api import PG_BIGINT_MAX
from waba.validation import digits_of

OPT_IN_STATES = ("opted_in", "opted_out", "unknown")


@dataclass(frozen=True)
class ContactFilters:
    search: str = ""
    tag: str = ""
    opt_in: str = ""
    blocked: bool | None = None
    attribute: str = ""
    attribute_value: str = ""
    inbound_within_days: int | None = None


@dataclass(frozen=True)
class Totals:
    messages_in: int = 0
    messages_out: int = 0
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None


def contact_get(*, contact_id: int) -> Contact:
    contact = Contact.objects.filter(pk=contact_id).first() if 0 < contact_id <= PG_BIGINT_MAX else None
    if contact is None:
        raise ContactNotFound(f"No contact {contact_id} in this workspace.")
    return contact


def contacts_filtered(filters: ContactFilters) -> QuerySet[Contact]:
    """Every contact matching the filters (ContactInvalid names a filter that cannot be applied)."""
    contacts = Contact.objects.all()
    search = filters.search.strip()
    if search:
        digits = digits_of(search)
        matches = Q(profile_name__icontains=search)
        if digits and len(digits) >= 3:
            matches |= Q(wa_id__contains=digits)
        contacts = contacts.filter(matches)
    if filters.tag:
        contacts = contacts.filter(tags__contains=[filters.tag.strip().lower()])
    if filters.opt_in:
        if filters.opt_in not in OPT_IN_STATES:
            raise ContactInvalid(
                "Unknown opt-in state.",
                details=[problem("opt_in", f"must be one of {', '.join(OPT_IN_STATES)}")],
            )
        contacts = {
            "opted_out": contacts.filter(opted_out=True),
            "opted_in": contacts.filter(opted_out=False, opted_in_at__isnull=False),
            "unknown": contacts.filter(opted_out=False, opted_in_at__isnull=True),
        }[filters.opt_in]
    if filters.blocked is not None:
        contacts = contacts.filter(blocked=filters.blocked)
    if filters.attribute:
        contacts = contacts.filter(_attribute_equals(filters.attribute, filters.attribute_value))
    if filters.inbound_within_days is not None:
        if not 0 < filters.inbound_within_days <= 3650:
            raise ContactInvalid(
                "inbound_within_days is out of range.",
                details=[problem("inbound_within_days", "must be between 1 and 3650")],
            )
        contacts = contacts.filter(
            last_seen_at__gte=timezone.now() - timedelta(days=filters.inbound_within_days)
        )
    return contacts


def _attribute_equals(key: str, raw: str) -> Q:
    definition = AttributeDefinition.objects.filter(key=key).first()
    if definition is None:
        raise ContactInvalid(
            f"No attribute {key!r}.", details=[problem("attribute", "no such attribute", "unknown_attribute")]
        )
    try:
        value = attribute_value_clean(definition, raw)
    except AttributeValueInvalid as invalid:
        raise ContactInvalid(
            f"attribute_value {invalid}.", details=[problem("attribute_value", str(invalid))]
        ) from None
    if value is None:
        return ~Q(attributes__has_key=key)
    return Q(attributes__contains={key: value})


def contacts_list(
    filters: ContactFilters, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Contact], str | None]:
    """Newest contact first; one page and the cursor of the next (None on the last page)."""
    contacts = contacts_filtered(filters)
    if cursor:
        contacts = contacts.filter(id__lt=_cursor_decode(cursor))
    page = list(contacts.order_by("-id")[: limit + 1])
    next_cursor = _cursor_encode(page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def totals_for(contact_ids: list[int]) -> dict[int, Totals]:
    """Messages in and out, last inbound and outbound time of each contact: one aggregate query."""
    if not contact_ids:
        return {}
    rows = (
        Message.objects.filter(contact_id__in=contact_ids)
        .order_by()
        .values("contact_id")
        .annotate(
            messages_in=Count("id", filter=Q(direction=Message.Direction.INBOUND)),
            messages_out=Count("id", filter=Q(direction=Message.Direction.OUTBOUND)),
            last_inbound_at=Max("timestamp", filter=Q(direction=Message.Direction.INBOUND)),
            last_outbound_at=Max("timestamp", filter=Q(direction=Message.Direction.OUTBOUND)),
        )
    )
    return {
        row["contact_id"]: Totals(
            row["messages_in"], row["messages_out"], row["last_inbound_at"], row["last_outbound_at"]
        )
        for row in rows
    }


def consent_history(*, contact: Contact) -> QuerySet[ConsentEvent]:
    """Newest first; callers page or slice it."""
    return ConsentEvent.objects.filter(contact=contact).order_by("-occurred_at", "-id")


def contact_conversations(*, contact: Contact) -> list[Conversation]:
    return list(
        Conversation.objects.filter(contact=contact)
        .select_related("phone_number")
        .order_by("-last_message_at", "-id")[:10]
    )


def tags_in_use(limit: int = 200) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT unnest(tags) AS tag FROM {Contact._meta.db_table} ORDER BY tag LIMIT %s",
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


def attribute_definitions() -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.order_by("key"))


EXPORT_COLUMNS = [
    "phone",
    "wa_id",
    "name",
    "tier",
    "language",
    "timezone",
    "notes",
    "tags",
    "opted_out",
    "opted_in_at",
    "blocked",
    "first_seen_at",
    "last_seen_at",
    "created_at",
]


def contacts_export_lines(filters: ContactFilters) -> Iterator[str]:
    """The filtered contacts as CSV text, a few hundred rows at a time (for a streaming response)."""
    return contacts_csv_lines(contacts_filtered(filters))


def contacts_csv_lines(contacts: QuerySet[Contact]) -> Iterator[str]:
    """Any set of contacts as CSV text in the export's columns (and one per attribute definition),
    oldest first, a few hundred rows at a time."""
    keys = [definition.key for definition in attribute_definitions()]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS + [f"attr:{key}" for key in keys])
    for number, contact in enumerate(contacts.order_by("id").iterator(chunk_size=2000), start=1):
        writer.writerow(
            [
                f"+{contact.wa_id}",
                contact.wa_id,
                _safe_cell(contact.profile_name),
                _safe_cell(contact.tier),
                contact.language,
                contact.timezone,
                _safe_cell(contact.notes),
                ";".join(contact.tags),
                "yes" if contact.opted_out else "no",
                _iso(contact.opted_in_at),
                "yes" if contact.blocked else "no",
                _iso(contact.first_seen_at),
                _iso(contact.last_seen_at),
                _iso(contact.created_at),
                *[_safe_cell(_cell(contact.attributes.get(key))) for key in keys],
            ]
        )
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (names and notes are written by customers)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _cursor_encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"c{pk}".encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("c"):
            raise ValueError(text)
        pk = int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor("The cursor is not one this API returned.") from None
    if not 0 < pk <= PG_BIGINT_MAX:
        raise InvalidCursor("The cursor is not one this API returned.")
    return pk
