"""The event types an endpoint may subscribe to, each with what it means."""

from __future__ import annotations

from django.db import models


class EventType(models.TextChoices):
    MESSAGE_RECEIVED = "message.received", "A customer's message arrived"
    MESSAGE_STATUS_CHANGED = "message.status_changed", "A message sent was delivered, read or failed"
    CONVERSATION_HANDED_OFF = "conversation.handed_off", "A conversation was handed to a person"
    FLOW_RESPONSE_RECEIVED = "flow.response_received", "A customer completed a WhatsApp Flow"
    ORDER_CREATED = "order.created", "An order was placed"
    ORDER_UPDATED = "order.updated", "An order changed status"
    SUPPORT_TICKET_CREATED = "support_ticket.created", "A support ticket was opened"
    SERVICE_REQUEST_CREATED = "service_request.created", "A service request was booked"
    ACCOUNT_HEALTH_CHANGED = "account.health_changed", "A number's quality or the account's status changed"
    TEMPLATE_STATUS_CHANGED = "template.status_changed", "Meta approved, rejected or paused a template"
    CAMPAIGN_FINISHED = "campaign.finished", "A campaign sent its last message"
    ALERT_OPENED = "alert.opened", "An alert incident opened (account, template, quality or webhooks)"
    ALERT_RESOLVED = "alert.resolved", "An alert incident is over"


# Sent only to the endpoint it was asked for ("Send test event"); never subscribed to.
PING = "ping"
