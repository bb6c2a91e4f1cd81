"""The registries that workflow definitions name: actions (`"action": "create_order"`) and renderers.

An action runs when a step is entered and returns context updates (or raises ActionFailed with
a message for the customer). A renderer builds a step's interactive message from live data (the
catalogue's product list). Both run inside the tenant's schema and the engine's transaction.

    @workflow_action("create_order")
    def create_order(run: ActionContext) -> dict[str, Any]: ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from messaging.models import Contact, Message
from waba.models import PhoneNumber


@dataclass(frozen=True)
class ActionContext:
    contact: Contact
    phone_number: PhoneNumber
    context: Mapping[str, Any]
    now: datetime
    message: Message | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


WorkflowAction = Callable[[ActionContext], Mapping[str, Any] | None]
WorkflowRenderer = Callable[[ActionContext], dict[str, Any]]

WORKFLOW_ACTIONS: dict[str, WorkflowAction] = {}
WORKFLOW_RENDERERS: dict[str, WorkflowRenderer] = {}


def workflow_action(name: str) -> Callable[[WorkflowAction], WorkflowAction]:
    def register(func: WorkflowAction) -> WorkflowAction:
        WORKFLOW_ACTIONS[name] = func
        return func

    return register


def workflow_renderer(name: str) -> Callable[[WorkflowRenderer], WorkflowRenderer]:
    def register(func: WorkflowRenderer) -> WorkflowRenderer:
        WORKFLOW_RENDERERS[name] = func
        return func

    return register
