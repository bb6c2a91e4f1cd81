"""Domain errors of the knowledge base: stable codes, one HTTP status each (see platform_core.api)."""

from __future__ import annotations

from platform_core.errors import DomainError


class FaqEntryNotFound(DomainError):
    code = "faq_entry_not_found"
    status = 404


class FaqEntryInvalid(DomainError):
    code = "invalid_faq_entry"
    status = 422
