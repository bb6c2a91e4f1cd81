"""Endpoints, the event outbox and the deliveries of each event to each subscribed endpoint.

All three live in the tenant's schema. An Event and its Delivery rows are written in the
transaction of the change they report (services.event_emit), so a rolled-back change sends
nothing and a committed one is never lost.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from platform_core.crypto import EncryptedTextField


def event_id_new() -> str:
    return f"evt_{uuid.uuid4().hex}"


class Endpoint(models.Model):
    """A URL of the tenant's that receives the events it subscribes to, signed with its secret.

    `previous_secret` still signs (a second signature) until `previous_secret_expires_at`, so the
    receiver can switch secrets without dropping a delivery.
    """

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    event_types = ArrayField(models.CharField(max_length=64), default=list)
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Set by the first failed attempt after a success; an endpoint failing for
    # INTEGRATIONS_ENDPOINT_DISABLE_AFTER_DAYS is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    """One thing that happened, as receivers get it: `{"id", "type", "created_at", "data"}`."""

    event_id = models.CharField(max_length=40, unique=True, default=event_id_new)
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"

    def envelope(self) -> dict:
        return {
            "id": self.event_id,
            "type": self.type,
            "created_at": self.created_at.isoformat(),
            "data": self.data,
        }


class Delivery(models.Model):
    """One event for one endpoint, and how its attempts went (a replay is a new Delivery).

    Due when pending or failed and `next_attempt_at` has come and no lease runs. A worker claims it
    by setting `leased_until` (and counting the attempt); a worker that dies mid-attempt leaves
    the lease to expire and the delivery is attempted again: at least once, never lost.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed, will retry"
        GAVE_UP = "gave_up", "Gave up"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    leased_by = models.CharField(max_length=200, blank=True, default="")
    request_body = models.TextField(blank=True, default="")
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_snippet = models.TextField(blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "failed"]),
                name="integrations_delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="integrations_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.state})"
