"""Writes for the public schema: tenant provisioning and API keys."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.db.models.deletion import Collector
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_exists

from platform_core.errors import DomainError
from tenants.errors import (
    ApiKeyNotFound,
    DeletionNotConfirmed,
    TenantHasKeptRecords,
    TenantNotFound,
    TenantSlugInvalid,
    TenantSlugTaken,
)
from tenants.invitations import IssuedInvitation, tenant_user_invite, tenant_user_name_check
from tenants.models import (
    PLATFORM_KEY_SCOPES,
    TENANT_KEY_SCOPES,
    AccountHealthSummary,
    ApiKey,
    Domain,
    Tenant,
    WorkPending,
)
from tenants.schema_clone import schema_clone
from tenants.selectors import customer_tenants
from tenants.signals import api_keys_revoked, tenant_resumed

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
RESERVED_SLUGS = frozenset(
    {
        "public",
        "www",
        "admin",
        "api",
        "app",
        "static",
        "media",
        "webhooks",
        "webhook",
        "platform",
        "template",
        "tenant-template",
        "root",
        "mail",
        "smtp",
        "localhost",
        "status",
        "docs",
        "help",
        "support",
        "billing",
        "pg-catalog",
        "information-schema",
    }
)
# The first user's name when the request names neither a user name nor an e-mail address.
TENANT_ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    key: str  # shown once, only the hash is stored


@dataclass(frozen=True)
class CreatedTenant:
    tenant: Tenant
    domain: str
    admin_username: str
    admin_invitation: IssuedInvitation  # the first user sets a password with it; shown once
    api_key: CreatedApiKey  # the tenant's first API key, shown once


def tenant_slug_validate(slug: str) -> None:
    if not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug):
        raise TenantSlugInvalid(
            "A slug has 1 to 40 lowercase letters, digits and hyphens, and starts and ends with a letter or digit.",
            details=[{"field": "slug", "value": slug}],
        )
    if slug in RESERVED_SLUGS:
        raise TenantSlugInvalid(f"The slug {slug!r} is reserved.", details=[{"field": "slug", "value": slug}])


def tenant_schema_name(slug: str) -> str:
    return "t_" + slug.replace("-", "_")


def tenant_domain(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_DOMAIN}"


FIRST_API_KEY_NAME = "First key"


@transaction.atomic
def tenant_create(
    *, slug: str, name: str, created_by: str = "", admin_username: str = "", admin_email: str = ""
) -> CreatedTenant:
    """Create the tenant, its schema (copied from the template schema), domain, first admin user
    and first API key, so the new tenant can use its API at once.

    The first user (`admin_username`, else `admin_email`, else TENANT_ADMIN_USERNAME) has no usable
    password: it sets one through the returned invitation link. All or nothing: a failure at any
    step rolls back the schema too (PostgreSQL DDL is transactional).
    """
    tenant_slug_validate(slug)
    name = (name or "").strip()
    if not name:
        raise TenantSlugInvalid("A tenant needs a name.", details=[{"field": "name"}], code="invalid_name")
    admin_email = (admin_email or "").strip()
    admin_username = (admin_username or "").strip() or admin_email or TENANT_ADMIN_USERNAME
    tenant_user_name_check(
        username=admin_username, email=admin_email, fields=("admin_username", "admin_email")
    )
    if Tenant.objects.filter(slug=slug).exists() or schema_exists(tenant_schema_name(slug)):
        raise TenantSlugTaken(f"A tenant with the slug {slug!r} already exists.", details=[{"field": "slug"}])

    tenant = Tenant(slug=slug, name=name, schema_name=tenant_schema_name(slug))
    tenant.save()
    schema_clone(source=settings.TENANT_BASE_SCHEMA, target=tenant.schema_name)
    domain = Domain.objects.create(domain=tenant_domain(slug), tenant=tenant, is_primary=True)

    invitation = tenant_user_invite(
        tenant=tenant, username=admin_username, email=admin_email, created_by=created_by
    )
    api_key = api_key_create(tenant=tenant, name=FIRST_API_KEY_NAME, created_by=created_by)
    return CreatedTenant(
        tenant=tenant,
        domain=domain.domain,
        admin_username=admin_username,
        admin_invitation=invitation,
        api_key=api_key,
    )


def tenant_get(*, slug: str) -> Tenant:
    try:
        return customer_tenants().get(slug=slug)
    except Tenant.DoesNotExist:
        raise TenantNotFound(f"No tenant with the slug {slug!r}.") from None


def tenant_suspend(*, tenant: Tenant, reason: str = "") -> Tenant:
    """Suspend the tenant: its API answers 403, its webhooks wait as dead letters, and the send
    workers stop sending for it at their next sweep (SEND_SWEEP_INTERVAL_S), its queue held."""
    tenant.status = Tenant.Status.SUSPENDED
    tenant.suspended_reason = reason[:500]
    tenant.suspended_at = timezone.now()
    tenant.save(update_fields=["status", "suspended_reason", "suspended_at"])
    return tenant


def tenant_resume(*, tenant: Tenant) -> Tenant:
    """Make the tenant active again; receivers of `tenant_resumed` then release what waited for it
    (the webhook router replays its dead letters; send workers pick its queue up at their next sweep)."""
    tenant.status = Tenant.Status.ACTIVE
    tenant.suspended_reason = ""
    tenant.suspended_at = None
    tenant.save(update_fields=["status", "suspended_reason", "suspended_at"])
    tenant_resumed.send_in_savepoints(sender=Tenant, tenant=tenant)
    return tenant


@transaction.atomic
def tenant_delete(*, tenant: Tenant, confirm: str | None) -> None:
    """Delete the tenant row, its domains and keys, and drop its schema with all its data.

    Refused (409 `tenant_has_<records>`) while rows kept for the accounts protect it (billing's statements)."""
    if confirm != tenant.slug:
        raise DeletionNotConfirmed(
            f"Deleting drops every piece of this tenant's data. Send confirm={tenant.slug!r} to proceed.",
            details=[{"field": "confirm", "expected": tenant.slug}],
        )
    try:
        Collector(using=tenant._state.db or "default").collect([tenant])  # refuses before the drop
    except ProtectedError as error:
        kept = Counter(str(type(row)._meta.verbose_name_plural) for row in error.protected_objects)
        names = " and ".join(f"{count} {name}" for name, count in kept.items())
        raise TenantHasKeptRecords(
            f"Tenant {tenant.slug!r} has {names}, kept for the accounts: it cannot be deleted. "
            f"Suspend it instead (POST /api/platform/tenants/{tenant.slug}/suspend) to stop its use.",
            code="tenant_has_" + "_".join(name.replace(" ", "_") for name in kept),
            details={"kept": dict(kept)},
        ) from None
    schema = tenant.schema_name
    tenant.delete(force_drop=True)
    WorkPending.objects.filter(schema_name=schema).delete()
    AccountHealthSummary.objects.filter(schema_name=schema).delete()


@transaction.atomic
def public_tenant_ensure() -> Tenant:
    """The public tenant row and its domains (PLATFORM_DOMAIN and PUBLIC_HOSTS). Idempotent."""
    public, _ = Tenant.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"slug": "public", "name": "Platform"},
    )
    for index, host in enumerate(dict.fromkeys(settings.PUBLIC_HOSTS)):
        Domain.objects.get_or_create(domain=host, defaults={"tenant": public, "is_primary": index == 0})
    return public


def template_schema_ensure(verbosity: int = 0) -> Tenant:
    """The migrated template schema that new tenants are copied from. Idempotent.

    It is registered as a tenant row (status TEMPLATE, no domain) so that
    `migrate_schemas` keeps it migrated together with every real tenant.
    """
    template = Tenant.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).first()
    if template is None:
        template = Tenant(
            schema_name=settings.TENANT_BASE_SCHEMA,
            slug="tenant-template",
            name="Template schema",
            status=Tenant.Status.TEMPLATE,
        )
        template.save()
    # Runs every tenant migration in the template once; a no-op when the schema exists.
    template.create_schema(check_if_exists=True, verbosity=verbosity)
    return template


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# The last use of a key is written at most this often, so a busy key costs no write per request.
API_KEY_LAST_USED_INTERVAL = timedelta(minutes=1)


class ApiKeyScopeInvalid(DomainError):
    code = "invalid_scope"
    status = 422


class ApiKeyExpiryInvalid(DomainError):
    code = "invalid_expiry"
    status = 422


class ScopeExceedsCreator(DomainError):
    """A key tried to mint a key that may do more than itself."""

    code = "scope_exceeds_creator"
    status = 403


class ApiKeyExpired(DomainError):
    code = "api_key_expired"
    status = 401


def api_key_scopes_of_kind(tenant: Tenant | None) -> tuple[str, ...]:
    """Every scope a tenant key (or, for `tenant=None`, a platform key) can hold, in display order."""
    return TENANT_KEY_SCOPES if tenant is not None else PLATFORM_KEY_SCOPES


def _api_key_scopes_choose(
    *, tenant: Tenant | None, scopes: Iterable[str] | None, creator: ApiKey | None
) -> list[str]:
    known = api_key_scopes_of_kind(tenant)
    if scopes is None:
        # Without a choice a key gets what its creator holds; a person (admin, console) grants all.
        wanted = set(creator.scope_list if creator is not None else known)
    else:
        wanted = set(scopes)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ApiKeyScopeInvalid(
            f"Unknown scope(s): {', '.join(unknown)}. Valid scopes: {', '.join(known)}.",
            details={"unknown": unknown, "valid": list(known)},
        )
    if not wanted:
        raise ApiKeyScopeInvalid("A key needs at least one scope.", details={"valid": list(known)})
    if creator is not None:
        beyond = [scope for scope in known if scope in wanted and not creator.has_scope(scope)]
        if beyond:
            raise ScopeExceedsCreator(
                f"A key cannot grant more than it holds: this key lacks {', '.join(beyond)} "
                f"(its scopes: {', '.join(creator.scope_list) or 'none'}).",
                details={"exceeding": beyond, "creator_scopes": creator.scope_list},
            )
    return [scope for scope in known if scope in wanted]


def api_key_create(
    *,
    tenant: Tenant | None,
    name: str,
    created_by: str = "",
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    creator: ApiKey | None = None,
) -> CreatedApiKey:
    """Mint a key. `tenant=None` makes a platform key for the platform API.

    `scopes=None` grants the creating key's scopes, or every scope when a person creates it;
    a `creator` key may grant only scopes it holds itself.
    """
    chosen = _api_key_scopes_choose(tenant=tenant, scopes=scopes, creator=creator)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyExpiryInvalid("expires_at must be in the future.")
    prefix_marker = settings.PLATFORM_API_KEY_PREFIX if tenant is None else settings.API_KEY_PREFIX
    public_part = prefix_marker + secrets.token_hex(4)
    key = f"{public_part}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        tenant=tenant,
        name=name.strip()[:100] or "API key",
        prefix=public_part,
        key_hash=_hash_key(key),
        created_by=created_by[:150],
        scopes=" ".join(chosen),
        expires_at=expires_at,
    )
    return CreatedApiKey(api_key=api_key, key=key)


def api_key_revoke(*, tenant: Tenant | None, key_id: int) -> ApiKey:
    """Revoke one of `tenant`'s keys (None: a platform key). Another tenant's key id is not found."""
    try:
        api_key = ApiKey.objects.get(id=key_id, tenant=tenant)
    except ApiKey.DoesNotExist:
        raise ApiKeyNotFound(f"No API key with id {key_id}.") from None
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_keys_revoke_all(*, tenant: Tenant | None, keep_key_id: int | None = None) -> int:
    """Revoke every live key of `tenant` (None: platform keys) but `keep_key_id`; how many were revoked."""
    live = ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True)
    if keep_key_id is not None:
        live = live.exclude(id=keep_key_id)
    now = timezone.now()
    with transaction.atomic():
        revoked = list(live.select_for_update().only("id", "name", "prefix"))
        ApiKey.objects.filter(id__in=[api_key.id for api_key in revoked]).update(revoked_at=now)
        for api_key in revoked:
            api_key.revoked_at = now
        api_keys_revoked.send(sender=ApiKey, api_keys=revoked)
    return len(revoked)


def _ip_or_none(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def api_key_authenticate(*, key: str, tenant: Tenant | None, address: str = "") -> ApiKey | None:
    """The live key matching `key` that belongs to `tenant` (None: platform keys), else None.

    Raises ApiKeyExpired for a key of `tenant` past its `expires_at`, so its holder learns why. Records
    when and from which address (`address`, the client's IP) the key was last used, at most once a
    minute per key.
    """
    if not key or len(key) > 200:
        return None
    api_key = ApiKey.objects.filter(key_hash=_hash_key(key), revoked_at__isnull=True).first()
    if api_key is None or api_key.tenant_id != (tenant.id if tenant else None):
        return None
    now = timezone.now()
    if api_key.is_expired(now):
        raise ApiKeyExpired(
            f"This API key expired at {api_key.expires_at.isoformat() if api_key.expires_at else ''}; "
            "create a new one."
        )
    stale_before = now - API_KEY_LAST_USED_INTERVAL
    if api_key.last_used_at is None or api_key.last_used_at <= stale_before:
        # The condition is repeated in the UPDATE so concurrent requests write it once.
        ApiKey.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before), id=api_key.id
        ).update(last_used_at=now, last_used_from=_ip_or_none(address))
    return api_key
