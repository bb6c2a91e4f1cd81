"""Tenant-schema models: contacts, conversations, messages (both directions) and status events."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q, Value
from django.utils import timezone

from messaging.status_order import IN_OUTBOX, MessageStatus
from waba.models import MessageTemplate, PhoneNumber


class Contact(models.Model):
    """A WhatsApp user who wrote to, or was written to by, one of the tenant's numbers."""

    wa_id = models.CharField(max_length=32, unique=True, help_text="WhatsApp id: E.164 digits without '+'")
    profile_name = models.CharField(max_length=256, blank=True, default="")
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    opted_out = models.BooleanField(default=False, help_text="Receives no marketing templates.")
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # When the business recorded the contact's consent to marketing (cleared by an opt-out); the
    # history of both, with source and author, is contacts.ConsentEvent.
    opted_in_at = models.DateTimeField(null=True, blank=True)
    # Receives nothing from the business while set.
    blocked = models.BooleanField(default=False, db_default=False)
    blocked_at = models.DateTimeField(null=True, blank=True)
    # Profile kept by the business. Database defaults too: inbound storage inserts contacts in raw SQL.
    tier = models.CharField(max_length=64, blank=True, default="", db_default="")
    notes = models.TextField(blank=True, default="", db_default="")
    language = models.CharField(max_length=16, blank=True, default="", db_default="")
    timezone = models.CharField(max_length=64, blank=True, default="", db_default="")
    # Values of the tenant's attribute definitions (contacts.AttributeDefinition), by key, checked on write.
    attributes = models.JSONField(
        default=dict, blank=True, db_default=Value({}, output_field=models.JSONField())
    )
    tags = ArrayField(
        models.CharField(max_length=64),
        default=list,
        blank=True,
        db_default=Value([], output_field=ArrayField(models.CharField(max_length=64))),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at", "id"]
        indexes = [
            GinIndex(fields=["tags"], name="contact_tags"),
            GinIndex(fields=["attributes"], name="contact_attributes"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_name} (+{self.wa_id})" if self.profile_name else f"+{self.wa_id}"

    @property
    def wa_id_from_meta(self) -> bool:
        """Meta gave us this WhatsApp id in a webhook (the contact wrote to us): it is a real
        WhatsApp user, to be written to as it is even where libphonenumber disagrees (Meta's test
        numbers, new ranges, Mexico's 521 ids)."""
        return self.first_seen_at is not None


class Conversation(models.Model):
    """The thread between one contact and one of the tenant's phone numbers."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="conversations")
    message_count = models.PositiveIntegerField(default=0)
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # The customer-service window: open until 24 hours after the customer's last message.
    service_window_expires_at = models.DateTimeField(null=True, blank=True)
    # The person of this workspace who answers the conversation (a user of the tenant's schema).
    # The user table exists in the public schema too, where this table does not: deleting a public
    # user must not make Django's collector look for conversations there. So Django does nothing on
    # delete, and the database's own constraint (migration 0007, ON DELETE SET NULL) clears the
    # assignment when a tenant's user is deleted.
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                    db_constraint=False, related_name="assigned_conversations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "phone_number"], name="conversation_unique_contact_number"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} <-> {self.phone_number}"

    def window_open(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.service_window_expires_at is not None and at < self.service_window_expires_at


class Message(models.Model):
    """One WhatsApp message, inbound or outbound.

    `content` holds the type's payload in a typed shape (see waba.webhook_events for inbound,
    the send pipeline for outbound); `body` keeps the searchable text. Outbound messages carry
    the exact Graph request in `request_payload` and move through
    queued -> sending -> sent -> delivered -> read, or failed.
    """

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    Status = MessageStatus

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # Meta's message id. Unique: the database, not the code, makes a redelivered message a no-op.
    wamid = models.CharField(max_length=256, null=True, blank=True, unique=True)
    type = models.CharField(max_length=32)
    content = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, default="")
    context_wamid = models.CharField(max_length=256, blank=True, default="")
    # Inbound from a Click-to-WhatsApp ad or post: Meta's `referral` object (source_url, source_id,
    # source_type, headline, body, media and thumbnail URLs, ctwa_clid), its source id also in a
    # column of its own for the per-ad report.
    referral = models.JSONField(null=True, blank=True)
    referral_source_id = models.CharField(max_length=256, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices)
    timestamp = models.DateTimeField(default=timezone.now, help_text="When Meta says it was sent or received.")

    # Delivery progress and failure (outbound; status webhooks).
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=500, blank=True, default="")
    error_details = models.TextField(blank=True, default="")
    # Our machine-readable reason when the platform, not Meta, refused the message before sending it
    # (an automated reply outside the 24-hour window, a suspended account ...); `error_code` is Meta's.
    error_reason = models.CharField(max_length=64, blank=True, default="")
    # Meta's conversation and pricing objects from status webhooks, kept for billing.
    conversation_info = models.JSONField(null=True, blank=True)
    pricing = models.JSONField(null=True, blank=True)
    pricing_category = models.CharField(max_length=32, blank=True, default="")

    # Send pipeline (outbound).
    request_payload = models.JSONField(null=True, blank=True, help_text="The Graph API request body sent.")
    template = models.ForeignKey(MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="messages")
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    is_read_by_business = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["conversation", "-timestamp"], name="message_conversation_time"),
            models.Index(fields=["-timestamp", "-id"], name="message_time"),
            models.Index(fields=["status", "next_attempt_at"], name="message_outbox",
                         condition=Q(status__in=IN_OUTBOX)),
            # The send workers' claim: due messages of one phone number, oldest first.
            models.Index(fields=["phone_number", "next_attempt_at"], name="message_outbox_by_number",
                         condition=Q(status=MessageStatus.QUEUED)),
            models.Index(fields=["referral_source_id", "timestamp"], name="message_referral",
                         condition=~Q(referral_source_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.wamid or self.pk}"


class StatusEvent(models.Model):
    """Every distinct status webhook received for a wamid, applied or waiting for its message.

    Unique on (wamid, status): the same status delivered twice is stored once. A status
    that arrives before its message is known keeps `message` empty and is applied when
    the message appears.
    """

    wamid = models.CharField(max_length=256)
    status = models.CharField(max_length=16)
    timestamp = models.DateTimeField()
    recipient_id = models.CharField(max_length=32, blank=True, default="")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="status_events")
    biz_opaque_callback_data = models.CharField(max_length=512, blank=True, default="")
    conversation_info = models.JSONField(null=True, blank=True)
    pricing = models.JSONField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [models.UniqueConstraint(fields=["wamid", "status"], name="status_event_unique")]
        indexes = [
            models.Index(fields=["wamid"], name="status_event_pending", condition=Q(applied_at__isnull=True)),
            # Reconciliation of sends with an unknown outcome looks statuses up by our message id.
            models.Index(fields=["biz_opaque_callback_data"], name="status_event_opaque",
                         condition=~Q(biz_opaque_callback_data="")),
        ]

    def __str__(self) -> str:
        return f"{self.wamid} {self.status}"


class MessageMedia(models.Model):
    """An inbound message's media, kept in file storage (messaging.media): the record of keeping it.

    Created `pending` with the message; a background job fetches the file from Meta, checks it and
    stores it (`stored`), retrying with backoff (`next_attempt_at`) until it succeeds or gives up
    (`failed`, with the reason). Meta's media ids expire, so what was never stored is lost. A file
    older than INBOUND_MEDIA_RETENTION_DAYS is deleted and the row marked `expired`.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        STORED = "stored", "Stored"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    message = models.OneToOneField(Message, primary_key=True, on_delete=models.CASCADE,
                                   related_name="stored_media")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    mime_type = models.CharField(max_length=128, blank=True, default="")
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="", help_text="Hex SHA-256 of the content.")
    file = models.FileField(max_length=300, blank=True, default="",
                            help_text="Path in the default storage, under the tenant's schema name.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="When the file was stored.")
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], name="message_media_due",
                         condition=Q(state="pending")),
            models.Index(fields=["fetched_at"], name="message_media_kept", condition=Q(state="stored")),
        ]

    def __str__(self) -> str:
        return f"{self.state}: {self.mime_type or 'media'} (message {self.message_id})"


class WebhookEventLogEntry(models.Model):
    """One webhook change that was routed to this tenant's schema, and what applying it did.

    Written by the webhook worker inside this schema, so a tenant only ever sees its own. Unique on
    `envelope_hash`: Meta's redeliveries, retries and replays of the same change update one row.
    """

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    envelope_hash = models.CharField(max_length=64, unique=True)
    journal_entry_id = models.BigIntegerField(null=True, blank=True, help_text="The public journal row.")
    received_at = models.DateTimeField()
    field = models.CharField(max_length=64)
    event_types = models.JSONField(default=list, help_text="The kinds of events the change carried.")
    event_count = models.PositiveIntegerField(default=0)
    phone_number_id = models.CharField(max_length=64, blank=True, default="")
    waba_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(blank=True, default="")
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "messaging_webhook_event_log"
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["-received_at", "-id"], name="webhook_event_log_newest")]

    def __str__(self) -> str:
        return f"{self.field} ({self.status}) received {self.received_at:%Y-%m-%d %H:%M:%S}"


class CallEvent(models.Model):
    """One event of a WhatsApp call with a contact (`calls` webhook field): connect, terminate ...

    Unique on (call id, event): Meta's redeliveries of the same event insert nothing.
    """

    class Direction(models.TextChoices):
        USER_INITIATED = "USER_INITIATED", "From the customer"
        BUSINESS_INITIATED = "BUSINESS_INITIATED", "From the business"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="call_events")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="call_events")
    call_id = models.CharField(max_length=256, help_text="Meta's call id (wacid...).")
    event = models.CharField(max_length=32)
    direction = models.CharField(max_length=32, choices=Direction.choices)
    status = models.CharField(max_length=32, blank=True, default="", help_text="With terminate: COMPLETED, FAILED ...")
    duration_s = models.PositiveIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(help_text="When Meta says it happened.")
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["call_id", "event"], name="call_event_unique_call_event"),
        ]
        indexes = [models.Index(fields=["contact", "-occurred_at"], name="call_event_contact_time")]

    def __str__(self) -> str:
        return f"call {self.call_id} {self.event} ({self.direction})"
