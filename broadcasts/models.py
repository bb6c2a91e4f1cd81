"""Campaigns (tenant schema): a Broadcast, its template variants and one recipient row per number.

A campaign is a broadcast with an audience, a schedule, variants and a messaging-limit plan; the
broadcasts API creates the simplest kind (one template, a pasted list, sent now). Each recipient
that is sent to gets an ordinary outbound Message, queued through the same outbox and paced by
the same limiter as any other message, due at its scheduled slot; progress and figures are counted
from those messages.
"""

from __future__ import annotations

from django.db import models

from messaging.models import Message
from waba.models import MessageTemplate, PhoneNumber

CANCELLED_TITLE = "Cancelled: the broadcast was cancelled before this message was sent"
WITHDRAWN_TITLE = "Withdrawn: the contact opted out or was blocked before this campaign message was sent"


class Broadcast(models.Model):
    class Status(models.TextChoices):
        QUEUING = "queuing", "Queuing"  # recipients are being written
        RUNNING = "running", "Running"  # all queued (due at their slots); completed once none is left
        PAUSED = "paused", "Paused"  # queued messages held until resumed
        CANCELLED = "cancelled", "Cancelled"

    class OverLimit(models.TextChoices):
        REFUSE = "refuse", "Refuse the campaign"
        SPREAD = "spread", "Spread it over several days"

    name = models.CharField(max_length=200, blank=True, default="")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="broadcasts")
    template = models.ForeignKey(
        MessageTemplate, null=True, on_delete=models.SET_NULL, related_name="broadcasts"
    )
    # Kept even if the template is deleted later.
    template_name = models.CharField(max_length=512)
    template_language = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUING)
    total_recipients = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # When the first message is due; the creation time for a broadcast sent at once.
    send_at = models.DateTimeField(null=True, blank=True)
    # The zone the schedule was given in (IANA name), to show it back as the business wrote it.
    timezone = models.CharField(max_length=64, blank=True, default="")
    over_limit = models.CharField(max_length=8, choices=OverLimit.choices, default=OverLimit.REFUSE)
    # Who it goes to, as asked: {"kind": "segment" | "tags" | "phones", ...}.
    audience = models.JSONField(default=dict, blank=True)
    # The pre-check's figures at creation: tier, limit, used, available, days, quality, removed.
    precheck = models.JSONField(default=dict, blank=True)
    estimated_cost_usd = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status"], name="broadcast_unfinished", condition=models.Q(finished_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return self.name or f"Broadcast {self.pk}: {self.template_name}"


class BroadcastVariant(models.Model):
    """One template of a campaign and its share of the audience (A/B tests have two or more)."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=32)
    template = models.ForeignKey(
        MessageTemplate, null=True, on_delete=models.SET_NULL, related_name="campaign_variants"
    )
    template_name = models.CharField(max_length=512)
    template_language = models.CharField(max_length=16)
    template_category = models.CharField(max_length=32, blank=True, default="")
    share = models.PositiveSmallIntegerField(help_text="Percent of the audience.")
    # Where each variable's value comes from: {"header": [source], "body": [source], "static": {...}}.
    parameters = models.JSONField(default=dict, blank=True)
    recipients_count = models.PositiveIntegerField(default=0)
    estimated_cost_usd = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["broadcast", "id"]
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "label"], name="broadcast_variant_label_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.template_name} ({self.template_language})"


class BroadcastRecipient(models.Model):
    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    variant = models.ForeignKey(
        BroadcastVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="recipients"
    )
    # Which day of a campaign spread over several days (0: the first).
    send_day = models.PositiveSmallIntegerField(default=0)
    wa_id = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict, blank=True)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="broadcast_recipient"
    )
    # Why no message was queued for this recipient (e.g. opted out of marketing).
    skipped_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "wa_id"], name="broadcast_recipient_unique"),
        ]

    def __str__(self) -> str:
        return f"+{self.wa_id}"
