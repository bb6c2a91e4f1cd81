"""Routers of the tenants app: the platform API (public host) and the tenant's own keys and identity."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from platform_core.api import ShapedRows, paginated
from tenants import services
from tenants.context import TenantRequest
from tenants.hosts import tenant_base_url
from tenants.invitations import IssuedInvitation, tenant_user_invite
from tenants.models import ApiKey, Tenant
from tenants.schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeysRevokeAllIn,
    ApiKeysRevokedOut,
    InvitationIn,
    InvitationOut,
    MeOut,
    TenantCreatedOut,
    TenantDeleteIn,
    TenantIn,
    TenantOut,
    TenantSlug,
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


def _invitation_out(issued: IssuedInvitation, host_url: str) -> dict:
    return {
        "username": issued.invitation.username,
        "invitation_url": issued.url,
        "invitation_expires_at": issued.invitation.expires_at,
        "login_url": f"{host_url}/app/",
    }


@platform_router.post("/tenants", response={201: TenantCreatedOut})
def tenant_create(request: TenantRequest, payload: TenantIn):
    created = services.tenant_create(
        slug=payload.slug,
        name=payload.name,
        created_by=f"platform-key:{request.auth.prefix}",
        admin_username=payload.admin_username or "",
        admin_email=payload.admin_email or "",
    )
    host_url = tenant_base_url(domain=created.domain)
    return Status(
        201,
        {
            "tenant": _tenant_out(created.tenant),
            "admin": _invitation_out(created.admin_invitation, host_url),
            "api_key": {
                **ApiKeyOut.from_orm(created.api_key.api_key).dict(),
                "key": created.api_key.key,
                "api_url": f"{host_url}/api/v1/",
                "docs_url": f"{host_url}/api/v1/docs",
            },
        },
    )


@platform_router.post("/tenants/{slug}/invitations", response={201: InvitationOut})
def tenant_invitation_create(request: TenantRequest, slug: TenantSlug, payload: InvitationIn):
    """A new set-password link for a user of the tenant, e.g. when the first one expired: a missing
    user is created as a superuser; an existing one's password is replaced once the link is used.
    Earlier unused links of that user stop working."""
    tenant = services.tenant_get(slug=slug)
    issued = tenant_user_invite(
        tenant=tenant,
        username=payload.username.strip(),
        email=payload.email.strip(),
        created_by=f"platform-key:{request.auth.prefix}",
    )
    host_url = tenant_base_url(domain=tenant.domains.get(is_primary=True).domain)
    return Status(201, _invitation_out(issued, host_url))


@platform_router.get("/tenants", response=list[TenantOut])
@paginated
def tenant_list(request: HttpRequest, status: str | None = None):
    tenants = customer_tenants().prefetch_related("domains")
    if status:
        tenants = tenants.filter(status=status)
    return ShapedRows(tenants, _tenant_out)


@platform_router.get("/tenants/{slug}", response=TenantOut)
def tenant_get(request: HttpRequest, slug: TenantSlug):
    return _tenant_out(services.tenant_get(slug=slug))


@platform_router.post("/tenants/{slug}/suspend", response=TenantOut)
def tenant_suspend(request: HttpRequest, slug: TenantSlug, payload: TenantSuspendIn):
    return _tenant_out(services.tenant_suspend(tenant=services.tenant_get(slug=slug), reason=payload.reason))


@platform_router.post("/tenants/{slug}/resume", response=TenantOut)
def tenant_resume(request: HttpRequest, slug: TenantSlug):
    return _tenant_out(services.tenant_resume(tenant=services.tenant_get(slug=slug)))


@platform_router.delete("/tenants/{slug}", response={204: None})
def tenant_delete(request: HttpRequest, slug: TenantSlug, payload: TenantDeleteIn):
    services.tenant_delete(tenant=services.tenant_get(slug=slug), confirm=payload.confirm)
    return Status(204, None)


@platform_router.post("/api-keys/revoke-all", response=ApiKeysRevokedOut)
def platform_api_keys_revoke_all(request: TenantRequest, payload: ApiKeysRevokeAllIn):
    """Revoke every platform key; the calling key stays live unless `include_self` is true."""
    keep = None if payload.include_self else request.auth.id
    return {"revoked": services.api_keys_revoke_all(tenant=None, keep_key_id=keep)}


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
@paginated
def api_key_list(request: TenantRequest):
    return api_keys_of(tenant=request.tenant).order_by("-created_at", "-id")


@tenant_router.post("/api-keys", response={201: ApiKeyCreatedOut})
def api_key_create(request: TenantRequest, payload: ApiKeyIn):
    """A new key of this workspace, with at most the scopes of the key that creates it."""
    created = services.api_key_create(
        tenant=request.tenant,
        name=payload.name,
        created_by=f"api-key:{request.auth.prefix}",
        scopes=payload.scopes,
        expires_at=payload.expires_at,
        creator=request.auth,
    )
    key = created.api_key
    return Status(201, {**ApiKeyOut.from_orm(key).dict(), "key": created.key})


@tenant_router.post("/api-keys/revoke-all", response=ApiKeysRevokedOut)
def api_keys_revoke_all(request: TenantRequest, payload: ApiKeysRevokeAllIn):
    """Revoke every key of this workspace; the calling key stays live unless `include_self` is true."""
    keep = None if payload.include_self else request.auth.id
    return {"revoked": services.api_keys_revoke_all(tenant=request.tenant, keep_key_id=keep)}


@tenant_router.delete("/api-keys/{key_id}", response=ApiKeyOut)
def api_key_revoke(request: TenantRequest, key_id: int):
    return services.api_key_revoke(tenant=request.tenant, key_id=key_id)
