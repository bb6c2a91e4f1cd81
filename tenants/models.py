"""Public-schema models: tenants, their domains, API keys and the Meta routing index."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from platform_core.crypto import EncryptedTextField


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        # The migrated schema that new tenants are copied from; never served.
        TEMPLATE = "template", "Template"

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspended_reason = models.CharField(max_length=500, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas are created by tenants.services (a copy of the template schema), not on save.
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class Domain(DomainMixin):
    def __str__(self) -> str:
        return self.domain


# What a tenant key may do; tenants.auth maps each request of the tenant API to one of these.
SCOPE_READ = "read"
SCOPE_SEND = "send"
SCOPE_MANAGE = "manage"
SCOPE_KEYS = "keys"
SCOPE_BILLING = "billing"
TENANT_KEY_SCOPES = (SCOPE_READ, SCOPE_SEND, SCOPE_MANAGE, SCOPE_KEYS, SCOPE_BILLING)

# What a platform key may do on the platform API.
SCOPE_TENANTS_READ = "tenants:read"
SCOPE_TENANTS_WRITE = "tenants:write"
SCOPE_TENANTS_DELETE = "tenants:delete"
PLATFORM_KEY_SCOPES = (SCOPE_TENANTS_READ, SCOPE_TENANTS_WRITE, SCOPE_TENANTS_DELETE, SCOPE_BILLING)


class ApiKey(models.Model):
    """A bearer key. Only its SHA-256 hash is stored; the full key is shown once.

    A key with a tenant is valid only on that tenant's host; a key without one is a
    platform key for the platform API on the public host. A key may do only what its
    `scopes` allow, and nothing after `expires_at`.
    """

    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="The visible start of the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Space-separated, as OAuth writes them; empty allows nothing. Set by tenants.services.api_key_create.
    scopes = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_platform_key(self) -> bool:
        return self.tenant_id is None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list


class MetaRoute(models.Model):
    """The routing index: which tenant owns a Meta WABA id or phone_number_id.

    One row per external id, platform-wide: the unique constraint is what makes
    the second tenant that claims the same WABA or number fail (409). The webhook
    router reads it (through tenants.selectors.route_lookup) to pick the schema.
    """

    class Kind(models.TextChoices):
        WABA = "waba", "WhatsApp Business Account"
        PHONE_NUMBER = "phone_number", "Phone number"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    external_id = models.CharField(max_length=64)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="meta_routes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Meta route"
        verbose_name_plural = "Meta routes"
        constraints = [models.UniqueConstraint(fields=["kind", "external_id"], name="meta_route_unique_id")]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} -> {self.tenant_id}"


class MetaApp(models.Model):
    """A Meta app whose webhooks arrive at /webhooks/whatsapp/<app_id>.

    Kept in the public schema so the webhook endpoint knows the app secret (to
    verify the signature) and the verify token before it parses anything. The
    platform's own app has no tenant; a tenant-supplied app belongs to the tenant
    that registered it first.
    """

    app_id = models.CharField(max_length=64, unique=True)
    app_secret = EncryptedTextField(null=True, blank=True)
    # Compared with hub.verify_token in constant time by webhooks.views.
    verify_token = EncryptedTextField(null=True, blank=True)
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="meta_apps"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Meta app"
        verbose_name_plural = "Meta apps"

    def __str__(self) -> str:
        return f"Meta app {self.app_id}"


class Invitation(models.Model):
    """A single-use link with which a tenant's user sets their own password.

    Only the SHA-256 of the link's token is stored. It works on its tenant's host only, until
    `expires_at`, and once: `used_at` is set when the password is set.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    username = models.CharField(max_length=150)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.username} to {self.tenant_id}"


class WorkPending(models.Model):
    """A tenant schema has work of one kind due from `due_at`: the index workers and schedules read
    instead of visiting every schema (tenants.work_pending)."""

    schema_name = models.CharField(max_length=63)
    kind = models.CharField(max_length=32)
    due_at = models.DateTimeField()
    # Bumped by every announcement: a worker clears the row only if nobody announced since it looked.
    version = models.BigIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schema_name", "kind"], name="tenants_work_pending_unique")]
        indexes = [models.Index(fields=["kind", "due_at"], name="tenants_work_pending_due")]

    def __str__(self) -> str:
        return f"{self.kind} in {self.schema_name} from {self.due_at:%Y-%m-%d %H:%M:%S}"


class AccountHealthSummary(models.Model):
    """One tenant's WhatsApp accounts in a row, kept by the health checks: what the platform
    console's account-health page lists without entering any tenant schema."""

    schema_name = models.CharField(max_length=63, unique=True)
    accounts = models.PositiveIntegerField(default=0)
    unhealthy = models.PositiveIntegerField(default=0)
    worst_quality = models.CharField(max_length=16, blank=True)
    # 1 (RED) .. 3 (GREEN), 4 when no number has a rating: the page sorts on it.
    worst_quality_rank = models.PositiveSmallIntegerField(default=4)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(
                models.F("unhealthy").desc(), "worst_quality_rank", "schema_name", name="tenants_health_summary_rank"
            )
        ]

    def __str__(self) -> str:
        return f"{self.schema_name}: {self.unhealthy}/{self.accounts} unhealthy"


class AccountHealthEntry(models.Model):
    """One WhatsApp account of a tenant as its health summary last stored it: a row of the platform
    API's account-health list, read without entering the tenant's schema."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="account_health_entries")
    account_id = models.BigIntegerField()
    waba_id = models.CharField(max_length=64, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16)
    status_reason = models.TextField(blank=True)
    worst_quality = models.CharField(max_length=16, null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_healthy = models.BooleanField(null=True)
    # [{phone_number_id, display_phone_number, quality_rating, messaging_limit_tier, status}], by id.
    phone_numbers = models.JSONField(default=list)
    # 0 unhealthy, 1 last check failed or inconclusive, 2 suspended, 3 active, 4 other: the list's order.
    health_rank = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "account_id"], name="tenants_account_health_entry_unique")
        ]
        indexes = [
            models.Index(fields=["health_rank", "tenant", "account_id"], name="tenants_account_health_rank")
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} of tenant {self.tenant_id}: {self.status}"
