"""Domain errors of the tenants app. Each carries a stable code; the API maps them to one error shape."""

from __future__ import annotations

from platform_core.errors import DomainError


class TenantSlugInvalid(DomainError):
    code = "invalid_slug"
    status = 422


class TenantSlugTaken(DomainError):
    code = "slug_taken"
    status = 409


class TenantNotFound(DomainError):
    code = "not_found"
    status = 404


class DeletionNotConfirmed(DomainError):
    code = "confirmation_required"
    status = 422


class TenantHasKeptRecords(DomainError):
    """Records a higher app keeps for the accounts (PROTECT on the tenant) stop its deletion;
    the code names them, e.g. `tenant_has_statements`."""

    code = "tenant_has_kept_records"
    status = 409


class ApiKeyNotFound(DomainError):
    code = "not_found"
    status = 404


class TenantContextMissing(DomainError):
    """A tenant-scoped job was asked to run without a tenant schema."""

    code = "tenant_context_missing"
    status = 500


class TenantUserInvalid(DomainError):
    """The first user's name or e-mail address is malformed."""

    code = "invalid_user"
    status = 422


class InvitationNotFound(DomainError):
    code = "invitation_not_found"
    status = 404


class InvitationGone(DomainError):
    """The link was used already, or expired (`code` says which)."""

    code = "invitation_gone"
    status = 410
