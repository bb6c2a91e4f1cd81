"""Input and output of the alerts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class IncidentOut(Schema):
    id: int
    kind: str = Field(
        description="account_unhealthy, template_paused, template_rejected, quality_dropped, "
        "webhook_backlog or dead_letters."
    )
    subject_key: str = Field(description='"account:<id>", "phone:<id>", "template:<id>" or "webhooks".')
    subject_label: str
    account_id: int | None
    summary: str
    details: dict[str, Any]
    opened_at: datetime
    resolved_at: datetime | None = Field(description="Empty while the incident is open.")
    last_notified_at: datetime | None


class AlertSettingsOut(Schema):
    email_enabled: bool = Field(
        description="E-mail the workspace's owners and admins (and the extra addresses)."
    )
    email_extra_addresses: list[str]
    webhook_enabled: bool = Field(description="Emit alert.opened and alert.resolved to subscribed endpoints.")
    console_enabled: bool = Field(description="Show open incidents as notices on the console's dashboard.")
    updated_at: datetime | None = None


class AlertSettingsIn(Schema):
    email_enabled: bool
    email_extra_addresses: list[str] = Field(default_factory=list, max_length=10)
    webhook_enabled: bool
    console_enabled: bool
