"""Writes of flow definitions: create, update, delete, activate, and the built-in flows.

Every Flow JSON that reaches the database through here passed `validate_flow_json`; Meta's own
validation happens at sync time (flows_builder.sync).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from flows_builder.definitions import BUILTIN_FLOWS
from flows_builder.errors import FlowInvalid, FlowJsonInvalid, FlowNameTaken, FlowStateConflict
from flows_builder.models import FLOW_NAME_PATTERN, WhatsAppFlow
from flows_builder.sync import flow_meta_draft_delete
from flows_builder.validation import validate_flow_json
from waba import meta
from waba.models import PhoneNumber, WhatsAppAccount

_UNSET: Any = object()
TRIGGER_KEYWORD_MAX_CHARS = 100


def flow_json_check(*, flow_json: Any, endpoint_enabled: bool = False) -> None:
    """Raise FlowJsonInvalid (422, one `{pointer, error, message}` per problem) unless the JSON is valid."""
    errors = validate_flow_json(flow_json, has_endpoint=endpoint_enabled)
    if errors:
        raise FlowJsonInvalid(errors)


def flow_create(
    *,
    account: WhatsAppAccount,
    name: str,
    friendly_name: str,
    flow_json: Mapping[str, Any],
    description: str = "",
    categories: Iterable[str] = (meta.FlowCategory.OTHER,),
    flow_definition_name: str | None = None,
    trigger_keywords: Iterable[str] = (),
    is_active: bool = True,
    endpoint_enabled: bool = False,
    endpoint_phone_number: PhoneNumber | None = None,
) -> WhatsAppFlow:
    _check_name(name)
    flow_json_check(flow_json=flow_json, endpoint_enabled=endpoint_enabled)
    _check_endpoint_number(account, endpoint_phone_number)
    flow = WhatsAppFlow(
        account=account,
        name=name,
        friendly_name=friendly_name.strip() or name,
        description=description,
        categories=_categories(categories),
        flow_json=dict(flow_json),
        flow_definition_name=(flow_definition_name or "").strip() or None,
        trigger_keywords=_keywords(trigger_keywords),
        is_active=is_active,
        endpoint_enabled=endpoint_enabled,
        endpoint_phone_number=endpoint_phone_number,
    )
    try:
        with transaction.atomic():
            flow.save()
    except IntegrityError:
        raise FlowNameTaken(f"A flow named '{name}' already exists in this workspace.") from None
    return flow


def flow_update(
    *,
    flow: WhatsAppFlow,
    friendly_name: str = _UNSET,
    description: str = _UNSET,
    categories: Iterable[str] = _UNSET,
    flow_json: Mapping[str, Any] = _UNSET,
    flow_definition_name: str | None = _UNSET,
    trigger_keywords: Iterable[str] = _UNSET,
    is_active: bool = _UNSET,
    endpoint_enabled: bool = _UNSET,
    endpoint_phone_number: PhoneNumber | None = _UNSET,
) -> WhatsAppFlow:
    """Change the given fields only. A changed JSON is checked here and reaches Meta at the next sync
    (as a new Meta flow when the current one is published: see flows_builder.sync)."""
    new_endpoint = flow.endpoint_enabled if endpoint_enabled is _UNSET else endpoint_enabled
    if flow_json is not _UNSET or endpoint_enabled is not _UNSET:
        flow_json_check(
            flow_json=flow.flow_json if flow_json is _UNSET else flow_json, endpoint_enabled=new_endpoint
        )
    if endpoint_phone_number is not _UNSET:
        _check_endpoint_number(flow.account, endpoint_phone_number)
        flow.endpoint_phone_number = endpoint_phone_number
    if friendly_name is not _UNSET:
        flow.friendly_name = friendly_name.strip() or flow.name
    if description is not _UNSET:
        flow.description = description
    if categories is not _UNSET:
        flow.categories = _categories(categories)
    if flow_json is not _UNSET:
        flow.flow_json = dict(flow_json)
    if flow_definition_name is not _UNSET:
        flow.flow_definition_name = (flow_definition_name or "").strip() or None
    if trigger_keywords is not _UNSET:
        flow.trigger_keywords = _keywords(trigger_keywords)
    if is_active is not _UNSET:
        flow.is_active = is_active
    if endpoint_enabled is not _UNSET:
        flow.endpoint_enabled = endpoint_enabled
    flow.save()
    return flow


def flow_set_active(*, flow: WhatsAppFlow, is_active: bool) -> WhatsAppFlow:
    """Inactive flows are not sent and not synced by the command; responses still arrive."""
    if flow.is_active != is_active:
        flow.is_active = is_active
        flow.save(update_fields=["is_active", "updated_at"])
    return flow


def flow_delete(*, flow: WhatsAppFlow) -> None:
    """Delete the flow, and its Meta draft when there is one. Responses stay (their flow becomes empty).

    A flow live at Meta (published, throttled, blocked) must be deprecated first: Meta keeps it
    and customers may still open it.
    """

    if flow.meta_flow_id and flow.meta_status in (
        meta.FlowStatus.PUBLISHED,
        meta.FlowStatus.THROTTLED,
        meta.FlowStatus.BLOCKED,
    ):
        raise FlowStateConflict(
            f"The flow '{flow.name}' is {flow.meta_status} at Meta: deprecate it before deleting it."
        )
    if flow.meta_flow_id and flow.meta_status == meta.FlowStatus.DRAFT:
        flow_meta_draft_delete(flow=flow)
    flow.delete()


def install_builtin_flows(account: WhatsAppAccount, *, names: Iterable[str] | None = None) -> list[WhatsAppFlow]:
    """Create the built-in flows (Starlink, solar cleaning, solar installation, date picker) for `account`,
    or only those named in `names`.

    Idempotent: a flow whose name exists already is left as the tenant edited it. Returns the flows
    created by this call.
    """
    definitions = [BUILTIN_FLOWS[name] for name in names] if names is not None else list(BUILTIN_FLOWS.values())
    wanted = [definition.name for definition in definitions]
    existing = set(WhatsAppFlow.objects.filter(name__in=wanted).values_list("name", flat=True))
    created = []
    for definition in definitions:
        if definition.name in existing:
            continue
        created.append(
            flow_create(
                account=account,
                name=definition.name,
                friendly_name=definition.friendly_name,
                description=definition.description,
                categories=definition.categories,
                flow_json=copy.deepcopy(definition.flow_json),
                flow_definition_name=definition.flow_definition_name,
                trigger_keywords=definition.trigger_keywords,
            )
        )
    return created


# --- field checks ------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(FLOW_NAME_PATTERN, name):
        raise FlowInvalid(
            f"Invalid flow name {name!r}: start with a lowercase letter, then lowercase letters, digits "
            "or underscores, at most 80 characters.",
            details=[{"field": "name", "message": "must match " + FLOW_NAME_PATTERN}],
        )


def _categories(categories: Iterable[str]) -> list[str]:
    values = [str(category).strip().upper() for category in categories]
    allowed = {category.value for category in meta.FlowCategory}
    unknown = [value for value in values if value not in allowed]
    if not values or unknown:
        raise FlowInvalid(
            f"Categories must be one or more of {', '.join(sorted(allowed))}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            details=[{"field": "categories", "message": "unknown or empty categories", "unknown": unknown}],
        )
    return list(dict.fromkeys(values))


def _keywords(keywords: Iterable[str]) -> list[str]:
    if isinstance(keywords, str | bytes) or not isinstance(keywords, Iterable):
        raise FlowInvalid(
            "Trigger keywords must be a list of strings.",
            details=[{"field": "trigger_keywords", "message": "must be a list of strings"}],
        )
    cleaned = []
    for keyword in keywords:
        if not isinstance(keyword, str):
            raise FlowInvalid(
                f"Trigger keyword {keyword!r} is not a string.",
                details=[{"field": "trigger_keywords", "message": "must be a list of strings"}],
            )
        value = " ".join(keyword.split()).lower()
        if not value:
            continue
        if len(value) > TRIGGER_KEYWORD_MAX_CHARS:
            raise FlowInvalid(
                f"Trigger keyword '{value[:20]}...' is longer than {TRIGGER_KEYWORD_MAX_CHARS} characters.",
                details=[{"field": "trigger_keywords", "message": "too long"}],
            )
        cleaned.append(value)
    return list(dict.fromkeys(cleaned))


def _check_endpoint_number(account: WhatsAppAccount, phone_number: PhoneNumber | None) -> None:
    if phone_number is not None and phone_number.account_id != account.pk:
        raise FlowInvalid(
            "The endpoint phone number belongs to another WhatsApp account.",
            details=[{"field": "endpoint_phone_number_id", "message": "not a number of this account"}],
        )
