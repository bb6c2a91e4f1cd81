"""Tenant API of the webhook event log: `/api/v1/webhook-events`, the changes routed to this tenant."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Router

from platform_core.api import paginated
from webhooks.event_log import event_log_list
from webhooks.schemas import WebhookEventOut

router = Router(tags=["Webhook events"])


@router.get("/webhook-events", response=list[WebhookEventOut])
@paginated
def webhook_event_list(
    request: HttpRequest, field: str | None = None, status: Literal["processed", "failed"] | None = None
):
    """The webhook changes Meta delivered for this workspace, newest first; filter by field and status."""
    return event_log_list(field=field, status=status)
