"""Flows at Meta: create, upload the Flow JSON, publish, deprecate, delete drafts, fetch status.

Every Graph call goes through the account's `GraphClient` (flows_builder.graph). A sync claims
the flow with a conditional UPDATE (sync_status -> syncing), so two workers never create two Meta
flows for one row; a claim older than SYNC_CLAIM_TIMEOUT is considered abandoned.

Meta never changes a published flow. Syncing a changed JSON after publication therefore creates
a new Meta flow (`version` + 1, named `<name>_v<version>`); the old one stays live until it is
deprecated, and its id is kept in `superseded_meta_flow_ids`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from flows_builder.endpoint.keys import endpoint_uri_for, flow_endpoint_key_ensure
from flows_builder.errors import (
    FlowAccountNotReady,
    FlowGraphError,
    FlowRejectedByMeta,
    FlowStateConflict,
    FlowSyncInProgress,
)
from flows_builder.graph import account_graph_client
from flows_builder.models import WhatsAppFlow, flow_json_hash
from platform_core.errors import DomainError
from waba.graph import GraphClient, GraphError
from waba.meta import FlowStatus

if TYPE_CHECKING:
    from waba.webhook_events import AccountEvent

logger = logging.getLogger(__name__)

SYNC_CLAIM_TIMEOUT = timedelta(minutes=5)
LIVE_STATUSES = frozenset({FlowStatus.PUBLISHED, FlowStatus.THROTTLED, FlowStatus.BLOCKED})


@dataclass(frozen=True)
class FlowSyncOutcome:
    flow: WhatsAppFlow
    created: bool = False  # a new Meta flow (first sync or new version)
    new_version: bool = False
    uploaded: bool = False
    published: bool = False
    refreshed: bool = False

    @property
    def changed_anything(self) -> bool:
        return self.created or self.uploaded or self.published

    def describe(self) -> str:
        parts = []
        if self.new_version:
            parts.append(f"new version v{self.flow.version}")
        elif self.created:
            parts.append("created")
        if self.uploaded:
            parts.append("uploaded")
        if self.published:
            parts.append("published")
        if self.refreshed:
            parts.append(f"status refreshed ({self.flow.meta_status})")
        return ", ".join(parts) or "unchanged"


def flow_sync(*, flow: WhatsAppFlow, publish: bool = False, force: bool = False) -> FlowSyncOutcome:
    """Bring the flow's Meta copy in line with its JSON, and publish it when asked.

    Unchanged flows cost no upload; `force` re-uploads a draft and refreshes a live flow's status.
    Raises FlowRejectedByMeta (Meta's validation errors stored on the flow, sync_status error),
    FlowGraphError (the call failed; the error stored), FlowSyncInProgress, FlowAccountNotReady.
    """
    client = _client(flow)
    _claim(flow)
    try:
        outcome = _sync(flow, client, publish=publish, force=force)
    except FlowRejectedByMeta:
        raise
    except GraphError as exc:
        _record_failure(flow, str(exc))
        raise _graph_error(f"Syncing flow '{flow.name}' failed", exc) from None
    except DomainError as exc:
        _record_failure(flow, exc.message)
        raise
    except BaseException as exc:
        _record_failure(flow, f"Sync interrupted: {type(exc).__name__}")
        raise
    return outcome


def flow_publish(*, flow: WhatsAppFlow) -> FlowSyncOutcome:
    """Sync (when changed) and publish. A published flow can no longer change at Meta."""
    return flow_sync(flow=flow, publish=True)


def flow_deprecate(*, flow: WhatsAppFlow) -> WhatsAppFlow:
    """Deprecate the live Meta flow: it can no longer be sent; open sessions may still finish."""
    if not flow.meta_flow_id or flow.meta_status not in LIVE_STATUSES:
        raise FlowStateConflict(
            f"Only a published flow can be deprecated; '{flow.name}' is {flow.meta_status or 'not synced'}."
        )
    client = _client(flow)
    try:
        client.deprecate_flow(flow.meta_flow_id)
    except GraphError as exc:
        raise _graph_error(f"Deprecating flow '{flow.name}' failed", exc) from None
    flow.meta_status = FlowStatus.DEPRECATED
    flow.sync_status = WhatsAppFlow.SyncStatus.DRAFT
    flow.save(update_fields=["meta_status", "sync_status", "updated_at"])
    return flow


def flow_meta_draft_delete(*, flow: WhatsAppFlow) -> WhatsAppFlow:
    """Delete the flow's Meta draft (Meta deletes drafts only) and forget its id; the row stays."""
    if not flow.meta_flow_id or flow.meta_status != FlowStatus.DRAFT:
        raise FlowStateConflict(f"Flow '{flow.name}' has no Meta draft to delete.")
    client = _client(flow)
    try:
        client.delete_flow(flow.meta_flow_id)
    except GraphError as exc:
        raise _graph_error(f"Deleting the Meta draft of '{flow.name}' failed", exc) from None
    flow.meta_flow_id = ""
    flow.meta_status = ""
    flow.json_hash = ""
    flow.validation_errors = []
    flow.sync_status = WhatsAppFlow.SyncStatus.DRAFT
    flow.save()
    return flow


def flow_status_refresh(*, flow: WhatsAppFlow) -> WhatsAppFlow:
    """Read the flow's status and validation errors back from Meta."""
    if not flow.meta_flow_id:
        raise FlowStateConflict(f"Flow '{flow.name}' was never synced to Meta.")
    client = _client(flow)
    try:
        _refresh(flow, client)
    except GraphError as exc:
        raise _graph_error(f"Reading the status of '{flow.name}' failed", exc) from None
    flow.save()
    return flow


def flow_status_apply(*, meta_flow_id: str, new_status: str) -> WhatsAppFlow | None:
    """Apply a `flows` webhook status change (for the webhook pipeline); None for unknown or old ids."""
    flow = WhatsAppFlow.objects.filter(meta_flow_id=meta_flow_id).first()
    if flow is None:
        return None
    flow.meta_status = new_status
    if new_status in LIVE_STATUSES:
        flow.sync_status = WhatsAppFlow.SyncStatus.PUBLISHED
    flow.save(update_fields=["meta_status", "sync_status", "updated_at"])
    return flow


def flows_webhook_apply(event: AccountEvent) -> WhatsAppFlow | None:
    """The `flows` webhook field (reached through webhooks.signals.account_event_applied, see flows_builder.receivers).

    Status changes reach `flow_status_apply` in the owning tenant's schema; the field's other
    events (endpoint error rates, latency alerts ...) are logged only.
    """
    new_status = str(event.value.get("new_status") or "").upper()
    flow_id = str(event.value.get("flow_id") or "")
    if event.event != "FLOW_STATUS_CHANGE" or not new_status or not flow_id:
        logger.info("flows webhook %s for flow %s: nothing to apply", event.event or "-", flow_id or "-")
        return None
    if new_status not in FlowStatus.__members__:
        logger.warning("flows webhook: unknown status %r for flow %s; ignored", new_status[:32], flow_id)
        return None
    flow = flow_status_apply(meta_flow_id=flow_id, new_status=new_status)
    if flow is None:
        logger.info("flows webhook: no flow with Meta id %s in this tenant; ignored", flow_id)
    return flow


# --- the sync itself ---------------------------------------------------------------------------


def _sync(flow: WhatsAppFlow, client: GraphClient, *, publish: bool, force: bool) -> FlowSyncOutcome:
    current_hash = flow_json_hash(flow.flow_json)
    changed = current_hash != flow.json_hash
    new_version = refreshed = created = uploaded = published = False

    if flow.is_immutable_at_meta:
        republish = publish and flow.meta_status == FlowStatus.DEPRECATED
        if not changed and not republish:
            if force:
                _refresh(flow, client)
                refreshed = True
            _finish(flow)
            return FlowSyncOutcome(flow=flow, refreshed=refreshed)
        _start_new_version(flow)
        new_version = True

    if not flow.meta_flow_id:
        _create_at_meta(flow, client)
        created = True

    if created or changed or force or flow.validation_errors:
        _upload(flow, client, current_hash)
        uploaded = True

    if publish and flow.meta_status == FlowStatus.DRAFT:
        client.publish_flow(flow.meta_flow_id)
        flow.meta_status = FlowStatus.PUBLISHED
        published = True
    _finish(flow)
    return FlowSyncOutcome(
        flow=flow, created=created, new_version=new_version, uploaded=uploaded, published=published
    )


def _start_new_version(flow: WhatsAppFlow) -> None:
    flow.superseded_meta_flow_ids = [*flow.superseded_meta_flow_ids, flow.meta_flow_id]
    flow.version += 1
    flow.meta_flow_id = ""
    flow.meta_status = ""
    flow.json_hash = ""
    flow.validation_errors = []
    flow.save()


def _create_at_meta(flow: WhatsAppFlow, client: GraphClient) -> None:
    endpoint_uri = None
    if flow.endpoint_enabled:
        number = flow.endpoint_phone_number or flow.account.phone_numbers.order_by("id").first()
        if number is None:
            raise FlowAccountNotReady(f"Flow '{flow.name}' uses an endpoint but its account has no number.")
        flow_endpoint_key_ensure(phone_number=number)
        flow.endpoint_phone_number = number
        endpoint_uri = endpoint_uri_for(phone_number=number)
    created = client.create_flow(
        flow.account.waba_id, flow.meta_name, flow.categories, endpoint_uri=endpoint_uri
    )
    # Saved at once: a failure further on must not make the next sync create a second Meta flow.
    flow.meta_flow_id = str(created["id"])
    flow.meta_status = FlowStatus.DRAFT
    flow.save()


def _upload(flow: WhatsAppFlow, client: GraphClient, current_hash: str) -> None:
    text = json.dumps(flow.flow_json, indent=2, ensure_ascii=False)
    result = client.upload_flow_json(flow.meta_flow_id, text)
    errors = result.get("validation_errors") or []
    flow.validation_errors = errors
    if errors:
        count = len(errors)
        first = errors[0].get("message", "") if isinstance(errors[0], dict) else str(errors[0])
        message = (
            f"Meta rejected the Flow JSON with {count} validation error{'s' if count != 1 else ''}: {first}"
        )
        _record_failure(flow, message)
        raise FlowRejectedByMeta(message, details=errors)
    flow.json_hash = current_hash


def _refresh(flow: WhatsAppFlow, client: GraphClient) -> None:
    remote = client.get_flow(flow.meta_flow_id)
    flow.meta_status = str(remote.get("status") or flow.meta_status)
    flow.validation_errors = remote.get("validation_errors") or []
    if flow.meta_status in LIVE_STATUSES:
        flow.sync_status = WhatsAppFlow.SyncStatus.PUBLISHED


def _finish(flow: WhatsAppFlow) -> None:
    flow.sync_status = (
        WhatsAppFlow.SyncStatus.PUBLISHED
        if flow.meta_status in LIVE_STATUSES
        else WhatsAppFlow.SyncStatus.DRAFT
    )
    flow.last_sync_error = ""
    flow.last_synced_at = timezone.now()
    flow.sync_started_at = None
    flow.save()


def _record_failure(flow: WhatsAppFlow, message: str) -> None:
    flow.sync_status = WhatsAppFlow.SyncStatus.ERROR
    flow.last_sync_error = message
    flow.last_synced_at = timezone.now()
    flow.sync_started_at = None
    flow.save()


def _claim(flow: WhatsAppFlow) -> None:
    now = timezone.now()
    free = ~Q(sync_status=WhatsAppFlow.SyncStatus.SYNCING) | Q(sync_started_at__lt=now - SYNC_CLAIM_TIMEOUT)
    claimed = WhatsAppFlow.objects.filter(free, pk=flow.pk).update(
        sync_status=WhatsAppFlow.SyncStatus.SYNCING, sync_started_at=now
    )
    if not claimed:
        raise FlowSyncInProgress(f"Flow '{flow.name}' is being synced right now; try again shortly.")
    flow.refresh_from_db()


def _client(flow: WhatsAppFlow) -> GraphClient:
    if not flow.account.waba_id:
        raise FlowAccountNotReady(f"The WhatsApp account of '{flow.name}' has no WABA id yet.")
    return account_graph_client(account=flow.account)


def _graph_error(what: str, exc: GraphError) -> FlowGraphError:
    return FlowGraphError(
        f"{what}: {exc}",
        details={**exc.as_dict(), "retryable": exc.retryable},
        retry_after_s=exc.retry_after_s,
    )
