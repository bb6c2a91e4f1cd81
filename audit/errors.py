"""The audit log's errors (platform_core.errors shapes them)."""

from __future__ import annotations

from platform_core.errors import DomainError


class AuditFilterInvalid(DomainError):
    code = "invalid_filter"
    status = 422
