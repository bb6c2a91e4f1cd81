"""Incidents and the channels that hear of them (tenant schema)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Incident(models.Model):
    """One condition on one subject, from when it was found until it cleared.

    At most one open incident per kind and subject (a partial unique constraint), so finding the
    same condition again, or twice at once, never opens a second one nor notifies twice.
    """

    class Kind(models.TextChoices):
        ACCOUNT_UNHEALTHY = "account_unhealthy", "Account unhealthy"
        TEMPLATE_PAUSED = "template_paused", "Template paused"
        TEMPLATE_REJECTED = "template_rejected", "Template rejected"
        QUALITY_DROPPED = "quality_dropped", "Quality dropped"
        WEBHOOK_BACKLOG = "webhook_backlog", "Webhook backlog"
        DEAD_LETTERS = "dead_letters", "Undelivered webhooks"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    # What it is about: "account:<id>", "phone:<id>", "template:<id>" or "webhooks", and its name.
    subject_key = models.CharField(max_length=100)
    subject_label = models.CharField(max_length=200)
    # The WhatsApp account it belongs to (none for the workspace's webhook figures).
    account_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict)
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_key"],
                condition=Q(resolved_at__isnull=True),
                name="alerts_one_open_incident_per_subject",
            )
        ]
        indexes = [models.Index(fields=["account_id"], name="alerts_incident_account")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject_label}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class AlertSettings(models.Model):
    """The workspace's channels (one row, made on first read). Every channel is on by default."""

    email_enabled = models.BooleanField(default=True)
    # Told as well as the workspace's owners and admins.
    email_extra_addresses = models.JSONField(default=list, blank=True)
    webhook_enabled = models.BooleanField(default=True)
    console_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "alert settings"

    def __str__(self) -> str:
        return "Alert settings"
