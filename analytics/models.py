"""Tenant-schema models: account health logs and events, and the usage roll-ups the analytics API reads.

Roll-up rows are derived data: `analytics.rollups` recomputes them from `messaging.Message` for
any day, so they can be dropped and rebuilt at will. Health logs and events are history.
"""

from __future__ import annotations

from django.db import models

from tenants.models import Tenant
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount


class AccountHealthLog(models.Model):
    """One health check of one account: what was looked at and what was found.

    `healthy` is None when the Graph API could not be reached (or throttled us): the check
    could not tell, and one such run alone never marks the account unhealthy.
    """

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="health_logs")
    checked_at = models.DateTimeField()
    healthy = models.BooleanField(null=True)
    reachable = models.BooleanField(default=True, help_text="False when the Graph API did not answer.")
    # [{"check": "token", "severity": "ok|warning|error", "code": "token_invalid", "message": ...,
    #   "phone_number_id": "..."}]
    findings = models.JSONField(default=list, blank=True)
    graph_latency_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Time spent in Graph calls."
    )
    error_code = models.IntegerField(null=True, blank=True, help_text="Meta's error code, if a call failed.")
    account_status = models.CharField(
        max_length=16, blank=True, default="", help_text="Status after the check."
    )

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["account", "-checked_at"], name="health_log_account_time")]

    def __str__(self) -> str:
        verdict = {True: "healthy", False: "unhealthy", None: "unreachable"}[self.healthy]
        return f"{self.account} {verdict} at {self.checked_at:%Y-%m-%d %H:%M}"


class AccountHealthEvent(models.Model):
    """A change worth a line in the account's history: quality, tier, throughput, number or account status."""

    class Kind(models.TextChoices):
        QUALITY_DOWNGRADE = "quality_downgrade", "Quality dropped"
        QUALITY_UPGRADE = "quality_upgrade", "Quality improved"
        TIER_CHANGE = "tier_change", "Messaging limit tier changed"
        THROUGHPUT_CHANGE = "throughput_change", "Throughput level changed"
        NUMBER_STATUS_CHANGE = "number_status_change", "Phone number status changed"
        NAME_STATUS_CHANGE = "name_status_change", "Display name status changed"
        BECAME_UNHEALTHY = "became_unhealthy", "Account became unhealthy"
        BECAME_HEALTHY = "became_healthy", "Account healthy again"

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="health_events")
    phone_number = models.ForeignKey(
        PhoneNumber, null=True, blank=True, on_delete=models.CASCADE, related_name="health_events"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    old_value = models.CharField(max_length=64, blank=True, default="")
    new_value = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=500, blank=True, default="")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "-occurred_at"], name="health_event_account_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.old_value} -> {self.new_value}"


class UsageHourly(models.Model):
    """Message counts of one phone number in one UTC hour (the busiest-hours view reads these)."""

    hour = models.DateTimeField(help_text="Start of the UTC hour.")
    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="+")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="+")
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "hourly usage"
        verbose_name_plural = "hourly usage"
        ordering = ["hour", "phone_number_id"]
        constraints = [models.UniqueConstraint(fields=["hour", "phone_number"], name="usage_hourly_unique")]
        indexes = [models.Index(fields=["account", "hour"], name="usage_hourly_account_hour")]

    def __str__(self) -> str:
        return f"{self.phone_number_id} {self.hour:%Y-%m-%d %H}h"


class UsageDaily(models.Model):
    """Everything the dashboards need about one phone number on one UTC day.

    Outbound counts are by the day the message was created (its cohort): a status that arrives
    later changes the day it belongs to when that day is recomputed.
    """

    day = models.DateField()
    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="+")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="+")
    sent = models.PositiveIntegerField(default=0, help_text="Outbound that left the queue (incl. failed).")
    delivered = models.PositiveIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    unique_contacts = models.PositiveIntegerField(
        default=0, help_text="Distinct contacts this number talked to."
    )
    conversations_by_category = models.JSONField(default=dict, blank=True, help_text='{"marketing": 3, ...}')
    failures_by_code = models.JSONField(default=dict, blank=True, help_text='{"131026": 2, "unknown": 1}')
    # Customer message -> first reply, in seconds, as a bucketed histogram {bucket_start_s: count}
    # so that a median over many days and numbers needs no scan of messages.
    reply_time_histogram = models.JSONField(default=dict, blank=True)
    replies = models.PositiveIntegerField(default=0, help_text="Customer messages that got a reply.")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "daily usage"
        verbose_name_plural = "daily usage"
        ordering = ["day", "phone_number_id"]
        constraints = [models.UniqueConstraint(fields=["day", "phone_number"], name="usage_daily_unique")]
        indexes = [models.Index(fields=["account", "day"], name="usage_daily_account_day")]

    def __str__(self) -> str:
        return f"{self.phone_number_id} {self.day}"


class TemplateUsageDaily(models.Model):
    """One template's sends on one day from one number: the template analytics read these."""

    day = models.DateField()
    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="+")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="+")
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    read = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0, help_text="Followed by a customer message within 24 h.")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "daily template usage"
        verbose_name_plural = "daily template usage"
        ordering = ["day", "template_id", "phone_number_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "template", "phone_number"], name="template_usage_daily_unique"
            )
        ]
        indexes = [models.Index(fields=["template", "day"], name="template_usage_template_day")]

    def __str__(self) -> str:
        return f"template {self.template_id} {self.day}"


class TenantAccountHealth(Tenant):
    """No table: the platform admin's "account health" page hangs off this proxy (see analytics.admin)."""

    class Meta:
        proxy = True
        verbose_name = "account health (all tenants)"
        verbose_name_plural = "account health (all tenants)"
