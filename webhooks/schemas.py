"""Output schemas of the tenant's webhook event log."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class WebhookEventOut(Schema):
    id: int
    received_at: datetime
    field: str
    event_types: list[str]
    event_count: int
    phone_number_id: str
    waba_id: str
    status: str
    error: str
    applied_at: datetime
