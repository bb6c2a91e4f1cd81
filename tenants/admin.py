from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from platform_core.admin_sites import platform_admin_site, tenant_admin_site
from tenants import services
from tenants.context import TenantRequest
from tenants.models import ApiKey, Domain, Tenant
from tenants.selectors import customer_tenants


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class TenantStatusFilter(admin.SimpleListFilter):
    """Active or suspended: the statuses a listed (customer) tenant can have."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(status.value, str(status.label)) for status in (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> QuerySet[Tenant]:
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(Tenant, site=platform_admin_site)
class TenantAdmin(admin.ModelAdmin):
    """The businesses on the platform. The public schema and the template schema are tenant rows
    too (django-tenants needs them) but are no one's workspace, so they are not listed."""

    list_display = ["slug", "name", "status", "schema_name", "created_at"]
    list_filter = [TenantStatusFilter]
    search_fields = ["slug", "name"]
    readonly_fields = ["schema_name", "slug", "status", "suspended_at", "created_at"]
    fields = ["slug", "name", "schema_name", "status", "suspended_reason", "suspended_at", "created_at"]
    inlines = [DomainInline]
    actions = ["suspend", "resume"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return super().get_queryset(request).filter(pk__in=customer_tenants())

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
    """Tenants' host names. The public host names come from PLATFORM_DOMAIN and PUBLIC_HOSTS."""

    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Domain]:
        return super().get_queryset(request).filter(tenant__in=customer_tenants())

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tenant":
            kwargs["queryset"] = customer_tenants()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
