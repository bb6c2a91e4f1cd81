"""Events from what the lower apps announce: their signals, and saves of their records.

Every receiver runs inside the transaction of the change (signals are sent, and post_save
fires, before the commit), so the event commits or rolls back with it. An emit writes in a
savepoint of its own: one that fails is logged and rolled back alone, and never breaks the change
it reports. When no endpoint subscribes, the cost is one SELECT.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save

from automations.models import HumanHandoff, Order, SupportTicket
from flows_builder.models import CleaningRequest, FlowResponse, InstallationRequest
from integrations.event_types import EventType
from integrations.services import event_emit, event_type_subscribed, events_emit_many
from messaging.models import Message
from messaging.signals import inbound_message_stored, message_statuses_changed
from messaging.statuses import StatusChange
from waba.webhook_events import AccountEvent
from webhooks.signals import account_event_applied

logger = logging.getLogger(__name__)

TEMPLATE_FIELDS = frozenset({"message_template_status_update"})
HEALTH_FIELDS = frozenset({"phone_number_quality_update", "account_update", "account_review_update"})


def _emit(type: EventType, data: dict[str, Any]) -> None:
    try:
        event_emit(type=type, data=data)  # its writes run in a savepoint of their own
    except Exception:
        logger.exception("Recording the %s webhook event failed; the change itself stands.", type)


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def message_received(sender: Any, message: Message, **kwargs: Any) -> None:
    _emit(
        EventType.MESSAGE_RECEIVED,
        {
            "message": {
                "id": message.pk,
                "wamid": message.wamid,
                "type": message.type,
                "text": message.body,
                "content": message.content,
                "timestamp": _time(message.timestamp),
                "context_wamid": message.context_wamid or None,
                "referral": message.referral,
            },
            "contact": {"wa_id": message.contact.wa_id, "profile_name": message.contact.profile_name},
            "phone_number_id": message.phone_number.phone_number_id,
            "conversation_id": message.conversation_id,
        },
    )


def _status_changed_data(change: StatusChange) -> dict[str, Any]:
    failed = change.error_code is not None or change.error_title
    return {
        "message": {
            "id": change.message_id,
            "wamid": change.wamid,
            "status": change.status,
            "previous_status": change.previous_status,
            "timestamp": _time(change.timestamp),
            "error": {"code": change.error_code, "title": change.error_title} if failed else None,
            "pricing_category": change.pricing_category or None,
        },
        "contact": {"wa_id": change.recipient_id or None},
        "conversation_id": change.conversation_id,
    }


def message_statuses_changed_received(sender: Any, changes: list[StatusChange], **kwargs: Any) -> None:
    """One event per status change of the batch, in a fixed number of statements. Runs in a savepoint
    of its own (the signal's): one that fails is logged and rolled back, and the statuses stand."""
    events_emit_many(
        type=EventType.MESSAGE_STATUS_CHANGED, data=(_status_changed_data(change) for change in changes)
    )


def account_event(sender: Any, event: AccountEvent, **kwargs: Any) -> None:
    if event.field in TEMPLATE_FIELDS:
        type = EventType.TEMPLATE_STATUS_CHANGED
    elif event.field in HEALTH_FIELDS:
        type = EventType.ACCOUNT_HEALTH_CHANGED
    else:
        return
    _emit(
        type,
        {
            "waba_id": event.waba_id,
            "field": event.field,
            "event": event.event,
            "phone_number_id": event.phone_number_id,
            "occurred_at": _time(event.occurred_at),
            "value": event.value,
        },
    )


def _customer(record: Any) -> dict[str, Any]:
    contact = getattr(record, "contact", None)
    return {
        "wa_id": contact.wa_id if contact else getattr(record, "customer_wa_id", "") or None,
        "profile_name": contact.profile_name if contact else None,
    }


def handoff_saved(sender: Any, instance: HumanHandoff, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    _emit(
        EventType.CONVERSATION_HANDED_OFF,
        {
            "handoff": {
                "id": instance.pk,
                "reason": instance.reason,
                "opened_by": instance.opened_by,
                "opened_at": _time(instance.opened_at),
            },
            "contact": _customer(instance),
            "phone_number_id": instance.phone_number.phone_number_id,
        },
    )


def order_saved(sender: Any, instance: Order, created: bool, **kwargs: Any) -> None:
    _emit(
        EventType.ORDER_CREATED if created else EventType.ORDER_UPDATED,
        {
            "order": {
                "id": instance.pk,
                "number": instance.number,
                "status": instance.status,
                "total": str(instance.total),
                "created_at": _time(instance.created_at),
                "updated_at": _time(instance.updated_at),
            },
            "contact": _customer(instance),
        },
    )


def support_ticket_saved(sender: Any, instance: SupportTicket, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    _emit(
        EventType.SUPPORT_TICKET_CREATED,
        {
            "ticket": {
                "id": instance.pk,
                "issue_type": instance.issue_type,
                "description": instance.description,
                "status": instance.status,
                "created_at": _time(instance.created_at),
            },
            "contact": _customer(instance),
        },
    )


def service_request_saved(
    sender: Any, instance: InstallationRequest | CleaningRequest, created: bool, **kwargs: Any
) -> None:
    if not created:
        return
    _emit(
        EventType.SERVICE_REQUEST_CREATED,
        {
            "service_request": {
                "id": instance.pk,
                "kind": sender._meta.model_name,
                "status": instance.status,
                "customer_name": instance.customer_name,
                "customer_phone": instance.customer_phone,
                "preferred_date": instance.preferred_date.isoformat() if instance.preferred_date else None,
                "time_slot": instance.time_slot,
                "city": instance.city,
                "region": instance.region,
                "created_at": _time(instance.created_at),
            },
        },
    )


def flow_response_saved(sender: Any, instance: FlowResponse, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    _emit(
        EventType.FLOW_RESPONSE_RECEIVED,
        {
            "flow_response": {
                "id": instance.pk,
                "flow_name": instance.flow_name,
                "flow_token": instance.flow_token,
                "wamid": instance.wamid,
                "response": instance.response_data,
                "created_at": _time(instance.created_at),
            },
            "contact": _customer(instance),
        },
    )


def connect() -> None:
    inbound_message_stored.connect_when(
        message_received,
        when=lambda **named: event_type_subscribed(EventType.MESSAGE_RECEIVED),
        dispatch_uid="integrations.inbound",
    )
    account_event_applied.connect(account_event, dispatch_uid="integrations.account_event")
    message_statuses_changed.connect(
        message_statuses_changed_received, dispatch_uid="integrations.message_statuses_changed"
    )
    post_save.connect(handoff_saved, sender=HumanHandoff, dispatch_uid="integrations.handoff")
    post_save.connect(order_saved, sender=Order, dispatch_uid="integrations.order")
    post_save.connect(support_ticket_saved, sender=SupportTicket, dispatch_uid="integrations.ticket")
    post_save.connect(flow_response_saved, sender=FlowResponse, dispatch_uid="integrations.flow_response")
    for model in (InstallationRequest, CleaningRequest):
        post_save.connect(service_request_saved, sender=model, dispatch_uid=f"integrations.{model.__name__}")
