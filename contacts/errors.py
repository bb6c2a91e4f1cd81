"""Domain errors of contacts (stable codes; one API error shape)."""

from __future__ import annotations

from platform_core.errors import DomainError


class ContactNotFound(DomainError):
    code = "contact_not_found"
    status = 404


class ContactExists(DomainError):
    code = "contact_exists"
    status = 409


class ContactInvalid(DomainError):
    """A field's value is refused; `details` lists each field as {field, message, code}."""

    code = "validation_error"
    status = 422


class AttributeDefinitionNotFound(DomainError):
    code = "attribute_not_found"
    status = 404


class AttributeDefinitionInvalid(DomainError):
    code = "validation_error"
    status = 422


class ImportJobNotFound(DomainError):
    code = "import_not_found"
    status = 404


class ImportInvalid(DomainError):
    code = "import_invalid"
    status = 422


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status = 422
