"""Bulk template sends (tenant schema): a Broadcast and one recipient row per number it goes to.

Each recipient that is sent to gets an ordinary outbound Message, queued through the same outbox
and paced by the same limiter as any other message; progress is counted from those messages.
"""

from __future__ import annotations

from django.db import models

from messaging.models import Message
from waba.models import MessageTemplate, PhoneNumber

CANCELLED_TITLE = "Cancelled: the broadcast was cancelled before this message was sent"


class Broadcast(models.Model):
    class Status(models.TextChoices):
        QUEUING = "queuing", "Queuing"  # recipients are being written
        RUNNING = "running", "Running"  # all queued; completed once none is left to send
        CANCELLED = "cancelled", "Cancelled"

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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or f"Broadcast {self.pk}: {self.template_name}"


class BroadcastRecipient(models.Model):
    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
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
