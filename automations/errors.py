"""Domain errors of the automation app: stable codes, one HTTP status each (see platform_core.api)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from platform_core.errors import DomainError


class NotFound(DomainError):
    status = 404


class WorkflowTemplateNotFound(NotFound):
    code = "workflow_template_not_found"


class WorkflowNotFound(NotFound):
    code = "workflow_not_found"


class ConversationStateNotFound(NotFound):
    code = "conversation_state_not_found"


class HandoffNotFound(NotFound):
    code = "handoff_not_found"


class CatalogueItemNotFound(NotFound):
    code = "catalogue_item_not_found"


class OrderNotFound(NotFound):
    code = "order_not_found"


class SupportTicketNotFound(NotFound):
    code = "support_ticket_not_found"


class ContactNotFound(NotFound):
    code = "contact_not_found"


class PhoneNumberNotFound(NotFound):
    code = "phone_number_not_found"


class WorkflowTemplateInvalid(DomainError):
    """The template breaks a rule; `details` lists `{field, message, ...}` per problem."""

    code = "invalid_workflow_template"
    status = 422


class WorkflowInvalid(DomainError):
    """The workflow definition breaks a rule; `details` lists `{field, message}` per problem."""

    code = "invalid_workflow"
    status = 422


class NameTaken(DomainError):
    code = "name_taken"
    status = 409


class InUse(DomainError):
    """Something still refers to the object: deleting it would break a workflow."""

    code = "in_use"
    status = 409


class HandoffAlreadyOpen(DomainError):
    code = "handoff_already_open"
    status = 409


class HandoffAlreadyClosed(DomainError):
    code = "handoff_already_closed"
    status = 409


class StatusTransitionInvalid(DomainError):
    code = "invalid_status_transition"
    status = 409


class CatalogueItemInvalid(DomainError):
    code = "invalid_catalogue_item"
    status = 422


class ActionFailed(Exception):
    """A workflow action could not do its job; `message` is said to the customer as is.

    Not a DomainError: it never reaches the API, the engine turns it into a reply.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputInvalid(Exception):
    """A customer's free-text answer does not satisfy the step's validator; `message` explains it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def problems_error(error: type[DomainError], problems: Sequence[dict[str, Any]], *, what: str) -> DomainError:
    """`error` carrying every problem in `details`, its message naming the count and the first one."""
    count = len(problems)
    first = f": {problems[0]['field']}: {problems[0]['message']}" if problems else ""
    return error(f"{count} problem{'s' if count != 1 else ''} in the {what}{first}", details=list(problems))
