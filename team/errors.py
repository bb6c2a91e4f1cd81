from __future__ import annotations

from platform_core.errors import DomainError


class AreaForbidden(DomainError):
    """The user's role does not open this console area (or not to change it)."""

    code = "role_forbidden"
    status = 403


class KeyScopeBeyondRole(DomainError):
    code = "scope_beyond_role"
    status = 403


class RoleChangeRefused(DomainError):
    code = "role_change_refused"
    status = 403


class LastOwner(DomainError):
    code = "last_owner"
    status = 409


class MemberExists(DomainError):
    code = "member_exists"
    status = 409


class MemberNotFound(DomainError):
    code = "member_not_found"
    status = 404


class MemberAccountUnknown(DomainError):
    code = "account_not_found"
    status = 422


class RoleUnknown(DomainError):
    code = "role_unknown"
    status = 422
