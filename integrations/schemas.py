"""Input and output of the integrations API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from integrations.event_types import EventType

EVENT_TYPES_HELP = "Event types to receive, among: " + ", ".join(EventType.values) + "."


class EndpointIn(Schema):
    url: str = Field(max_length=2000, description="https URL that receives the events.")
    event_types: list[str] = Field(min_length=1, max_length=32, description=EVENT_TYPES_HELP)
    description: str = Field("", max_length=200)


class EndpointPatch(Schema):
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, min_length=1, max_length=32)
    description: str | None = Field(None, max_length=200)
    is_enabled: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_enabled: bool
    disabled_reason: str
    disabled_at: datetime | None
    created_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        None, description="Until then the rolled secret signs too (a second signature)."
    )


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="Shown only now: store it to verify signatures.")


class EndpointSecretRolledOut(Schema):
    secret: str = Field(description="The new secret, shown only now.")
    previous_secret_expires_at: datetime


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_id: str = Field(alias="event.event_id")
    event_type: str = Field(alias="event.type")
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None
    response_snippet: str
    last_error: str
    duration_ms: int | None
    created_at: datetime


class DeliveryDetailOut(DeliveryOut):
    request_body: str
    payload: dict[str, Any]

    @staticmethod
    def resolve_payload(delivery: Any) -> dict[str, Any]:
        return delivery.event.envelope()
