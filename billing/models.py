"""Tenant-schema billing models: one metered row per priced message, and the metering watermark."""

from __future__ import annotations

from django.db import models


class MeteredMessage(models.Model):
    """A message Meta priced, counted once: unique on its wamid however often its status arrives.

    `billable` and `pricing_type` are what Meta's `pricing` object says; `meta_cost_usd` is the rate
    card's price for the market and category when Meta bills it (a regular, billable message), else 0.
    """

    wamid = models.CharField(max_length=256, unique=True)
    message_id = models.BigIntegerField()
    phone_number_id = models.BigIntegerField()
    category = models.CharField(max_length=32)
    pricing_type = models.CharField(max_length=32, blank=True, default="")
    pricing_model = models.CharField(max_length=16, blank=True, default="")
    billable = models.BooleanField()
    market = models.CharField(max_length=3)
    meta_cost_usd = models.DecimalField(max_digits=10, decimal_places=6)
    # When the message counts: delivered (or sent, when Meta priced it before a delivery status).
    occurred_at = models.DateTimeField()
    metered_at = models.DateTimeField(auto_now_add=True)
    # Paid from the prepaid balance (billing.credit): each row is drawn down once.
    credit_drawn = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["occurred_at"], name="metered_message_time")]

    def __str__(self) -> str:
        return f"{self.wamid} {self.category} {self.market}"


class MeteringWatermark(models.Model):
    """The one row saying how far metering has read the messages (by `updated_at`)."""

    key = models.CharField(max_length=16, unique=True, default="messages")
    updated_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
