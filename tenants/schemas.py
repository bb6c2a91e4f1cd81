from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Schema

from platform_core.api import UtcDateTime
from tenants.models import TENANT_KEY_SCOPES, ApiKey
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
    username: str = Field(
        max_length=150, description="Created (as a superuser) when the tenant has no such user."
    )
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
    scopes: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None,
        max_length=len(TENANT_KEY_SCOPES),
        description=f"Any of {', '.join(TENANT_KEY_SCOPES)}; at most the scopes of the key that creates it. "
        "Defaults to the creating key's scopes.",
    )
    expires_at: UtcDateTime | None = Field(
        None, description="After this time the key answers 401 api_key_expired."
    )


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_from: str | None = Field(description="The address the key was last used from.")
    revoked_at: datetime | None

    @staticmethod
    def resolve_scopes(obj: ApiKey | dict) -> list[str]:
        # A key, or a key already shaped by this schema with the clear key added (ApiKeyCreatedOut).
        return obj["scopes"] if isinstance(obj, dict) else obj.scope_list


class ApiKeysRevokeAllIn(Schema):
    include_self: bool = Field(False, description="Revoke the key making this request too.")


class ApiKeysRevokedOut(Schema):
    revoked: int


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
