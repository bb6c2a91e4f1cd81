"""Process journal entries: parse, route each change to its tenant, apply its events there.

Runs in the public schema and enters each tenant's schema for that tenant's changes only.
Entries that carry only inbound messages and status updates (nearly all the volume: every message
sent comes back as sent, delivered, read) are processed together, a tenant's at a time
(`message_entries_process`); every other entry one by one (`journal_entry_process`).
Everything here is idempotent (unique wamids, unique (wamid, status), dead letters unique by
content), so a journal entry may be processed again at any time: after a crash, a lease that
ran out, or a replay.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from messaging.calls import call_event_record
from messaging.errors import PhoneNumberNotInTenant
from messaging.inbound import (
    InboundStoreResult,
    contact_preferences_apply,
    inbound_message_store,
    inbound_messages_store,
    phone_number_for_event,
)
from messaging.statuses import message_status_apply, message_statuses_apply
from platform_core.batch_memo import batch_scope
from waba.meta import ACCOUNT_PARTNER_ADDED_EVENT
from waba.services.events import account_event_apply
from waba.webhook_events import (
    AccountEvent,
    CallEvent,
    InboundMessage,
    StatusUpdate,
    WebhookErrorEvent,
    WebhookEvent,
    WebhookPayloadError,
)
from webhooks.event_log import LoggedChange, event_log_failure_record, event_log_record, event_logs_record
from webhooks.journal import (
    journal_entries_complete,
    journal_entries_start,
    journal_entry_complete,
    journal_entry_reject,
)
from webhooks.meta_apps import webhook_app_get
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry
from webhooks.routing import Change, Route, change_parse, change_route, envelope_changes
from webhooks.signals import account_event_applied

logger = logging.getLogger(__name__)

# The WABA app's service for account-level fields (templates, quality, account, capabilities ...).


def journal_entry_process(*, entry_id: int) -> dict[str, int] | None:
    """Process one journal entry completely; returns its outcome counts (None if nothing to do).

    An exception leaves the entry unfinished for the caller to retry; an entry whose body is not
    a webhook envelope is marked failed (retrying cannot help).
    """
    entry = (
        WebhookJournalEntry.objects.filter(pk=entry_id)
        .only("id", "app_id", "body", "state", "received_at")
        .first()
    )
    if entry is None or entry.state == WebhookJournalEntry.State.PROCESSED:
        return None
    try:
        changes = envelope_changes(json.loads(bytes(entry.body)))
    except (ValueError, WebhookPayloadError) as error:
        journal_entry_reject(entry_id=entry.pk, error=str(error))
        return None
    app = webhook_app_get(app_id=entry.app_id)
    counts: Counter[str] = Counter()
    for change in changes:
        route = change_route(change=change, app=app)
        if route.tenant is None and _announces_a_signup(change):
            # Meta shares the WABA when the business finishes the signup window, before the
            # workspace's completion connects it: nothing is lost (the completion reads the same).
            logger.info("PARTNER_ADDED for WABA %s before a workspace connected it; nothing to apply.",
                        change.routing_id)
            counts["partner_added_before_connection"] += 1
            continue
        if route.tenant is None:
            dead_letter_record(
                change=change,
                reason=route.reason,
                detail=route.detail,
                app_id=entry.app_id,
                journal_entry_id=entry.pk,
            )
            counts["dead_lettered"] += 1
            continue
        change_counts: Counter[str] = Counter()  # merged only if the change commits
        try:
            change_apply_logged(
                change=change,
                schema_name=route.tenant.schema_name,
                counts=change_counts,
                received_at=entry.received_at,
                journal_entry_id=entry.pk,
            )
            counts.update(change_counts)
        except PhoneNumberNotInTenant as error:
            dead_letter_record(
                change=change,
                reason=WebhookDeadLetter.Reason.PHONE_NUMBER_MISSING,
                detail=f"{route.tenant.slug}: {error.message}",
                app_id=entry.app_id,
                journal_entry_id=entry.pk,
            )
            counts["dead_lettered"] += 1
    outcome = dict(sorted(counts.items()))
    journal_entry_complete(entry_id=entry.pk, outcome=outcome)
    return outcome


# --- batches of message and status entries --------------------------------------------------------------------


@dataclass
class ClaimedEntry:
    """A claimed journal entry, parsed and routed: `changes` is None when the body is not an envelope."""

    id: int
    received_at: datetime
    changes: list[tuple[Change, Route]] | None

    @property
    def batchable(self) -> bool:
        """Whether every change is routed to a tenant and carries inbound messages and status updates only."""
        return bool(self.changes) and all(
            route.tenant is not None
            and change.events
            and all(type(event) in BATCHED_EVENTS for event in change.events)
            for change, route in self.changes or []
        )


BATCHED_EVENTS = (InboundMessage, StatusUpdate)


def journal_entries_load(*, entry_ids: list[int], worker: str) -> list[ClaimedEntry]:
    """The entries of `entry_ids` that `worker` still holds, in that order, parsed and routed.

    One SELECT for the bodies; routes are looked up once per routing key and app.
    """
    rows = WebhookJournalEntry.objects.filter(
        pk__in=entry_ids, state=WebhookJournalEntry.State.PROCESSING, claimed_by=worker[:64]
    ).values_list("id", "app_id", "body", "received_at")
    by_id = {row[0]: row for row in rows}
    routes: dict[tuple[str, str, str], Route] = {}
    entries: list[ClaimedEntry] = []
    for entry_id in entry_ids:
        if entry_id not in by_id:
            continue
        _, app_id, body, received_at = by_id[entry_id]
        try:
            changes = envelope_changes(json.loads(bytes(body)))
        except (ValueError, WebhookPayloadError):
            entries.append(ClaimedEntry(id=entry_id, received_at=received_at, changes=None))
            continue
        routed: list[tuple[Change, Route]] = []
        for change in changes:
            key = (app_id, change.routing_kind, change.routing_id)
            route = None if change.error else routes.get(key)
            if route is None:
                route = change_route(change=change, app=webhook_app_get(app_id=app_id))
                if not change.error:
                    routes[key] = route
            routed.append((change, route))
        entries.append(ClaimedEntry(id=entry_id, received_at=received_at, changes=routed))
    return entries


@dataclass(frozen=True)
class BatchResult:
    completed: list[int]  # processed and completed
    unfinished: list[int]  # started, left for the one-by-one way


def message_entries_process(*, entries: list[ClaimedEntry], worker: str, budget_s: float) -> BatchResult:
    """Process entries of inbound messages and status updates, a tenant's at a time, and complete them.

    The entries still held by `worker` are started together; each tenant's messages are stored
    (`inbound_messages_store`), its statuses applied (`message_statuses_apply`) and its changes
    logged (`event_logs_record`) in one transaction; the entries are completed together. The started entries a tenant's failure left unfinished (each has one attempt
    counted, like an entry the caller started) are the caller's to process one by one, so a bad
    change is retried or failed alone and the other tenants' statuses are not held back.
    """
    started = journal_entries_start(
        entry_ids=[entry.id for entry in entries], worker=worker, budget_s=budget_s
    )
    entries = [entry for entry in entries if entry.id in started]
    by_schema: dict[str, list[tuple[ClaimedEntry, Change]]] = {}
    for entry in entries:
        for change, route in entry.changes or []:
            assert route.tenant is not None  # batchable
            by_schema.setdefault(route.tenant.schema_name, []).append((entry, change))
    counts: dict[int, Counter[str]] = {entry.id: Counter() for entry in entries}
    unfinished: set[int] = set()
    for schema_name, changes in by_schema.items():
        try:
            tenant_counts = _tenant_changes_apply(schema_name=schema_name, changes=changes)
        except PhoneNumberNotInTenant as error:  # the one-by-one way dead-letters just those changes
            unfinished |= {entry.id for entry, _ in changes}
            logger.info("%s in %s: its entries are processed one by one.", error.message, schema_name)
            continue
        except Exception:
            unfinished |= {entry.id for entry, _ in changes}
            logger.exception(
                "Applying a batch of %s changes in %s failed; its entries are processed one by one.",
                len(changes),
                schema_name,
            )
            continue
        for entry_id, entry_counts in tenant_counts.items():
            counts[entry_id].update(entry_counts)
    completed = [entry.id for entry in entries if entry.id not in unfinished]
    journal_entries_complete(
        outcomes={entry_id: dict(sorted(counts[entry_id].items())) for entry_id in completed}
    )
    return BatchResult(
        completed=completed, unfinished=[entry.id for entry in entries if entry.id in unfinished]
    )


def _tenant_changes_apply(
    *, schema_name: str, changes: list[tuple[ClaimedEntry, Change]]
) -> dict[int, Counter[str]]:
    """One tenant's messages and statuses, stored, applied and logged in one transaction; the outcome
    counts by entry. Messages go first: a status never concerns an inbound message."""
    messages: list[InboundMessage] = []
    message_owners: list[int] = []
    statuses: list[StatusUpdate] = []
    status_owners: list[int] = []
    for entry, change in changes:
        for event in change.events:
            if isinstance(event, InboundMessage):
                messages.append(event)
                message_owners.append(entry.id)
            else:
                assert isinstance(event, StatusUpdate)  # batchable
                statuses.append(event)
                status_owners.append(entry.id)
    with schema_context(schema_name), transaction.atomic(), batch_scope():
        stored = inbound_messages_store(events=messages)
        outcomes = message_statuses_apply(events=statuses)
        event_logs_record(
            changes=[
                LoggedChange(change=change, received_at=entry.received_at, journal_entry_id=entry.id)
                for entry, change in changes
            ]
        )
    counts: dict[int, Counter[str]] = {}
    for entry_id, result in zip(message_owners, stored, strict=True):
        _stored_count(result, counts.setdefault(entry_id, Counter()))
    for entry_id, outcome in zip(status_owners, outcomes, strict=True):
        counts.setdefault(entry_id, Counter())[f"statuses_{outcome}"] += 1
    return counts


def _stored_count(result: InboundStoreResult, counts: Counter[str]) -> None:
    counts["messages_stored" if result.created else "messages_duplicate"] += 1
    if result.dispatch_failures:
        counts["dispatch_failures"] += result.dispatch_failures


def change_apply(*, change: Change, counts: Counter[str]) -> None:
    """Apply a routed change's events, in payload order, inside the current tenant schema.

    All or nothing: if one event fails the whole change rolls back and is retried (or
    dead-lettered) as a unit; re-applying it is idempotent.
    """
    context: dict = {}  # shared by the events of one change (they have one phone number)
    with transaction.atomic():  # one commit per change; each event keeps its own savepoint
        for event in change.events:
            EVENT_HANDLERS[type(event)](event, counts, context)


def change_apply_logged(
    *,
    change: Change,
    schema_name: str,
    counts: Counter[str],
    received_at: datetime,
    journal_entry_id: int | None,
) -> None:
    """`change_apply` in the tenant's schema, with its outcome in that tenant's event log (one commit).

    A failure is logged there as failed and re-raised unchanged for the caller's handling.
    """
    with schema_context(schema_name):
        try:
            with transaction.atomic():
                change_apply(change=change, counts=counts)
                event_log_record(change=change, received_at=received_at, journal_entry_id=journal_entry_id)
        except Exception as error:
            event_log_failure_record(
                change=change, received_at=received_at, journal_entry_id=journal_entry_id, exception=error
            )
            raise


def _inbound_message(event: InboundMessage, counts: Counter[str], context: dict) -> None:
    if "phone_number" not in context:
        context["phone_number"] = phone_number_for_event(event)
    _stored_count(inbound_message_store(event=event, phone_number=context["phone_number"]), counts)


def _status(event: StatusUpdate, counts: Counter[str], context: dict) -> None:
    counts[f"statuses_{message_status_apply(event=event)}"] += 1


def _value_errors(event: WebhookErrorEvent, counts: Counter[str], context: dict) -> None:
    codes = [error.get("code") for error in event.errors]
    logger.warning("Meta reported errors for phone number %s: codes %s", event.phone_number_id, codes)
    counts["errors_reported"] += 1


def _call_event(event: CallEvent, counts: Counter[str], context: dict) -> None:
    counts["calls_recorded" if call_event_record(event=event) else "calls_duplicate"] += 1


def _account_event(event: AccountEvent, counts: Counter[str], context: dict) -> None:
    handler = ACCOUNT_FIELD_HANDLERS.get(event.field, _account_event_to_waba)
    with transaction.atomic():
        handler(event)
        account_event_applied.send(sender=event.field, event=event)
    logger.info("Applied %s (%s) for WABA %s", event.field, event.event or "-", event.waba_id)
    counts["account_events"] += 1


def _account_event_to_waba(event: AccountEvent) -> None:
    """Template, phone-number, account and capability updates belong to the WABA app's models."""
    account_event_apply(
        waba_id=event.waba_id, field=event.field, value=event.value, occurred_at=event.occurred_at
    )


def _user_preferences(event: AccountEvent) -> None:
    contact_preferences_apply(event=event)


# Each handler takes the event type it is keyed by: a mapping from a type to a handler of that type
# cannot be spelled in Python's type system, hence Callable[..., None].
EVENT_HANDLERS: dict[type[WebhookEvent], Callable[..., None]] = {
    InboundMessage: _inbound_message,
    StatusUpdate: _status,
    WebhookErrorEvent: _value_errors,
    AccountEvent: _account_event,
    CallEvent: _call_event,
}

# Account-level fields handled by messaging itself; every other field goes to the WABA app. Either
# way, higher apps then hear of it through webhooks.signals.account_event_applied.
ACCOUNT_FIELD_HANDLERS: dict[str, Callable[[AccountEvent], None]] = {
    "user_preferences": _user_preferences,
}


# --- dead letters --------------------------------------------------------------------------------


def _announces_a_signup(change: Change) -> bool:
    """An `account_update` whose every event is PARTNER_ADDED (a WABA shared through Embedded Signup)."""
    return (
        change.field == "account_update"
        and bool(change.events)
        and all(isinstance(event, AccountEvent) and event.event == ACCOUNT_PARTNER_ADDED_EVENT
                for event in change.events)
    )


def dead_letter_record(
    *, change: Change, reason: str, detail: str, app_id: str, journal_entry_id: int | None
) -> WebhookDeadLetter:
    """Keep an undeliverable change; the same change again lands on the same row (reopened if resolved)."""
    dead_letter, created = WebhookDeadLetter.objects.get_or_create(
        envelope_hash=change.envelope_hash,
        defaults={
            "journal_entry_id": journal_entry_id,
            "app_id": app_id,
            "routing_kind": change.routing_kind,
            "routing_id": change.routing_id[:64],
            "field": change.field[:64],
            "envelope": change.envelope,
            "reason": reason,
            "detail": detail,
        },
    )
    if not created and (dead_letter.reason != reason or dead_letter.resolved_at is not None):
        WebhookDeadLetter.objects.filter(pk=dead_letter.pk).update(
            reason=reason, detail=detail, resolved_at=None
        )
    logger.info(
        "Dead-lettered %s for %s %s: %s", change.field, change.routing_kind, change.routing_id, reason
    )
    return dead_letter


@dataclass(frozen=True)
class ReplayResult:
    delivered: bool
    tenant_slug: str = ""
    reason: str = ""
    detail: str = ""


def dead_letter_replay(*, dead_letter_id: int) -> ReplayResult:
    """Route a dead letter again and, if a tenant owns it now, process it there. Idempotent."""
    dead_letter = WebhookDeadLetter.objects.get(pk=dead_letter_id)
    change = change_parse(dead_letter.envelope)
    route = change_route(change=change, app=webhook_app_get(app_id=dead_letter.app_id))
    now = timezone.now()
    replays = {"replay_count": dead_letter.replay_count + 1, "last_replayed_at": now}
    if route.tenant is not None:
        received_at = (
            dead_letter.journal_entry.received_at if dead_letter.journal_entry else dead_letter.created_at
        )
        try:
            change_apply_logged(
                change=change,
                schema_name=route.tenant.schema_name,
                counts=Counter(),
                received_at=received_at,
                journal_entry_id=dead_letter.journal_entry_id,
            )
        except PhoneNumberNotInTenant as error:
            route = type(route)(
                None, WebhookDeadLetter.Reason.PHONE_NUMBER_MISSING, f"{route.tenant.slug}: {error.message}"
            )
    if route.tenant is None:
        WebhookDeadLetter.objects.filter(pk=dead_letter.pk).update(
            reason=route.reason, detail=route.detail, **replays
        )
        return ReplayResult(delivered=False, reason=route.reason, detail=route.detail)
    WebhookDeadLetter.objects.filter(pk=dead_letter.pk).update(
        resolved_at=now, resolved_tenant=route.tenant, **replays
    )
    return ReplayResult(delivered=True, tenant_slug=route.tenant.slug)
