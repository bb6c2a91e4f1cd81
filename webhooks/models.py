"""Public-schema models of the webhook router: the journal (also the work queue) and dead letters."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class WebhookJournalEntry(models.Model):
    """One accepted webhook POST, stored whole before the 200 goes back.

    The journal is also the work queue: workers claim claimable rows with
    `SELECT ... FOR UPDATE SKIP LOCKED` (webhooks.journal). A claim is a
    lease: a worker that dies leaves its rows `processing` with `available_at` in
    the past once the lease runs out, and the next claim takes them again.
    Processing is idempotent, so running a row twice is always safe.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    app_id = models.CharField(max_length=64)
    body = models.BinaryField(help_text="The raw request body, byte for byte (the signature covers it).")
    signature_verified = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # Claimable from this time: the receive time, a retry's backoff, or the end of a worker's lease.
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(null=True, blank=True, help_text="Per-event outcome counts of the last run.")
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "webhooks_journal"
        ordering = ["-id"]
        verbose_name = "webhook journal entry"
        verbose_name_plural = "webhook journal"
        indexes = [
            # The claim query's index; it holds only unfinished rows, so it stays small.
            models.Index(
                fields=["available_at", "id"],
                name="webhook_journal_claimable",
                condition=Q(state__in=["pending", "processing"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Webhook #{self.pk} ({self.app_id}, {self.state})"


class WebhookDeadLetter(models.Model):
    """One change of a webhook that could not be delivered to a tenant, kept for the platform admin.

    `envelope` is a complete one-change webhook envelope, so a replay re-parses, re-routes and
    processes it exactly like a fresh delivery. `envelope_hash` makes a change that arrives again
    (Meta's retries, a journal row processed twice) land on the same row.
    """

    class Reason(models.TextChoices):
        UNROUTED = "unrouted", "No tenant owns this number or WABA"
        TENANT_INACTIVE = "tenant_inactive", "The owning tenant is suspended"
        APP_NOT_ALLOWED = "app_not_allowed", "Came through another tenant's Meta app"
        PHONE_NUMBER_MISSING = "phone_number_missing", "Routed, but the tenant has no such number"
        INVALID_PAYLOAD = "invalid_payload", "The change does not have Meta's shape"

    journal_entry = models.ForeignKey(
        WebhookJournalEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="dead_letters"
    )
    app_id = models.CharField(max_length=64)
    routing_kind = models.CharField(max_length=32, blank=True, default="")
    routing_id = models.CharField(max_length=64, blank=True, default="")
    field = models.CharField(max_length=64, blank=True, default="")
    envelope = models.JSONField()
    envelope_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    replay_count = models.PositiveIntegerField(default=0)
    last_replayed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "webhooks_dead_letter"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["routing_kind", "routing_id"], name="webhook_dead_letter_route",
                         condition=Q(resolved_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Dead letter #{self.pk}: {self.field} for {self.routing_kind} {self.routing_id} ({self.reason})"

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
