"""Webhook `value` objects in Meta's shapes: inbound messages, statuses, template, flow and account updates."""

from __future__ import annotations

from typing import Any

from graph_simulator.models import PhoneNumber

UNDELIVERABLE_ERROR: dict[str, Any] = {
    "code": 131026,
    "title": "Message undeliverable",
    "message": "Message undeliverable",
    "error_data": {"details": "Message Undeliverable."},
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}

REENGAGEMENT_ERROR: dict[str, Any] = {
    "code": 131047,
    "title": "Re-engagement message",
    "message": "Re-engagement message",
    "error_data": {
        "details": "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number."
    },
    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
}


def messages_value(phone: PhoneNumber, **parts: Any) -> dict[str, Any]:
    """The `value` of a `messages` change for one business number."""
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": phone.digits, "phone_number_id": phone.id},
        **parts,
    }


def status_item(
    *,
    wamid: str,
    status: str,
    recipient_id: str,
    timestamp: int,
    biz_opaque_callback_data: str | None,
    conversation: tuple[str, int] | None,
    category: str,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = biz_opaque_callback_data
    if errors:
        item["errors"] = errors
        return item
    if conversation is not None:
        conversation_id, expires_at = conversation
        item["conversation"] = {"id": conversation_id, "origin": {"type": category}}
        if status == "sent":
            item["conversation"]["expiration_timestamp"] = str(expires_at)
    billable = category != "service"
    item["pricing"] = {
        "billable": billable,
        "pricing_model": "PMP",
        "category": category,
        "type": "regular" if billable else "free_customer_service",
    }
    return item


def template_status_value(
    *, template_id: str, name: str, language: str, event: str, reason: str | None
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": int(template_id) if template_id.isdigit() else template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason or "NONE",
    }
    return value


def flow_status_value(*, flow_id: str, flow_name: str, old_status: str, new_status: str) -> dict[str, Any]:
    return {
        "event": "FLOW_STATUS_CHANGE",
        "message": f"Flow {flow_name} changed status from {old_status} to {new_status}",
        "flow_id": flow_id,
        "old_status": old_status,
        "new_status": new_status,
    }


def partner_added_value(*, waba_id: str, owner_business_id: str) -> dict[str, Any]:
    """The `account_update` value Meta sends the partner's app when a business shares its WABA with it."""
    return {"event": "PARTNER_ADDED", "waba_info": {"waba_id": waba_id, "owner_business_id": owner_business_id}}
