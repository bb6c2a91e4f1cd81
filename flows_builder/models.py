"""Tenant-schema models: WhatsApp Flows, their tokens and responses, the business records they create,
and the data-exchange endpoint's key pairs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from messaging.models import Contact
from platform_core.crypto import EncryptedTextField
from waba import meta
from waba.models import PhoneNumber, WhatsAppAccount

FLOW_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,79}$"


def flow_json_hash(flow_json: Any) -> str:
    """A stable digest of a Flow JSON document: key order and whitespace do not change it."""
    canonical = json.dumps(flow_json, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class WhatsAppFlow(models.Model):
    """A WhatsApp Flow of the tenant: its Flow JSON here, its life at Meta tracked beside it.

    `meta_flow_id` is the Meta flow currently edited or published. Meta never lets a published flow
    change, so syncing a changed JSON after publication creates a new Meta flow (`version` + 1) and
    keeps the old ids in `superseded_meta_flow_ids`. `json_hash` is the hash of the JSON last
    uploaded without errors: "changed since the last sync" is derived from it, never stored.
    """

    class SyncStatus(models.TextChoices):
        DRAFT = "draft", "Draft"
        SYNCING = "syncing", "Syncing"
        PUBLISHED = "published", "Published"
        ERROR = "error", "Error"

    account = models.ForeignKey(WhatsAppAccount, on_delete=models.CASCADE, related_name="whatsapp_flows")
    name = models.CharField(
        max_length=80,
        unique=True,
        validators=[RegexValidator(FLOW_NAME_PATTERN, "Use lowercase letters, digits and underscores.")],
        help_text="Stable identifier; response processors and endpoint handlers are registered under it.",
    )
    friendly_name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    categories = models.JSONField(default=list)
    flow_json = models.JSONField()
    flow_definition_name = models.CharField(
        max_length=100, null=True, blank=True, help_text="The conversational flow this Flow belongs to."
    )
    trigger_keywords = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    endpoint_enabled = models.BooleanField(default=False, help_text="Uses the data-exchange endpoint.")
    # Meta encrypts endpoint requests with the key of the number the flow was sent from: the flow's
    # endpoint URI therefore names one number.
    endpoint_phone_number = models.ForeignKey(
        PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    meta_flow_id = models.CharField(max_length=64, blank=True, default="")
    meta_status = models.CharField(max_length=32, blank=True, default="")
    superseded_meta_flow_ids = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    sync_status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.DRAFT)
    sync_started_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True, default="")
    validation_errors = models.JSONField(default=list, blank=True, help_text="Meta's, from the last upload.")
    json_hash = models.CharField(max_length=64, blank=True, default="")
    last_synced_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "WhatsApp Flow"
        verbose_name_plural = "WhatsApp Flows"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meta_flow_id"], condition=~Q(meta_flow_id=""), name="whatsapp_flow_unique_meta_id"
            ),
        ]

    def __str__(self) -> str:
        return self.friendly_name or self.name

    @property
    def json_changed(self) -> bool:
        """True when the Flow JSON differs from what was last uploaded to Meta (or never was)."""
        return self.json_hash != flow_json_hash(self.flow_json)

    @property
    def first_screen(self) -> str | None:
        screens = self.flow_json.get("screens") if isinstance(self.flow_json, dict) else None
        if isinstance(screens, list) and screens and isinstance(screens[0], dict):
            return screens[0].get("id")
        return None

    def screen_ids(self) -> list[str]:
        screens = self.flow_json.get("screens") if isinstance(self.flow_json, dict) else None
        return [screen_id for s in screens or [] if isinstance(s, dict) and isinstance(screen_id := s.get("id"), str)]

    @property
    def meta_name(self) -> str:
        """The flow's name at Meta, unique per WABA: each new version needs its own."""
        return self.name if self.version == 1 else f"{self.name}_v{self.version}"

    @property
    def is_immutable_at_meta(self) -> bool:
        return (
            bool(self.meta_flow_id) and self.meta_status != meta.FlowStatus.DRAFT and bool(self.meta_status)
        )

    @property
    def can_send_published(self) -> bool:
        return self.meta_status in (meta.FlowStatus.PUBLISHED, meta.FlowStatus.THROTTLED)


class FlowToken(models.Model):
    """The `flow_token` sent with one flow message: ties a response (or endpoint call) to flow and contact."""

    token = models.CharField(max_length=128, unique=True)
    flow = models.ForeignKey(WhatsAppFlow, on_delete=models.CASCADE, related_name="tokens")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="flow_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True, help_text="When the flow was completed.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.flow.name} -> {self.contact_id}"

    def is_valid(self, at: Any = None) -> bool:
        """Usable by the endpoint: not expired and not completed yet."""
        at = at or timezone.now()
        return self.used_at is None and at < self.expires_at


class FlowResponse(models.Model):
    """One completed flow (an `nfm_reply`), kept whole whatever processing makes of it.

    Unique on `wamid`: a redelivered webhook finds its row and creates nothing. `flow` is empty when
    the token matched no flow (the data is kept anyway); `flow_name` survives the flow's deletion.
    """

    flow = models.ForeignKey(
        WhatsAppFlow, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    flow_name = models.CharField(max_length=80, blank=True, default="")
    flow_token = models.CharField(max_length=128, blank=True, default="", db_index=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="flow_responses"
    )
    wamid = models.CharField(max_length=256, unique=True)
    response_data = models.JSONField(default=dict)
    processed = models.BooleanField(default=False)
    processing_notes = models.TextField(blank=True, default="")
    processing_errors = models.JSONField(default=list, blank=True)
    record_type = models.CharField(max_length=64, blank=True, default="")
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["processed", "-created_at"], name="flow_response_processed")]

    def __str__(self) -> str:
        return f"{self.flow_name or 'unknown flow'} response {self.pk}"


# --- business records --------------------------------------------------------------------------
# Choice values are the option ids of the built-in flows' Flow JSON (a test keeps them in step).


class TimeSlot(models.TextChoices):
    MORNING = "morning", "Morning (08:00-12:00)"
    AFTERNOON = "afternoon", "Afternoon (12:00-16:00)"
    EVENING = "evening", "Evening (16:00-19:00)"


class RequestStatus(models.TextChoices):
    NEW = "new", "New"
    CONFIRMED = "confirmed", "Confirmed"
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class CustomerRecord(models.Model):
    """What every record a customer leaves through a Flow or its conversational flow carries: who,
    from which response, their notes, and where the business is with it."""

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flow_response = models.OneToOneField(
        FlowResponse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_name = models.CharField(max_length=200)
    customer_phone = models.CharField(max_length=20, help_text="E.164, e.g. +15550783881")
    customer_email = models.EmailField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.NEW)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class ServiceRequest(CustomerRecord):
    """Schedule and address fields every service request adds."""

    preferred_date = models.DateField()
    time_slot = models.CharField(max_length=16, choices=TimeSlot.choices)
    street = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20, blank=True, default="")

    class Meta(CustomerRecord.Meta):
        abstract = True


class TourInquiry(CustomerRecord):
    """A travel customer's question about a tour, from the tour-inquiry Flow or its conversational flow."""

    class Tour(models.TextChoices):
        SERENGETI_SAFARI = "serengeti_safari", "Serengeti safari, 5 days"
        ZANZIBAR_BEACH = "zanzibar_beach", "Zanzibar beach week"
        KILIMANJARO_TREK = "kilimanjaro_trek", "Kilimanjaro trek, 7 days"
        NAIROBI_CITY = "nairobi_city", "Nairobi city and parks"
        CUSTOM = "custom", "Something else"

    class Budget(models.TextChoices):
        UNDER_1000 = "under_1000", "Under 1,000 USD"
        FROM_1000_TO_3000 = "1000_3000", "1,000-3,000 USD"
        OVER_3000 = "over_3000", "Over 3,000 USD"

    tour = models.CharField(max_length=32, choices=Tour.choices)
    departure_date = models.DateField()
    return_date = models.DateField()
    travellers = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    budget = models.CharField(max_length=16, choices=Budget.choices, help_text="Per person.")

    class Meta(CustomerRecord.Meta):
        verbose_name_plural = "tour inquiries"
        constraints = [
            models.CheckConstraint(condition=Q(return_date__gte=models.F("departure_date")),
                                   name="tour_inquiry_returns_after_departure"),
            models.CheckConstraint(condition=Q(travellers__gte=1), name="tour_inquiry_travellers_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_tour_display()} for {self.customer_name} from {self.departure_date}"


class InstallationRequest(ServiceRequest):
    """A Starlink or solar installation booked through a flow."""

    class Kind(models.TextChoices):
        STARLINK = "starlink", "Starlink"
        SOLAR_INSTALLATION = "solar_installation", "Solar installation"

    class KitType(models.TextChoices):
        STANDARD = "standard", "Standard"
        STANDARD_ACTUATED = "standard_actuated", "Standard Actuated"
        MINI = "mini", "Mini"
        FLAT_HIGH_PERFORMANCE = "flat_high_performance", "Flat High Performance"
        ENTERPRISE = "enterprise", "Enterprise / Performance"

    class MountLocation(models.TextChoices):
        ROOF = "roof", "Roof"
        WALL = "wall", "Wall"
        POLE = "pole", "Pole"
        GROUND = "ground", "Ground"

    class InstallationType(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        COMMERCIAL = "commercial", "Commercial"
        OFF_GRID = "off_grid", "Off-grid"
        HYBRID = "hybrid", "Hybrid"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    kit_type = models.CharField(max_length=32, choices=KitType.choices, blank=True, default="")
    mount_location = models.CharField(max_length=16, choices=MountLocation.choices, blank=True, default="")
    installation_type = models.CharField(
        max_length=16, choices=InstallationType.choices, blank=True, default=""
    )
    order_number = models.CharField(max_length=64, blank=True, default="")

    class Meta(ServiceRequest.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="starlink") | (~Q(kit_type="") & ~Q(mount_location="")),
                name="installation_starlink_has_kit_and_mount",
            ),
            models.CheckConstraint(
                condition=~Q(kind="solar_installation") | (~Q(installation_type="") & ~Q(order_number="")),
                name="installation_solar_has_type_and_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.customer_name} on {self.preferred_date}"


class CleaningRequest(ServiceRequest):
    """A solar panel cleaning booked through a flow."""

    class RoofType(models.TextChoices):
        PITCHED_TILE = "pitched_tile", "Pitched, tiles"
        PITCHED_METAL = "pitched_metal", "Pitched, metal sheets"
        FLAT = "flat", "Flat roof"
        GROUND_MOUNT = "ground_mount", "Ground mounted"
        OTHER = "other", "Other"

    class PanelType(models.TextChoices):
        MONOCRYSTALLINE = "monocrystalline", "Monocrystalline"
        POLYCRYSTALLINE = "polycrystalline", "Polycrystalline"
        THIN_FILM = "thin_film", "Thin film"
        UNKNOWN = "unknown", "Not sure"

    roof_type = models.CharField(max_length=16, choices=RoofType.choices)
    panel_type = models.CharField(max_length=16, choices=PanelType.choices)
    panel_count = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta(ServiceRequest.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(panel_count__gte=1), name="cleaning_panel_count_positive"),
        ]

    def __str__(self) -> str:
        return f"Cleaning for {self.customer_name} on {self.preferred_date}"


# --- data-exchange endpoint --------------------------------------------------------------------


class FlowEndpointKey(models.Model):
    """The business key pair of one phone number for the data-exchange endpoint.

    The private key is stored encrypted; `key_version` grows on every rotation, so processes that
    cached the old key load the new one (the cache is keyed by it).
    """

    phone_number = models.OneToOneField(
        PhoneNumber, on_delete=models.CASCADE, related_name="flow_endpoint_key"
    )
    private_key_pem = EncryptedTextField()
    public_key_pem = models.TextField()
    key_version = models.PositiveIntegerField(default=1)
    uploaded_at = models.DateTimeField(null=True, blank=True, help_text="When Meta accepted the public key.")
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Endpoint key v{self.key_version} of {self.phone_number}"


class FlowExchangeConfig(models.Model):
    """How the platform answers a Flow's data-exchange requests when no handler in code serves it.

    `forward`: the decrypted request is POSTed to the tenant's `url`, signed with `secret` as
    Standard Webhooks defines it (`previous_secret` signs too until `previous_secret_expires_at`).
    `static`: `static_screens` maps the request's screen (or its action, e.g. `INIT`) to the
    answer `{"screen", "data"}`.
    """

    class Mode(models.TextChoices):
        FORWARD = "forward", "Forward to your endpoint"
        STATIC = "static", "Static answers"

    flow = models.OneToOneField(WhatsAppFlow, on_delete=models.CASCADE, related_name="exchange_config")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    url = models.CharField(max_length=2000, blank=True, default="")
    secret = EncryptedTextField(null=True, blank=True)
    previous_secret = EncryptedTextField(null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    static_screens = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Data exchange of {self.flow} ({self.mode})"
