"""Split a webhook body into its changes and decide which tenant each change belongs to.

The unit of routing is one change (`entry[i].changes[j]`): all events of a change share one
routing key (`metadata.phone_number_id` for the `messages` field, the entry's WABA id for
account-level fields). Each change becomes a self-contained one-change envelope, so a change
that cannot be delivered is dead-lettered alone and replayed alone, and one malformed change
does not hold back the others.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from tenants.models import MetaRoute, Tenant
from tenants.selectors import route_lookup
from waba.meta import WEBHOOK_MESSAGES_FIELD, WEBHOOK_OBJECT
from waba.webhook_events import (
    PayloadErrorCode,
    WebhookEvent,
    WebhookPayloadError,
    parse_envelope,
)
from webhooks.meta_apps import WebhookApp
from webhooks.models import WebhookDeadLetter

Reason = WebhookDeadLetter.Reason

ROUTE_KINDS = {"phone_number_id": MetaRoute.Kind.PHONE_NUMBER, "waba_id": MetaRoute.Kind.WABA}


@dataclass
class Change:
    """One change as a complete envelope, with what it parsed into (or why it did not)."""

    envelope: dict[str, Any]
    field: str
    routing_kind: str
    routing_id: str
    events: list[WebhookEvent] = dataclasses.field(default_factory=list)
    error: str = ""

    @property
    def envelope_hash(self) -> str:
        canonical = json.dumps(self.envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        # A lone surrogate (Meta escapes it as \udXXX) must hash too; valid text hashes as plain UTF-8.
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Route:
    tenant: Tenant | None
    reason: str = ""
    detail: str = ""


def envelope_changes(payload: Any) -> list[Change]:
    """Every change of a decoded body, each parsed on its own.

    Raises WebhookPayloadError only when the body is not a webhook envelope at all.
    """
    if not isinstance(payload, dict):
        raise WebhookPayloadError(PayloadErrorCode.INVALID_ENVELOPE, "the body is not a JSON object")
    if payload.get("object") != WEBHOOK_OBJECT:
        raise WebhookPayloadError(PayloadErrorCode.UNEXPECTED_OBJECT,
                                  f"object is {payload.get('object')!r}, expected {WEBHOOK_OBJECT!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise WebhookPayloadError(PayloadErrorCode.INVALID_ENVELOPE, "entry is not a list")
    changes: list[Change] = []
    for entry in entries:
        entry = entry if isinstance(entry, dict) else {}
        head = {key: value for key, value in entry.items() if key != "changes"}
        raw_changes = entry.get("changes")
        for raw in raw_changes if isinstance(raw_changes, list) else [raw_changes]:
            changes.append(change_parse({"object": WEBHOOK_OBJECT, "entry": [{**head, "changes": [raw]}]}))
    return changes


def change_parse(envelope: dict[str, Any]) -> Change:
    """Parse a one-change envelope; a bad shape is recorded on the Change, not raised."""
    entry = envelope["entry"][0]
    raw = entry["changes"][0] if isinstance(entry["changes"][0], dict) else {}
    value = found if isinstance(found := raw.get("value"), dict) else {}
    field_name = str(raw.get("field") or "")
    metadata = found if isinstance(found := value.get("metadata"), dict) else {}
    if field_name == WEBHOOK_MESSAGES_FIELD:
        kind, routing_id = "phone_number_id", str(metadata.get("phone_number_id") or "")
    else:
        kind, routing_id = "waba_id", str(entry.get("id") or "")
    change = Change(envelope=envelope, field=field_name, routing_kind=kind, routing_id=routing_id)
    try:
        change.events = parse_envelope(envelope)
    except WebhookPayloadError as error:
        change.error = str(error)
    return change


def change_route(*, change: Change, app: WebhookApp | None) -> Route:
    """The tenant that must process `change`, or a dead-letter reason.

    A tenant-supplied Meta app can only deliver to its own tenant: its owner knows its secret
    and could otherwise sign events for numbers of other tenants.
    """
    if change.error:
        return Route(None, Reason.INVALID_PAYLOAD, change.error)
    if app is None:
        return Route(None, Reason.APP_NOT_ALLOWED, "The Meta app this came through is no longer registered.")
    tenant = route_lookup(kind=ROUTE_KINDS[change.routing_kind], external_id=change.routing_id)
    if tenant is None:
        return Route(None, Reason.UNROUTED, f"No tenant owns {change.routing_kind} {change.routing_id}.")
    if app.tenant_id is not None and tenant.pk != app.tenant_id:
        return Route(None, Reason.APP_NOT_ALLOWED,
                     f"Meta app {app.app_id} belongs to another tenant than {change.routing_id}.")
    if not tenant.is_active:
        return Route(None, Reason.TENANT_INACTIVE, f"Tenant {tenant.slug} is {tenant.status}.")
    return Route(tenant)
