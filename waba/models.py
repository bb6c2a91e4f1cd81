"""Tenant-schema models: WhatsApp Business Accounts, their phone numbers and message templates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from platform_core.crypto import EncryptedTextField
from waba import meta


def default_per_minute() -> int:
    return settings.DEFAULT_RATE_LIMIT_PER_MINUTE


def default_per_day() -> int:
    return settings.DEFAULT_RATE_LIMIT_PER_DAY


def default_per_month() -> int:
    return settings.DEFAULT_RATE_LIMIT_PER_MONTH


class WhatsAppAccount(models.Model):
    """One WhatsApp Business Account (WABA) of the tenant, with its credentials and bot settings.

    Created in `draft` by the setup wizard; completing the wizard makes it `active`.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (setup in progress)"
        ACTIVE = "active", "Active"
        UNHEALTHY = "unhealthy", "Unhealthy"
        SUSPENDED = "suspended", "Suspended"

    display_name = models.CharField(max_length=200, blank=True)
    # Meta identifiers: blank until the wizard's first step; unique in the platform through tenants.MetaRoute.
    waba_id = models.CharField(max_length=64, blank=True, default="")
    business_account_id = models.CharField(max_length=64, blank=True, default="")
    app_id = models.CharField(max_length=64, blank=True, default="")
    app_secret = EncryptedTextField(null=True, blank=True)
    access_token = EncryptedTextField(null=True, blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    webhook_verify_token = EncryptedTextField(null=True, blank=True)

    # Business profile
    profile_name = models.CharField(max_length=200, blank=True, default="")
    profile_description = models.CharField(max_length=512, blank=True, default="")
    profile_email = models.EmailField(blank=True, default="")
    profile_vertical = models.CharField(max_length=64, blank=True, default="")
    profile_address = models.CharField(max_length=256, blank=True, default="")
    profile_website = models.URLField(blank=True, default="")

    # Bot configuration
    auto_reply_enabled = models.BooleanField(default=False)
    greeting_message = models.TextField(blank=True, default="")
    fallback_message = models.TextField(blank=True, default="")
    out_of_hours_message = models.TextField(blank=True, default="")
    business_hours_start = models.TimeField(null=True, blank=True)
    business_hours_end = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone, e.g. Europe/Berlin")
    conversation_state_ttl_minutes = models.PositiveIntegerField(default=30)
    # Answering a customer's WhatsApp call with a message (automations.calls): the text inside the
    # customer-service window, the template (no variables) outside it, at most once per interval.
    call_reply_enabled = models.BooleanField(default=False)
    call_reply_message = models.TextField(blank=True, default="")
    call_reply_template_name = models.CharField(max_length=512, blank=True, default="")
    call_reply_template_language = models.CharField(max_length=16, blank=True, default="")
    call_reply_interval_minutes = models.PositiveIntegerField(default=60)

    subscribed_fields = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=500, blank=True, default="")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The Meta error code behind an `unhealthy` status (190, 131048 ...), when one caused it.
    status_error_code = models.IntegerField(null=True, blank=True)
    # Limits Meta announced in `business_capability_update` (max daily conversations, numbers ...).
    meta_capabilities = models.JSONField(default=dict, blank=True)

    rate_limit_per_minute = models.PositiveIntegerField(default=default_per_minute)
    rate_limit_per_day = models.PositiveIntegerField(default=default_per_day)
    rate_limit_per_month = models.PositiveIntegerField(default=default_per_month)

    # Setup wizard progress: the numbers (1-6) of the steps saved so far.
    setup_completed_steps = models.JSONField(default=list, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "WhatsApp account"
        verbose_name_plural = "WhatsApp accounts"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["waba_id"], condition=~Q(waba_id=""), name="waba_account_unique_waba_id"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.waba_id or f"Account {self.pk}"

    @property
    def can_send(self) -> bool:
        return self.status == self.Status.ACTIVE


class PhoneNumber(models.Model):
    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="phone_numbers")
    phone_number_id = models.CharField(max_length=64, unique=True)
    e164_number = models.CharField(max_length=20, blank=True, default="", help_text="+15550783881")
    display_phone_number = models.CharField(max_length=32, blank=True, default="")
    verified_name = models.CharField(max_length=200, blank=True, default="")
    quality_rating = models.CharField(max_length=16, default=meta.QualityRating.UNKNOWN)
    messaging_limit_tier = models.CharField(max_length=32, blank=True, default="")
    throughput_level = models.CharField(max_length=32, blank=True, default="")
    # Messages per second this number may send (Meta's default 80; up to 1,000 after an upgrade).
    throughput_mps = models.PositiveIntegerField(default=meta.DEFAULT_THROUGHPUT_MPS)
    status = models.CharField(max_length=32, blank=True, default="")
    name_status = models.CharField(max_length=32, blank=True, default="")
    is_registered = models.BooleanField(default=False)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(throughput_mps__gte=1) & Q(throughput_mps__lte=meta.MAX_THROUGHPUT_MPS),
                name="phone_number_throughput_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.display_phone_number or self.phone_number_id


class MessageTemplate(models.Model):
    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=32)
    components = models.JSONField(default=list)
    # Number of {{n}} variables in the body that a send must fill; header/button counts in parameter_counts.
    variable_count = models.PositiveIntegerField(default=0)
    parameter_counts = models.JSONField(default=dict, blank=True, help_text='e.g. {"header": 1, "body": 2}')
    status = models.CharField(max_length=32, default="DRAFT")
    rejection_reason = models.CharField(max_length=500, blank=True, default="")
    quality_score = models.CharField(max_length=16, blank=True, default="")
    meta_template_id = models.CharField(max_length=64, blank=True, default="")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name", "language"], name="template_unique_name_language"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def is_approved(self) -> bool:
        return self.status == meta.TemplateStatus.APPROVED


class AccountEventLog(models.Model):
    """One account-level webhook event applied to this tenant's WABA data (templates, numbers, account).

    Written by `waba.services.events.account_event_apply`; a redelivered event (same digest as
    the last one about the same subject) is not written twice.
    """

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        UNMATCHED = "unmatched", "No matching template, number or account"
        STALE = "stale", "Older than what was already applied"
        IGNORED = "ignored", "Logged only"

    account = models.ForeignKey(
        WhatsAppAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    waba_id = models.CharField(max_length=64)
    field = models.CharField(max_length=64)
    event = models.CharField(max_length=64, blank=True, default="")
    # What the event is about: "template:<meta id or name/language>", "phone:<digits>", "account".
    subject = models.CharField(max_length=200, blank=True, default="")
    value = models.JSONField(default=dict)
    digest = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.APPLIED)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["waba_id", "field", "subject", "-id"], name="waba_event_subject_idx")]

    def __str__(self) -> str:
        return f"{self.field} {self.event} ({self.subject})"


class TemplateEdit(models.Model):
    """One edit of a template sent to Meta: counted against Meta's edit limits for approved ones."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="edits")
    status_before = models.CharField(max_length=32)
    components_before = models.JSONField(default=list)
    edited_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-edited_at"]


class MediaAsset(models.Model):
    """A file uploaded to Meta for an account: a media id to send by (lives about 30 days), or a
    resumable-upload handle for template header samples and the profile photo.
    """

    class Purpose(models.TextChoices):
        MESSAGE = "message", "Message media"
        SAMPLE = "sample", "Template sample / profile photo"

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="media_assets")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.SET_NULL, null=True, blank=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.MESSAGE)
    name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=16)
    content_type = models.CharField(max_length=128)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    media_id = models.CharField(max_length=128, blank=True, default="")
    handle = models.TextField(blank=True, default="")
    uploaded_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class BusinessProfile(models.Model):
    """The business profile as last pushed to (or read back from) Meta, the same on every number of the account."""

    account = models.OneToOneField(WhatsAppAccount, on_delete=models.CASCADE, related_name="business_profile")
    about = models.CharField(max_length=139, blank=True, default="")
    address = models.CharField(max_length=256, blank=True, default="")
    description = models.CharField(max_length=512, blank=True, default="")
    email = models.CharField(max_length=128, blank=True, default="")
    websites = models.JSONField(default=list, blank=True)
    vertical = models.CharField(max_length=32, blank=True, default="")
    profile_picture_url = models.TextField(blank=True, default="")
    pushed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"profile of {self.account}"
