"""Request and response bodies of the automation API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from platform_core.api import Int32, NonNegativeInt32, RowId
from waba.meta import TEXT_MESSAGE_MAX_CHARS

TemplateType = Literal["button", "list", "flow"]
MatchMode = Literal["exact", "contains", "starts_with", "regex"]


# --- workflow templates ------------------------------------------------------------------------------


class WorkflowTemplateIn(Schema):
    template_name: str
    type: TemplateType
    structure: dict[str, Any] = Field(description="Meta's interactive object; texts may use {placeholders}.")
    trigger_keywords: list[str] = Field(default_factory=list)
    match_mode: MatchMode = "contains"
    priority: Int32 = 0
    description: str = ""
    workflow: str | None = Field(default=None, description="Name of the workflow a keyword match starts.")
    is_active: bool = True


class WorkflowTemplatePatch(Schema):
    template_name: str | None = None
    type: TemplateType | None = None
    structure: dict[str, Any] | None = None
    trigger_keywords: list[str] | None = None
    match_mode: MatchMode | None = None
    priority: Int32 | None = None
    description: str | None = None
    workflow: str | None = Field(default=None, description="A workflow name; null unlinks.")
    is_active: bool | None = None


class WorkflowTemplateOut(Schema):
    id: int
    template_name: str
    description: str
    type: str
    trigger_keywords: list[str]
    match_mode: str
    priority: int
    structure: dict[str, Any]
    workflow: str | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_workflow(obj: Any) -> str | None:
        return obj.workflow.name if obj.workflow_id else None


class VersionOut(Schema):
    version: int
    changed_by: str
    created_at: datetime


class WorkflowTemplateVersionOut(VersionOut):
    snapshot: dict[str, Any]


class PreviewIn(Schema):
    context: dict[str, Any] = Field(default_factory=dict, description="Values for the {placeholders}.")


class PreviewOut(Schema):
    interactive: dict[str, Any]
    placeholders: list[str]
    missing: list[str] = Field(description="Placeholders the context did not fill.")


class KeywordMatchIn(Schema):
    text: str = Field(max_length=TEXT_MESSAGE_MAX_CHARS, description="A customer's message (at most 4,096 characters).")


class KeywordMatchOut(Schema):
    matched: bool
    template: WorkflowTemplateOut | None


# --- workflows -----------------------------------------------------------------------------------------


class WorkflowIn(Schema):
    name: str
    definition: dict[str, Any]
    description: str = ""
    is_active: bool = True
    is_main_menu: bool = False


class WorkflowPatch(Schema):
    name: str | None = None
    definition: dict[str, Any] | None = None
    description: str | None = None
    is_active: bool | None = None
    is_main_menu: bool | None = None


class WorkflowOut(Schema):
    id: int
    name: str
    description: str
    definition: dict[str, Any]
    is_active: bool
    is_main_menu: bool
    is_builtin: bool
    version: int
    created_at: datetime
    updated_at: datetime


class WorkflowVersionOut(VersionOut):
    definition: dict[str, Any]


class BuiltinsInstalledOut(Schema):
    created_templates: list[str]
    created_workflows: list[str]
    created_catalogue_items: list[str]
    kept: list[str]
    upgraded: list[str]


# --- conversation states and handoffs -----------------------------------------------------------------


class AutomationContactRef(Schema):
    id: int
    wa_id: str
    profile_name: str


class ConversationStateOut(Schema):
    id: int
    contact: AutomationContactRef
    phone_number_id: str
    workflow_name: str
    workflow_version: int
    current_step: str
    context: dict[str, Any]
    failed_attempts: int
    status: str
    started_at: datetime
    last_interaction_at: datetime
    expires_at: datetime
    ended_at: datetime | None

    @staticmethod
    def resolve_phone_number_id(obj: Any) -> str:
        return obj.phone_number.phone_number_id


class HandoffIn(Schema):
    contact_id: RowId
    phone_number_id: str = Field(description="Meta's id of the tenant's number the conversation is on.")
    reason: str = ""


class HandoffCloseIn(Schema):
    closed_by: str = ""


class HandoffOut(Schema):
    id: int
    contact: AutomationContactRef
    phone_number_id: str
    reason: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str

    @staticmethod
    def resolve_phone_number_id(obj: Any) -> str:
        return obj.phone_number.phone_number_id


# --- catalogue, orders, tickets -----------------------------------------------------------------------


class CatalogueItemIn(Schema):
    name: str
    price: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    description: str = ""
    category: str = ""
    is_active: bool = True
    position: NonNegativeInt32 = 0


class CatalogueItemPatch(Schema):
    name: str | None = None
    price: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    description: str | None = None
    category: str | None = None
    is_active: bool | None = None
    position: NonNegativeInt32 | None = None


class CatalogueItemOut(Schema):
    id: int
    name: str
    description: str
    category: str
    price: Decimal
    is_active: bool
    position: int


class OrderItemOut(Schema):
    name: str
    catalogue_item_id: int | None
    unit_price: Decimal
    quantity: int
    line_total: Decimal


class OrderOut(Schema):
    id: int
    number: str
    contact_id: int | None
    customer_wa_id: str
    phone_number_id: str | None
    status: str
    total: Decimal
    items: list[OrderItemOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_phone_number_id(obj: Any) -> str | None:
        return obj.phone_number.phone_number_id if obj.phone_number_id else None

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return list(obj.items.all())


class OrderStatusIn(Schema):
    status: Literal["confirmed", "preparing", "shipped", "delivered", "cancelled"]


class SupportTicketOut(Schema):
    id: int
    contact_id: int | None
    customer_wa_id: str
    phone_number_id: str | None
    issue_type: str
    description: str
    status: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_phone_number_id(obj: Any) -> str | None:
        return obj.phone_number.phone_number_id if obj.phone_number_id else None


class SupportTicketStatusIn(Schema):
    status: Literal["open", "in_progress", "closed"]
