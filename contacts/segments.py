"""Segments: saved audiences of contacts defined by conditions, evaluated live.

A definition is {"match": "all" | "any", "conditions": [{"kind", "operator", "key"?, "value"?}, ...]}.
`segment_definition_clean` checks it against the workspace's attribute definitions (values typed
as the attribute's type) and returns the stored form; `segment_q` compiles a clean definition to
ONE Q over Contact, so a count, a page or an export is a single query with no filtering in Python.

Kinds and operators:
- tags: has_any, has_all, has_none (value: list of tags)
- attribute (key): equals, not_equals, greater, less (number and date), is_set, not_set.
  `not_equals` is the negation of `equals`: contacts without a value are included.
- opt_in: opted_in, opted_out, unknown
- blocked: blocked, not_blocked
- activity: inbound_within_days (value: days), never_wrote, window_open
- broadcast: received_within_days, replied_within_days (value: days). A broadcast message is an
  outbound message with a broadcast recipient row; "received" means Meta reported it sent,
  delivered or read; "replied" means the contact wrote after such a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, JSONField, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone

from contacts import selectors
from contacts.attributes import AttributeValueInvalid, attribute_value_clean
from contacts.models import AttributeDefinition, Segment
from contacts.services import problem, tags_clean
from messaging.models import Contact, Conversation, Message
from platform_core.api import PG_BIGINT_MAX
from platform_core.errors import DomainError

MAX_CONDITIONS = 20
MAX_DAYS = 3650
PREVIEW_SIZE = 20
MATCHES = ("all", "any")
_VALUE_OPERATORS = ("equals", "not_equals", "greater", "less")
_ORDERED_TYPES = (AttributeDefinition.Type.NUMBER, AttributeDefinition.Type.DATE)
OPERATORS: dict[str, tuple[str, ...]] = {
    "tags": ("has_any", "has_all", "has_none"),
    "attribute": (*_VALUE_OPERATORS, "is_set", "not_set"),
    "opt_in": ("opted_in", "opted_out", "unknown"),
    "blocked": ("blocked", "not_blocked"),
    "activity": ("inbound_within_days", "never_wrote", "window_open"),
    "broadcast": ("received_within_days", "replied_within_days"),
}
_DAYS_OPERATORS = ("inbound_within_days", "received_within_days", "replied_within_days")
_RECEIVED = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.READ)


class SegmentNotFound(DomainError):
    code = "segment_not_found"
    status = 404


class SegmentInvalid(DomainError):
    """The name or the definition is refused; `details` lists each problem as {field, message, type}."""

    code = "validation_error"
    status = 422


# --- the definition ------------------------------------------------------------------------------


def segment_definition_clean(raw: Any, *, field: str = "definition") -> dict[str, Any]:
    """The stored form of a definition; SegmentInvalid lists every problem with its field path."""
    if not isinstance(raw, dict):
        raise SegmentInvalid(
            "The definition must be an object.", details=[problem(field, "must be an object")]
        )
    problems: list[dict[str, str]] = []
    match = raw.get("match", "all")
    if match not in MATCHES:
        problems.append(problem(f"{field}.match", "must be all or any"))
    conditions = raw.get("conditions")
    if not isinstance(conditions, list):
        problems.append(problem(f"{field}.conditions", "must be a list", "required"))
        conditions = []
    elif len(conditions) > MAX_CONDITIONS:
        problems.append(problem(f"{field}.conditions", f"at most {MAX_CONDITIONS} conditions", "too_many"))
        conditions = []
    definitions = {definition.key: definition for definition in AttributeDefinition.objects.all()}
    cleaned = [
        _condition_clean(condition, definitions, f"{field}.conditions[{index}]", problems)
        for index, condition in enumerate(conditions)
    ]
    if problems:
        raise SegmentInvalid("The segment's definition is not valid.", details=problems)
    return {"match": match, "conditions": cleaned}


def _condition_clean(
    raw: Any, definitions: dict[str, AttributeDefinition], field: str, problems: list[dict[str, str]]
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(problem(field, "must be an object"))
        return {}
    kind, operator, value = raw.get("kind"), raw.get("operator"), raw.get("value")
    if kind not in OPERATORS:
        problems.append(problem(f"{field}.kind", f"must be one of {', '.join(OPERATORS)}"))
        return {}
    if operator not in OPERATORS[kind]:
        problems.append(problem(f"{field}.operator", f"must be one of {', '.join(OPERATORS[kind])}"))
        return {}
    condition: dict[str, Any] = {"kind": kind, "operator": operator}
    if kind == "tags":
        tags = value if isinstance(value, list) else str(value or "").split(",")
        condition["value"], found = tags_clean(tags, field=f"{field}.value")
        problems.extend(found)
        if not condition["value"] and not found:
            problems.append(problem(f"{field}.value", "at least one tag", "required"))
    elif kind == "attribute":
        condition.update(
            _attribute_condition_clean(raw.get("key"), operator, value, definitions, field, problems)
        )
    elif operator in _DAYS_OPERATORS:
        condition["value"] = _days_clean(value, f"{field}.value", problems)
    return condition


def _attribute_condition_clean(
    key: Any,
    operator: str,
    value: Any,
    definitions: dict[str, AttributeDefinition],
    field: str,
    problems: list[dict[str, str]],
) -> dict[str, Any]:
    definition = definitions.get(key) if isinstance(key, str) else None
    if definition is None:
        problems.append(problem(f"{field}.key", "no such attribute", "unknown_attribute"))
        return {"key": key}
    if operator in ("greater", "less") and definition.type not in _ORDERED_TYPES:
        problems.append(problem(f"{field}.operator", f"{operator} needs a number or date attribute"))
        return {"key": key}
    if operator not in _VALUE_OPERATORS:
        return {"key": key}
    try:
        cleaned = attribute_value_clean(definition, value)
    except AttributeValueInvalid as invalid:
        problems.append(problem(f"{field}.value", str(invalid), "wrong_type"))
        return {"key": key}
    if cleaned is None:
        problems.append(problem(f"{field}.value", "a value is required", "required"))
    return {"key": key, "value": cleaned}


def _days_clean(value: Any, field: str, problems: list[dict[str, str]]) -> int:
    try:
        days = int(value) if not isinstance(value, bool | float) else None
    except (TypeError, ValueError):
        days = None
    if days is None or not 0 < days <= MAX_DAYS:
        problems.append(
            problem(field, f"must be a whole number of days between 1 and {MAX_DAYS}", "wrong_type")
        )
        return 0
    return days


# --- compiling to one query ----------------------------------------------------------------------


def segment_q(definition: dict[str, Any]) -> Q:
    """The condition of a clean definition; no conditions match every contact."""
    combined = Q()
    for condition in definition.get("conditions", []):
        compiled = _condition_q(condition)
        combined = (
            (combined | compiled) if definition.get("match") == "any" and combined else combined & compiled
        )
    return combined


def _condition_q(condition: dict[str, Any]) -> Q:
    kind, operator = condition["kind"], condition["operator"]
    value: Any = condition.get("value")
    now = timezone.now()
    if kind == "tags":
        return {
            "has_any": Q(tags__overlap=value),
            "has_all": Q(tags__contains=value),
            "has_none": ~Q(tags__overlap=value),
        }[operator]
    if kind == "attribute":
        return _attribute_q(condition["key"], operator, value)
    if kind == "opt_in":
        return {
            "opted_out": Q(opted_out=True),
            "opted_in": Q(opted_out=False, opted_in_at__isnull=False),
            "unknown": Q(opted_out=False, opted_in_at__isnull=True),
        }[operator]
    if kind == "blocked":
        return Q(blocked=operator == "blocked")
    if operator == "inbound_within_days":
        return Q(last_seen_at__gte=now - timedelta(days=value))
    if operator == "never_wrote":
        return Q(last_seen_at__isnull=True)
    if operator == "window_open":
        return Q(
            Exists(Conversation.objects.filter(contact=OuterRef("pk"), service_window_expires_at__gt=now))
        )
    broadcast_messages = Message.objects.filter(
        contact=OuterRef("pk"),
        direction=Message.Direction.OUTBOUND,
        broadcast_recipient__isnull=False,
        timestamp__gte=now - timedelta(days=value),
    )
    if operator == "received_within_days":
        return Q(Exists(broadcast_messages.filter(status__in=_RECEIVED)))
    replies = Message.objects.filter(
        contact=OuterRef("contact"), direction=Message.Direction.INBOUND, timestamp__gt=OuterRef("timestamp")
    )
    return Q(Exists(broadcast_messages.filter(Exists(replies))))


def _attribute_q(key: str, operator: str, value: Any) -> Q:
    if operator == "is_set":
        return Q(attributes__has_key=key)
    if operator == "not_set":
        return ~Q(attributes__has_key=key)
    if operator == "equals":
        return Q(attributes__contains={key: value})
    if operator == "not_equals":
        return ~Q(attributes__contains={key: value})
    # Numbers are stored as JSON numbers and dates as ISO strings: jsonb orders both correctly.
    compare = GreaterThan if operator == "greater" else LessThan
    return Q(compare(KeyTransform(key, "attributes"), Value(value, output_field=JSONField())))


# --- reads ---------------------------------------------------------------------------------------


def segment_get(*, segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).first() if 0 < segment_id <= PG_BIGINT_MAX else None
    if segment is None:
        raise SegmentNotFound(f"No segment {segment_id} in this workspace.")
    return segment


def segment_contacts(*, definition: dict[str, Any]) -> QuerySet[Contact]:
    return Contact.objects.filter(segment_q(definition))


def segments_by_name() -> QuerySet[Segment]:
    return Segment.objects.order_by("name")


def segments_with_counts() -> list[tuple[Segment, int]]:
    """Every segment with its current number of contacts (one COUNT per segment)."""
    return [
        (segment, segment_contacts(definition=segment.definition).count())
        for segment in Segment.objects.all()
    ]


def segment_preview(*, definition: Any) -> tuple[int, list[Contact]]:
    """The count and the newest PREVIEW_SIZE contacts of a definition that is not saved yet."""
    contacts = segment_contacts(definition=segment_definition_clean(definition))
    return contacts.count(), list(contacts.order_by("-id")[:PREVIEW_SIZE])


def segment_contacts_page(
    *, segment: Segment, cursor: str | None = None, limit: int = 50
) -> tuple[list[Contact], str | None]:
    """Newest contact first, keyed on the id like the contacts list (same cursors)."""
    contacts = segment_contacts(definition=segment.definition)
    if cursor:
        contacts = contacts.filter(id__lt=selectors._cursor_decode(cursor))
    page = list(contacts.order_by("-id")[: limit + 1])
    next_cursor = selectors._cursor_encode(page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def segment_audience_wa_ids(*, segment: Segment) -> list[str]:
    """The WhatsApp ids a send to this segment goes to now: its contacts less the opted-out and the
    blocked (one query). A broadcast resolves them once, when it is created."""
    contacts = segment_contacts(definition=segment.definition).filter(opted_out=False, blocked=False)
    return list(contacts.order_by("id").values_list("wa_id", flat=True))


def segment_export_lines(*, segment: Segment) -> Iterator[str]:
    """The segment's contacts as CSV in the contacts export's columns, a few hundred rows at a time."""
    return selectors.contacts_csv_lines(segment_contacts(definition=segment.definition))


# --- writes --------------------------------------------------------------------------------------


def segment_create(*, name: str, description: str = "", definition: Any) -> Segment:
    segment = Segment(definition=segment_definition_clean(definition))
    return _save(segment, name=name, description=description)


def segment_update(
    *, segment: Segment, name: str | None = None, description: str | None = None, definition: Any = None
) -> Segment:
    if definition is not None:
        segment.definition = segment_definition_clean(definition)
    return _save(
        segment,
        name=segment.name if name is None else name,
        description=segment.description if description is None else description,
    )


def segment_delete(*, segment: Segment) -> None:
    segment.delete()


def _save(segment: Segment, *, name: str, description: str) -> Segment:
    segment.name, segment.description = name.strip(), description.strip()
    problems = []
    if not segment.name:
        problems.append(problem("name", "required", "required"))
    elif len(segment.name) > 120:
        problems.append(problem("name", "must be at most 120 characters", "too_long"))
    if len(segment.description) > 500:
        problems.append(problem("description", "must be at most 500 characters", "too_long"))
    if problems:
        raise SegmentInvalid("The segment is not valid.", details=problems)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError:
        raise SegmentInvalid(
            "A segment with this name exists.", details=[problem("name", "already used", "duplicate")]
        ) from None
    return segment
