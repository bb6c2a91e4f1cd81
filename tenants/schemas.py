from __future__ import annotations

from datetime import datetime

from ninja import Schema


class TenantIn(Schema):
    slug: str
    name: str


class TenantOut(Schema):
    slug: str
    name: str
    status: str
    schema_name: str
    domain: str | None
    suspended_reason: str
    created_at: datetime


class TenantAdminCredentials(Schema):
    username: str
    password: str
    login_url: str
    note: str = "The password is shown once. Change it after the first login."


class TenantCreatedOut(Schema):
    tenant: TenantOut
    admin: TenantAdminCredentials


class TenantSuspendIn(Schema):
    reason: str = ""


class TenantDeleteIn(Schema):
    confirm: str | None = None


class ApiKeyIn(Schema):
    name: str


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str
    note: str = "The key is shown once; only its hash is stored."


class MeOut(Schema):
    tenant_slug: str
    tenant_name: str
    tenant_status: str
    api_key_id: int
    api_key_name: str
    api_key_prefix: str
