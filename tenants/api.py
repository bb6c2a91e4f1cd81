"""Routers of the tenants app: the platform API (public host) and the tenant's own keys and identity."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from tenants import services
from tenants.context import TenantRequest
from tenants.models import ApiKey, Tenant
from tenants.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    MeOut,
    TenantCreatedOut,
    TenantDeleteIn,
    TenantIn,
    TenantOut,
    TenantSuspendIn,
)
from tenants.selectors import api_keys_of, customer_tenants

platform_router = Router(tags=["platform: tenants"])
tenant_router = Router(tags=["identity and API keys"])


def _tenant_out(tenant: Tenant) -> dict:
    primary = tenant.domains.filter(is_primary=True).first()
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "status": tenant.status,
        "schema_name": tenant.schema_name,
        "domain": primary.domain if primary else None,
        "suspended_reason": tenant.suspended_reason,
        "created_at": tenant.created_at,
    }


def _login_url(domain: str) -> str:
    port = "" if settings.PLATFORM_PORT in (80, 443) else f":{settings.PLATFORM_PORT}"
    return f"http://{domain}{port}/admin/"


@platform_router.post("/tenants", response={201: TenantCreatedOut})
def tenant_create(request: HttpRequest, payload: TenantIn):
    created = services.tenant_create(slug=payload.slug, name=payload.name)
    return Status(
        201,
        {
            "tenant": _tenant_out(created.tenant),
            "admin": {
                "username": created.admin_username,
                "password": created.admin_password,
                "login_url": _login_url(created.domain),
            },
        },
    )


@platform_router.get("/tenants", response=list[TenantOut])
def tenant_list(request: HttpRequest, status: str | None = None):
    tenants = customer_tenants().prefetch_related("domains")
    if status:
        tenants = tenants.filter(status=status)
    return [_tenant_out(tenant) for tenant in tenants]


@platform_router.get("/tenants/{slug}", response=TenantOut)
def tenant_get(request: HttpRequest, slug: str):
    return _tenant_out(services.tenant_get(slug=slug))


@platform_router.post("/tenants/{slug}/suspend", response=TenantOut)
def tenant_suspend(request: HttpRequest, slug: str, payload: TenantSuspendIn):
    return _tenant_out(services.tenant_suspend(tenant=services.tenant_get(slug=slug), reason=payload.reason))


@platform_router.post("/tenants/{slug}/resume", response=TenantOut)
def tenant_resume(request: HttpRequest, slug: str):
    return _tenant_out(services.tenant_resume(tenant=services.tenant_get(slug=slug)))


@platform_router.delete("/tenants/{slug}", response={204: None})
def tenant_delete(request: HttpRequest, slug: str, payload: TenantDeleteIn):
    services.tenant_delete(tenant=services.tenant_get(slug=slug), confirm=payload.confirm)
    return Status(204, None)


@tenant_router.get("/me", response=MeOut)
def me(request: TenantRequest):
    api_key: ApiKey = request.auth
    tenant: Tenant = request.tenant
    return {
        "tenant_slug": tenant.slug,
        "tenant_name": tenant.name,
        "tenant_status": tenant.status,
        "api_key_id": api_key.id,
        "api_key_name": api_key.name,
        "api_key_prefix": api_key.prefix,
    }


@tenant_router.get("/api-keys", response=list[ApiKeyOut])
def api_key_list(request: TenantRequest):
    return list(api_keys_of(tenant=request.tenant))


@tenant_router.post("/api-keys", response={201: ApiKeyCreatedOut})
def api_key_create(request: TenantRequest, payload: ApiKeyIn):
    created = services.api_key_create(
        tenant=request.tenant, name=payload.name, created_by=f"api-key:{request.auth.prefix}"
    )
    key = created.api_key
    return Status(201, {**ApiKeyOut.from_orm(key).dict(), "key": created.key})


@tenant_router.delete("/api-keys/{key_id}", response=ApiKeyOut)
def api_key_revoke(request: TenantRequest, key_id: int):
    return services.api_key_revoke(tenant=request.tenant, key_id=key_id)
