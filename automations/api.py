"""Tenant API of the automations: workflow templates, workflows, conversation states, handoffs,
catalogue, orders and support tickets. Each endpoint parses, calls one service, shapes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from automations import selectors, services
from automations.errors import (
    CatalogueItemInvalid,
    ContactNotFound,
    PhoneNumberNotFound,
    WorkflowInvalid,
    WorkflowTemplateInvalid,
)
from automations.schemas import (
    BuiltinsInstalledOut,
    CatalogueItemIn,
    CatalogueItemOut,
    CatalogueItemPatch,
    ConversationStateOut,
    HandoffCloseIn,
    HandoffIn,
    HandoffOut,
    KeywordMatchIn,
    KeywordMatchOut,
    OrderOut,
    OrderStatusIn,
    PreviewIn,
    PreviewOut,
    SupportTicketOut,
    SupportTicketStatusIn,
    WorkflowIn,
    WorkflowOut,
    WorkflowPatch,
    WorkflowTemplateIn,
    WorkflowTemplateOut,
    WorkflowTemplatePatch,
    WorkflowTemplateVersionOut,
    WorkflowVersionOut,
)
from automations.seeds import builtins_install
from automations.services.templates import placeholders_of, workflow_template_render
from messaging.interactive import validate_interactive
from messaging.models import Contact
from platform_core.api import RowId, paginated
from tenants.context import TenantRequest
from waba.models import PhoneNumber

router = Router(tags=["automations"])


def _changed_by(request: TenantRequest) -> str:
    return f"api-key:{request.auth.prefix}"


def _changes(payload: Any, *, nullable: frozenset[str] = frozenset(), error: type = WorkflowInvalid) -> dict:
    """The fields the request set; null only where it means something (unlinking)."""
    changes = payload.model_dump(exclude_unset=True)
    nulls = sorted(name for name, value in changes.items() if value is None and name not in nullable)
    if nulls:
        raise error(f"{', '.join(nulls)} cannot be null; leave a field out to keep it.",
                    details=[{"field": name, "message": "must not be null"} for name in nulls])
    return changes


# --- workflow templates ---------------------------------------------------------------------------


@router.get("/workflow-templates", response=list[WorkflowTemplateOut])
@paginated
def workflow_template_list(request: HttpRequest, is_active: bool | None = None, type: str | None = None):
    return selectors.workflow_template_list(is_active=is_active, type=type)


@router.post("/workflow-templates", response={201: WorkflowTemplateOut})
def workflow_template_create(request: TenantRequest, payload: WorkflowTemplateIn):
    fields = payload.model_dump()
    workflow_name = fields.pop("workflow")
    workflow = selectors.workflow_by_name(name=workflow_name) if workflow_name else None
    template = services.workflow_template_create(**fields, workflow=workflow, changed_by=_changed_by(request))
    return Status(201, template)


@router.post("/workflow-templates/match", response=KeywordMatchOut)
def workflow_template_match(request: HttpRequest, payload: KeywordMatchIn):
    """Which active template a customer's message would trigger (the one the engine would pick)."""
    template = selectors.workflow_template_matching(text=payload.text)
    return {"matched": template is not None, "template": template}


@router.get("/workflow-templates/{int:template_id}", response=WorkflowTemplateOut)
def workflow_template_get(request: HttpRequest, template_id: int):
    return selectors.workflow_template_get(template_id=template_id)


@router.patch("/workflow-templates/{int:template_id}", response=WorkflowTemplateOut)
def workflow_template_update(request: TenantRequest, template_id: int, payload: WorkflowTemplatePatch):
    template = selectors.workflow_template_get(template_id=template_id)
    changes = _changes(payload, nullable=frozenset({"workflow"}), error=WorkflowTemplateInvalid)
    if "workflow" in changes:
        name = changes["workflow"]
        changes["workflow"] = selectors.workflow_by_name(name=name) if name else None
    return services.workflow_template_update(template=template, changed_by=_changed_by(request), **changes)


@router.delete("/workflow-templates/{int:template_id}", response={204: None})
def workflow_template_delete(request: HttpRequest, template_id: int):
    services.workflow_template_delete(template=selectors.workflow_template_get(template_id=template_id))
    return Status(204, None)


@router.get("/workflow-templates/{int:template_id}/versions", response=list[WorkflowTemplateVersionOut])
@paginated
def workflow_template_versions(request: HttpRequest, template_id: int):
    return selectors.workflow_template_get(template_id=template_id).versions.all()


@router.post("/workflow-templates/{int:template_id}/preview", response=PreviewOut)
def workflow_template_preview(request: HttpRequest, template_id: int, payload: PreviewIn | None = None):
    """The interactive object as a customer would get it, placeholders filled from `context`.
    422 `invalid_interactive_message` when the filled texts break Meta's limits."""
    template = selectors.workflow_template_get(template_id=template_id)
    context = (payload or PreviewIn()).context
    interactive = workflow_template_render(template=template, context=context)
    validate_interactive(interactive)
    names = placeholders_of(template.structure)
    return {"interactive": interactive, "placeholders": names,
            "missing": [name for name in names if context.get(name) is None]}


# --- workflows ------------------------------------------------------------------------------------


@router.get("/workflows", response=list[WorkflowOut])
@paginated
def workflow_list(request: HttpRequest):
    return selectors.workflow_list()


@router.post("/workflows", response={201: WorkflowOut})
def workflow_create(request: TenantRequest, payload: WorkflowIn):
    return Status(201, services.workflow_create(**payload.model_dump(), changed_by=_changed_by(request)))


@router.post("/workflows/install-builtins", response={200: BuiltinsInstalledOut, 201: BuiltinsInstalledOut})
def workflow_install_builtins(request: TenantRequest):
    """Main menu, ordering, tracking and support, with their menus and a small catalogue. Idempotent:
    what already exists under a built-in name is kept (200 when nothing was missing or upgraded, 201
    otherwise)."""
    installed = builtins_install(changed_by=_changed_by(request))
    created = (installed.created_templates or installed.created_workflows or installed.created_catalogue_items
               or installed.upgraded)
    return Status(201 if created else 200, installed)


@router.get("/workflows/{int:workflow_id}", response=WorkflowOut)
def workflow_get(request: HttpRequest, workflow_id: int):
    return selectors.workflow_get(workflow_id=workflow_id)


@router.patch("/workflows/{int:workflow_id}", response=WorkflowOut)
def workflow_update(request: TenantRequest, workflow_id: int, payload: WorkflowPatch):
    workflow = selectors.workflow_get(workflow_id=workflow_id)
    return services.workflow_update(workflow=workflow, changed_by=_changed_by(request), **_changes(payload))


@router.delete("/workflows/{int:workflow_id}", response={204: None})
def workflow_delete(request: HttpRequest, workflow_id: int):
    services.workflow_delete(workflow=selectors.workflow_get(workflow_id=workflow_id))
    return Status(204, None)


@router.get("/workflows/{int:workflow_id}/versions", response=list[WorkflowVersionOut])
@paginated
def workflow_versions(request: HttpRequest, workflow_id: int):
    return selectors.workflow_get(workflow_id=workflow_id).versions.all()


# --- conversation states ---------------------------------------------------------------------------


@router.get("/conversation-states", response=list[ConversationStateOut])
@paginated
def conversation_state_list(request: HttpRequest, active: bool | None = None, contact_id: RowId | None = None):
    return selectors.conversation_state_list(active=active, contact_id=contact_id)


@router.get("/conversation-states/{int:state_id}", response=ConversationStateOut)
def conversation_state_get(request: HttpRequest, state_id: int):
    return selectors.conversation_state_get(state_id=state_id)


@router.post("/conversation-states/{int:state_id}/end", response=ConversationStateOut)
def conversation_state_end(request: HttpRequest, state_id: int):
    """Stop the contact's workflow (status `cancelled`); ending an ended state changes nothing."""
    state = selectors.conversation_state_get(state_id=state_id)
    services.conversation_state_end(state=state, status="cancelled")
    return selectors.conversation_state_get(state_id=state_id)


# --- human handoff -----------------------------------------------------------------------------------


@router.get("/handoffs", response=list[HandoffOut])
@paginated
def handoff_list(request: HttpRequest, open: bool | None = None):
    return selectors.handoff_list(open=open)


@router.post("/handoffs", response={201: HandoffOut})
def handoff_open(request: HttpRequest, payload: HandoffIn):
    """Take a conversation over: automations stay silent for this contact on this number until closed."""
    contact = Contact.objects.filter(pk=payload.contact_id).first()
    if contact is None:
        raise ContactNotFound(f"No contact with id {payload.contact_id}.",
                              details=[{"field": "contact_id", "message": "no such contact"}])
    phone = PhoneNumber.objects.filter(phone_number_id=payload.phone_number_id).first()
    if phone is None:
        raise PhoneNumberNotFound(f"No phone number {payload.phone_number_id} in this workspace.",
                                  details=[{"field": "phone_number_id", "message": "no such number"}])
    handoff = services.handoff_open(contact=contact, phone_number=phone, opened_by="business",
                                    reason=payload.reason)
    return Status(201, selectors.handoff_get(handoff_id=handoff.pk))


@router.get("/handoffs/{int:handoff_id}", response=HandoffOut)
def handoff_get(request: HttpRequest, handoff_id: int):
    return selectors.handoff_get(handoff_id=handoff_id)


@router.post("/handoffs/{int:handoff_id}/close", response=HandoffOut)
def handoff_close(request: TenantRequest, handoff_id: int, payload: HandoffCloseIn | None = None):
    handoff = selectors.handoff_get(handoff_id=handoff_id)
    closed_by = (payload.closed_by if payload else "") or _changed_by(request)
    services.handoff_close(handoff=handoff, closed_by=closed_by)
    return selectors.handoff_get(handoff_id=handoff_id)


# --- catalogue ------------------------------------------------------------------------------------


@router.get("/catalogue-items", response=list[CatalogueItemOut])
@paginated
def catalogue_item_list(request: HttpRequest, is_active: bool | None = None):
    return selectors.catalogue_item_list(is_active=is_active)


@router.post("/catalogue-items", response={201: CatalogueItemOut})
def catalogue_item_create(request: HttpRequest, payload: CatalogueItemIn):
    return Status(201, services.catalogue_item_create(**payload.model_dump()))


@router.get("/catalogue-items/{int:item_id}", response=CatalogueItemOut)
def catalogue_item_get(request: HttpRequest, item_id: int):
    return selectors.catalogue_item_get(item_id=item_id)


@router.patch("/catalogue-items/{int:item_id}", response=CatalogueItemOut)
def catalogue_item_update(request: HttpRequest, item_id: int, payload: CatalogueItemPatch):
    item = selectors.catalogue_item_get(item_id=item_id)
    return services.catalogue_item_update(item=item, **_changes(payload, error=CatalogueItemInvalid))


@router.delete("/catalogue-items/{int:item_id}", response={204: None})
def catalogue_item_delete(request: HttpRequest, item_id: int):
    services.catalogue_item_delete(item=selectors.catalogue_item_get(item_id=item_id))
    return Status(204, None)


# --- orders and support tickets ----------------------------------------------------------------------


@router.get("/orders", response=list[OrderOut])
@paginated
def order_list(request: HttpRequest, status: str | None = None, contact_id: RowId | None = None):
    return selectors.order_list(status=status, contact_id=contact_id)


@router.get("/orders/{int:order_id}", response=OrderOut)
def order_get(request: HttpRequest, order_id: int):
    return selectors.order_get(order_id=order_id)


@router.post("/orders/{int:order_id}/status", response=OrderOut)
def order_status_set(request: HttpRequest, order_id: int, payload: OrderStatusIn):
    services.order_status_set(order=selectors.order_get(order_id=order_id), status=payload.status)
    return selectors.order_get(order_id=order_id)


@router.get("/support-tickets", response=list[SupportTicketOut])
@paginated
def support_ticket_list(request: HttpRequest, status: str | None = None, contact_id: RowId | None = None):
    return selectors.support_ticket_list(status=status, contact_id=contact_id)


@router.get("/support-tickets/{int:ticket_id}", response=SupportTicketOut)
def support_ticket_get(request: HttpRequest, ticket_id: int):
    return selectors.support_ticket_get(ticket_id=ticket_id)


@router.post("/support-tickets/{int:ticket_id}/status", response=SupportTicketOut)
def support_ticket_status_set(request: HttpRequest, ticket_id: int, payload: SupportTicketStatusIn):
    services.support_ticket_status_set(ticket=selectors.support_ticket_get(ticket_id=ticket_id),
                                       status=payload.status)
    return selectors.support_ticket_get(ticket_id=ticket_id)
