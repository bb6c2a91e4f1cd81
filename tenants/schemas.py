from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Schema

from tenants.services import SLUG_PATTERN


class TenantIn(Schema):
    slug: str
    name: str
    admin_username: str | None = Field(
        None, max_length=150, description="The first user's name; defaults to admin_email, else 'admin'."
    )
    admin_email: str | None = Field(None, max_length=254, description="The first user's e-mail address.")


class TenantOut(Schema):
    slug: str
    name: str
    status: str
    schema_name: str
    domain: str | None
    suspended_reason: str
    created_at: datetime


class InvitationIn(Schema):
    username: str = Field(max_length=150, description="Created (as a superuser) when the tenant has no such user.")
    email: str = Field("", max_length=254)


class InvitationOut(Schema):
    username: str
    invitation_url: str
    invitation_expires_at: datetime
    login_url: str
    note: str = (
        "Send the invitation link to the user: it opens a page on the tenant's host where they set their own "
        "password, then log in at login_url. It works once, until invitation_expires_at, and is shown once."
    )


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


class TenantFirstApiKeyOut(ApiKeyCreatedOut):
    api_url: str
    docs_url: str
    note: str = (
        "The tenant's first API key, valid only on the tenant's host. It is shown once; only its hash "
        "is stored. Send it as 'Authorization: Bearer <key>'."
    )


class TenantCreatedOut(Schema):
    tenant: TenantOut
    admin: InvitationOut
    api_key: TenantFirstApiKeyOut


class MeOut(Schema):
    tenant_slug: str
    tenant_name: str
    tenant_status: str
    api_key_id: int
    api_key_name: str
    api_key_prefix: str


TenantSlug = Annotated[str, Path(pattern=SLUG_PATTERN.pattern, description="The tenant's slug.")]
"""A tenant in a URL: anything that cannot be a slug (a NUL, a slash) is a 422 naming `path.slug`."""

