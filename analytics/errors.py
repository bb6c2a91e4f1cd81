"""Domain errors of the analytics app: stable codes, mapped to the one API error shape."""

from __future__ import annotations

from platform_core.errors import DomainError


class AccountNotFound(DomainError):
    code = "account_not_found"
    status = 404


class TemplateNotFound(DomainError):
    code = "template_not_found"
    status = 404


class WorkflowNotFound(DomainError):
    code = "workflow_not_found"
    status = 404
