from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from platform_core.admin_sites import platform_admin_site, tenant_admin_site
from tenants import services
from tenants.context import TenantRequest
from tenants.models import ApiKey, Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant, site=platform_admin_site)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "status", "schema_name", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]
    readonly_fields = ["schema_name", "slug", "status", "suspended_at", "created_at"]
    fields = ["slug", "name", "schema_name", "status", "suspended_reason", "suspended_at", "created_at"]
    inlines = [DomainInline]
    actions = ["suspend", "resume"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tenants are created through POST /api/platform/tenants, which also provisions the admin user.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        # Deleting drops a schema: only through the API, with an explicit confirmation.
        return False

    @admin.action(description="Suspend the selected tenants")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            services.tenant_suspend(tenant=tenant, reason="Suspended from the platform admin")
        self.message_user(request, f"Suspended {queryset.count()} tenant(s).")

    @admin.action(description="Resume the selected tenants")
    def resume(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            services.tenant_resume(tenant=tenant)
        self.message_user(request, f"Resumed {queryset.count()} tenant(s).")


@admin.register(Domain, site=platform_admin_site)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain"]


class ApiKeyAdminBase(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", *readonly_fields]
    actions = ["revoke"]

    def key_owner(self, request: HttpRequest) -> Tenant | None:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return super().get_queryset(request).filter(tenant=self.key_owner(request))

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        created = services.api_key_create(
            tenant=self.key_owner(request), name=obj.name, created_by=request.user.get_username()
        )
        obj.pk = created.api_key.pk
        obj.__dict__.update(created.api_key.__dict__)
        self.message_user(request, f"New key (shown only once, copy it now): {created.key}", messages.WARNING)

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(tenant=self.key_owner(request), key_id=api_key.id)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


@admin.register(ApiKey, site=platform_admin_site)
class PlatformApiKeyAdmin(ApiKeyAdminBase):
    """Platform keys (for /api/platform/). Tenant keys are managed on each tenant's own admin."""

    def key_owner(self, request: HttpRequest) -> Tenant | None:
        return None


@admin.register(ApiKey, site=tenant_admin_site)
class TenantApiKeyAdmin(ApiKeyAdminBase):
    def key_owner(self, request: HttpRequest) -> Tenant | None:
        return cast(TenantRequest, request).tenant
