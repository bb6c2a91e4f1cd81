"""Writes on contacts: create, edit, delete, tags, block, consent and the attribute definitions.

Every check lives here, so the API, the console and the import refuse the same things the same way.
Errors carry `details` as a list of {field, message, type}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.db.models import F, Func, JSONField, Value
from django.utils import timezone

from contacts.attributes import AttributeValueInvalid, attribute_value_clean
from contacts.errors import (
    AttributeDefinitionInvalid,
    ContactExists,
    ContactInvalid,
)
from contacts.models import AttributeDefinition, ConsentEvent
from messaging.models import Contact
from waba.validation import PhoneNumberInvalid, phone_number_normalise

PROFILE_FIELDS = ("profile_name", "tier", "notes", "language", "timezone")
_MAX_LENGTH = {"profile_name": 256, "tier": 64, "notes": 5000, "language": 16, "timezone": 64}
_LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")
_TAG = re.compile(r"^[\w][\w .:/+-]{0,63}$")
TAGS_MAX = 50


def problem(field: str, message: str, kind: str = "invalid") -> dict[str, str]:
    return {"field": field, "message": message, "type": kind}


def phone_to_wa_id(phone: str, *, default_country: str = "", field: str = "phone") -> str:
    """The WhatsApp id (E.164 digits) of a number as people write it; a number without its country
    code is read as a number of `default_country` (ISO 3166 alpha-2) when one is given."""
    text = (phone or "").strip()
    if not text:
        raise ContactInvalid("A phone number is required.", details=[problem(field, "required", "required")])
    region = default_country.upper() or None
    if region and not text.startswith(("+", "00")):
        try:
            return phone_number_normalise(text, region=region, possible_only=True).removeprefix("+")
        except PhoneNumberInvalid:
            pass  # maybe it was international digits without the '+'
    try:
        return phone_number_normalise(text, possible_only=True).removeprefix("+")
    except PhoneNumberInvalid as invalid:
        raise ContactInvalid(
            f"{text!r} is not a possible phone number: {invalid}. Write it with its country code, e.g. +4915112345678.",
            details=[problem(field, str(invalid), invalid.reason)],
        ) from None


def profile_clean(values: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The profile fields present in `values`, stripped and checked; and the problems found."""
    cleaned: dict[str, str] = {}
    problems: list[dict[str, str]] = []
    for name in PROFILE_FIELDS:
        if name not in values:
            continue
        value = values[name]
        text = "" if value is None else str(value).strip()
        if len(text) > _MAX_LENGTH[name]:
            problems.append(problem(name, f"must be at most {_MAX_LENGTH[name]} characters", "too_long"))
            continue
        if name == "language" and text and not _LANGUAGE.match(text):
            problems.append(problem(name, "must be a language code such as en, de or pt_BR", "invalid"))
            continue
        if name == "timezone" and text:
            try:
                ZoneInfo(text)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(problem(name, "must be an IANA time zone such as Europe/Berlin", "invalid"))
                continue
        cleaned[name] = text
    return cleaned, problems


def attributes_clean(
    values: dict[str, Any],
    *,
    definitions: dict[str, AttributeDefinition] | None = None,
    field: str = "attributes",
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Typed values by key (None: remove the value) and the problems found. Unknown keys are refused."""
    if definitions is None:
        definitions = attribute_definitions_by_key()
    cleaned: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for key, raw in values.items():
        definition = definitions.get(key)
        if definition is None:
            problems.append(
                problem(f"{field}.{key}", "no such attribute; define it first", "unknown_attribute")
            )
            continue
        try:
            cleaned[key] = attribute_value_clean(definition, raw)
        except AttributeValueInvalid as invalid:
            problems.append(problem(f"{field}.{key}", str(invalid), f"invalid_{definition.type}"))
    return cleaned, problems


def tags_clean(tags: list[Any], *, field: str = "tags") -> tuple[list[str], list[dict[str, str]]]:
    cleaned: list[str] = []
    problems: list[dict[str, str]] = []
    for raw in tags:
        tag = str(raw).strip().lower()
        if not tag:
            continue
        if not _TAG.match(tag):
            problems.append(
                problem(field, f"{tag[:70]!r}: a tag is up to 64 letters, digits, spaces or . : / + -")
            )
        elif tag not in cleaned:
            cleaned.append(tag)
    return cleaned, problems


def attribute_definitions_by_key() -> dict[str, AttributeDefinition]:
    return {definition.key: definition for definition in AttributeDefinition.objects.all()}


def _merged_attributes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Actor:
    """Who did it, for the consent history: `source` is a ConsentEvent.Source, `name` a user or key."""

    source: str
    name: str = ""


@transaction.atomic
def contact_create(
    *,
    phone: str,
    actor: Actor,
    default_country: str = "",
    attributes: dict[str, Any] | None = None,
    tags: list[Any] | None = None,
    opted_in: bool = False,
    **profile: Any,
) -> Contact:
    """A new contact; ContactExists if the number is already one, ContactInvalid naming each bad field."""
    problems: list[dict[str, str]] = []
    try:
        wa_id = phone_to_wa_id(phone, default_country=default_country)
    except ContactInvalid as invalid:
        problems.extend(invalid.details)
        wa_id = ""
    cleaned_profile, profile_problems = profile_clean(profile)
    cleaned_attributes, attribute_problems = attributes_clean(attributes or {})
    cleaned_tags, tag_problems = tags_clean(tags or [])
    problems += profile_problems + attribute_problems + tag_problems
    if problems:
        raise ContactInvalid("The contact has invalid fields.", details=problems)
    if Contact.objects.filter(wa_id=wa_id).exists():
        raise ContactExists(
            f"+{wa_id} is already a contact.", details=[problem("phone", "already a contact", "exists")]
        )
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                wa_id=wa_id,
                attributes=_merged_attributes({}, cleaned_attributes),
                tags=cleaned_tags,
                **cleaned_profile,
            )
    except IntegrityError:
        raise ContactExists(
            f"+{wa_id} is already a contact.", details=[problem("phone", "already a contact", "exists")]
        ) from None
    if opted_in:
        consent_record(contact=contact, kind=ConsentEvent.Kind.OPT_IN, actor=actor)
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    attributes: dict[str, Any] | None = None,
    tags: list[Any] | None = None,
    **profile: Any,
) -> Contact:
    """Changes only what is given: profile fields, attributes (merged; None removes one), tags (replaced)."""
    cleaned_profile, problems = profile_clean(profile)
    cleaned_attributes, attribute_problems = attributes_clean(attributes or {})
    cleaned_tags, tag_problems = tags_clean(tags or [])
    problems += attribute_problems + tag_problems
    if problems:
        raise ContactInvalid("The contact has invalid fields.", details=problems)
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    for name, value in cleaned_profile.items():
        setattr(locked, name, value)
    if attributes:
        locked.attributes = _merged_attributes(locked.attributes, cleaned_attributes)
    if tags is not None:
        locked.tags = cleaned_tags
    locked.save(update_fields=[*cleaned_profile, "attributes", "tags"])
    return locked


def contact_delete(*, contact: Contact) -> None:
    """Erases the contact and the conversations with them: messages (with stored media and sends still
    queued), consent history, automation state and Flow answers go too (database cascades), so a
    customer asking to be forgotten is. Orders and tickets stay as business records, without the
    contact; aggregated reporting figures hold no personal data and stay."""
    contact.delete()


def contact_tags_add(*, contact: Contact, tags: list[Any]) -> Contact:
    cleaned, problems = tags_clean(tags)
    if problems:
        raise ContactInvalid("Invalid tags.", details=problems)
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        merged = locked.tags + [tag for tag in cleaned if tag not in locked.tags]
        if len(merged) > TAGS_MAX:
            raise ContactInvalid(
                f"A contact has at most {TAGS_MAX} tags.",
                details=[problem("tags", f"at most {TAGS_MAX} tags", "too_many")],
            )
        locked.tags = merged
        locked.save(update_fields=["tags"])
    return locked


def contact_tags_remove(*, contact: Contact, tags: list[Any]) -> Contact:
    removed = {str(tag).strip().lower() for tag in tags}
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        locked.tags = [tag for tag in locked.tags if tag not in removed]
        locked.save(update_fields=["tags"])
    return locked


def contact_block(*, contact: Contact) -> Contact:
    if not contact.blocked:
        contact.blocked, contact.blocked_at = True, timezone.now()
        contact.save(update_fields=["blocked", "blocked_at"])
    return contact


def contact_unblock(*, contact: Contact) -> Contact:
    if contact.blocked:
        contact.blocked, contact.blocked_at = False, None
        contact.save(update_fields=["blocked", "blocked_at"])
    return contact


@transaction.atomic
def consent_record(
    *, contact: Contact, kind: str, actor: Actor, note: str = "", at: datetime | None = None
) -> ConsentEvent:
    """The business records an opt-in or opt-out. The contact's `opted_out` flag, the one the send path
    and broadcasts read, changes with it; `opted_out_at` is the time of the last preference, which
    also keeps an older Meta `user_preferences` event from undoing this one."""
    at = at or timezone.now()
    if kind == ConsentEvent.Kind.OPT_OUT:
        Contact.objects.filter(pk=contact.pk).update(opted_out=True, opted_out_at=at, opted_in_at=None)
    elif kind == ConsentEvent.Kind.OPT_IN:
        Contact.objects.filter(pk=contact.pk).update(opted_out=False, opted_out_at=at, opted_in_at=at)
    else:
        raise ContactInvalid(f"Unknown consent {kind!r}.", details=[problem("kind", "opt_in or opt_out")])
    contact.refresh_from_db(fields=["opted_out", "opted_out_at", "opted_in_at"])
    return ConsentEvent.objects.create(
        contact=contact,
        kind=kind,
        source=actor.source,
        recorded_by=actor.name[:150],
        note=note[:500],
        occurred_at=at,
    )


# --- attribute definitions -------------------------------------------------------------------------

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _definition_check(*, label: str, type: str, choices: list[str]) -> tuple[str, list[str]]:  # noqa: A002
    problems = []
    label = (label or "").strip()
    if not label:
        problems.append(problem("label", "required", "required"))
    elif len(label) > 128:
        problems.append(problem("label", "must be at most 128 characters", "too_long"))
    if type not in AttributeDefinition.Type.values:
        problems.append(problem("type", f"must be one of {', '.join(AttributeDefinition.Type.values)}"))
    cleaned_choices = [str(choice).strip() for choice in choices if str(choice).strip()]
    if type == AttributeDefinition.Type.CHOICE and not cleaned_choices:
        problems.append(problem("choices", "a choice attribute needs at least one choice", "required"))
    if any(len(choice) > 100 for choice in cleaned_choices) or len(cleaned_choices) > 100:
        problems.append(problem("choices", "at most 100 choices of up to 100 characters", "too_long"))
    if problems:
        raise AttributeDefinitionInvalid("The attribute has invalid fields.", details=problems)
    return label, list(dict.fromkeys(cleaned_choices)) if type == AttributeDefinition.Type.CHOICE else []


def attribute_definition_create(
    *,
    key: str,
    label: str,
    type: str,
    choices: list[str] | None = None,  # noqa: A002
) -> AttributeDefinition:
    key = (key or "").strip()
    problems = (
        []
        if _KEY.match(key)
        else [problem("key", "lower-case letters, digits and underscores, starting with a letter", "invalid")]
    )
    try:
        label, cleaned_choices = _definition_check(label=label, type=type, choices=choices or [])
    except AttributeDefinitionInvalid as invalid:
        problems += invalid.details
    if not problems and AttributeDefinition.objects.filter(key=key).exists():
        problems.append(problem("key", "an attribute with this key exists", "exists"))
    if problems:
        raise AttributeDefinitionInvalid("The attribute has invalid fields.", details=problems)
    return AttributeDefinition.objects.create(key=key, label=label, type=type, choices=cleaned_choices)


def attribute_definition_update(
    *, definition: AttributeDefinition, label: str, choices: list[str] | None = None
) -> AttributeDefinition:
    """Label and choices may change; the key and type stay (stored values were checked against them)."""
    definition.label, definition.choices = _definition_check(
        label=label, type=definition.type, choices=choices if choices is not None else definition.choices
    )
    definition.save(update_fields=["label", "choices"])
    return definition


@transaction.atomic
def attribute_definition_delete(*, definition: AttributeDefinition) -> None:
    """Removes the attribute and its value from every contact (one UPDATE)."""
    Contact.objects.filter(attributes__has_key=definition.key).update(
        attributes=Func(
            F("attributes"), Value(definition.key), function="", arg_joiner=" - ", output_field=JSONField()
        )
    )
    definition.delete()
