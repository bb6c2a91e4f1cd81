"""Reads of the automation app: lookups by id (404 with a stable code) and filtered lists."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from automations import errors
from automations.keywords import CONTAINS, Candidate, best_match
from automations.models import (
    CatalogueItem,
    ConversationState,
    HumanHandoff,
    Order,
    SupportTicket,
    Workflow,
    WorkflowTemplate,
)
from flows_builder.models import WhatsAppFlow
from platform_core.batch_memo import batch_memo

# A WhatsApp Flow's trigger keywords match as whole words anywhere in the message.
FLOW_KEYWORD_MODE = CONTAINS


def workflow_template_matching(*, text: str) -> WorkflowTemplate | None:
    """The active template whose keywords match `text` best (see keywords.best_match for the order)."""
    templates: dict[object, WorkflowTemplate] = {
        template.pk: template
        for template in WorkflowTemplate.objects.filter(is_active=True).exclude(trigger_keywords=[])
        .select_related("workflow")
    }
    match = best_match(text, (
        Candidate(key=template.pk, keywords=template.trigger_keywords, mode=template.match_mode,
                  priority=template.priority, created_order=template.pk)
        for template in templates.values()
    ))
    return templates[match.key] if match else None


@dataclass(frozen=True)
class KeywordTrigger:
    """What a customer's text triggers: a published WhatsApp Flow to send (`flow`), a workflow to
    start (a template's, or the conversational flow an unpublished Flow falls back to), or a
    template's menu sent on its own (`template` with no `workflow`)."""

    template: WorkflowTemplate | None = None
    flow: WhatsAppFlow | None = None
    workflow: Workflow | None = None


def keyword_trigger_matching(*, text: str, account_id: int) -> KeywordTrigger | None:
    """The best match of `text` among the active templates and the active WhatsApp Flows of the
    number's account (one ranking, keywords.best_match; a Flow's keywords match in `contains`
    mode). A Flow takes part when it can be sent published, or when the conversational flow it is
    linked to exists and is active; otherwise its keywords are not offered at all."""
    triggers, candidates = batch_memo(
        ("automations.keyword_triggers", account_id), lambda: _keyword_triggers(account_id)
    )
    match = best_match(text, candidates)
    if match is None:
        return None
    trigger = triggers[match.key]
    if trigger.workflow is not None and not trigger.workflow.is_active:
        return replace(trigger, workflow=None)
    return trigger


def _keyword_triggers(account_id: int) -> tuple[dict[object, KeywordTrigger], list[Candidate]]:
    """What `keyword_trigger_matching` ranks: the triggers by key, and their keywords."""
    templates = {
        ("template", template.pk): template
        for template in WorkflowTemplate.objects.filter(is_active=True).exclude(trigger_keywords=[])
        .select_related("workflow").order_by("pk")
    }
    flows = list(WhatsAppFlow.objects.filter(account_id=account_id, is_active=True).exclude(trigger_keywords=[])
                 .order_by("pk"))
    linked = {workflow.name: workflow for workflow in Workflow.objects.filter(
        is_active=True, name__in=[flow.flow_definition_name for flow in flows if flow.flow_definition_name])}
    triggers: dict[object, KeywordTrigger] = {
        key: KeywordTrigger(template=template, workflow=template.workflow)
        for key, template in templates.items()
    }
    for flow in flows:
        if flow.meta_flow_id and flow.can_send_published:
            triggers[("flow", flow.pk)] = KeywordTrigger(flow=flow)
        elif flow.flow_definition_name in linked:
            triggers[("flow", flow.pk)] = KeywordTrigger(workflow=linked[flow.flow_definition_name])
    candidates = [
        Candidate(key=key, keywords=template.trigger_keywords, mode=template.match_mode,
                  priority=template.priority, created_order=template.pk)
        for key, template in templates.items()
    ] + [
        Candidate(key=("flow", flow.pk), keywords=flow.trigger_keywords, mode=FLOW_KEYWORD_MODE, priority=0,
                  created_order=flow.pk)
        for flow in flows if ("flow", flow.pk) in triggers
    ]
    return triggers, candidates


def workflow_template_get(*, template_id: int) -> WorkflowTemplate:
    template = WorkflowTemplate.objects.select_related("workflow").filter(pk=template_id).first()
    if template is None:
        raise errors.WorkflowTemplateNotFound(f"No workflow template with id {template_id}.")
    return template


def workflow_template_list(*, is_active: bool | None = None, type: str | None = None) -> QuerySet[WorkflowTemplate]:
    templates = WorkflowTemplate.objects.select_related("workflow")
    if is_active is not None:
        templates = templates.filter(is_active=is_active)
    if type:
        templates = templates.filter(type=type)
    return templates


def workflow_list() -> QuerySet[Workflow]:
    return Workflow.objects.all()


def workflow_get(*, workflow_id: int) -> Workflow:
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    if workflow is None:
        raise errors.WorkflowNotFound(f"No workflow with id {workflow_id}.")
    return workflow


def workflow_by_name(*, name: str) -> Workflow:
    workflow = Workflow.objects.filter(name=name).first()
    if workflow is None:
        raise errors.WorkflowNotFound(f"No workflow named {name!r}.",
                                      details=[{"field": "workflow", "message": "no such workflow"}])
    return workflow


def conversation_state_live(*, now: datetime | None = None) -> Q:
    """Active and not yet past `expires_at`: the one rule of a live state. An active state past
    it reads as absent at once, and the clean-up (`conversation_states_expire`) closes it."""
    return Q(status=ConversationState.Status.ACTIVE, expires_at__gt=now or timezone.now())


def conversation_state_expired(*, now: datetime | None = None) -> Q:
    """Active but past `expires_at`: exactly the active states that are not live (written out,
    not negated, so the partial index on `expires_at` serves it)."""
    return Q(status=ConversationState.Status.ACTIVE, expires_at__lte=now or timezone.now())


def conversation_state_list(
    *, active: bool | None = None, contact_id: int | None = None, now: datetime | None = None
) -> QuerySet[ConversationState]:
    """`active=True`: live states only (expired ones read as not active even before the clean-up)."""
    states = ConversationState.objects.select_related("contact", "phone_number")
    live = conversation_state_live(now=now)
    if active is True:
        states = states.filter(live)
    elif active is False:
        states = states.exclude(live)
    if contact_id is not None:
        states = states.filter(contact_id=contact_id)
    return states


def conversation_state_get(*, state_id: int) -> ConversationState:
    state = ConversationState.objects.select_related("contact", "phone_number").filter(pk=state_id).first()
    if state is None:
        raise errors.ConversationStateNotFound(f"No conversation state with id {state_id}.")
    return state


def handoff_list(*, open: bool | None = None) -> QuerySet[HumanHandoff]:
    handoffs = HumanHandoff.objects.select_related("contact", "phone_number")
    if open is not None:
        handoffs = handoffs.filter(closed_at__isnull=open)
    return handoffs


def handoff_get(*, handoff_id: int) -> HumanHandoff:
    handoff = HumanHandoff.objects.select_related("contact", "phone_number").filter(pk=handoff_id).first()
    if handoff is None:
        raise errors.HandoffNotFound(f"No handoff with id {handoff_id}.")
    return handoff


def catalogue_item_list(*, is_active: bool | None = None) -> QuerySet[CatalogueItem]:
    items = CatalogueItem.objects.all()
    return items if is_active is None else items.filter(is_active=is_active)


def catalogue_item_get(*, item_id: int) -> CatalogueItem:
    item = CatalogueItem.objects.filter(pk=item_id).first()
    if item is None:
        raise errors.CatalogueItemNotFound(f"No catalogue item with id {item_id}.")
    return item


def order_list(*, status: str | None = None, contact_id: int | None = None) -> QuerySet[Order]:
    orders = Order.objects.select_related("contact", "phone_number").prefetch_related("items")
    if status:
        orders = orders.filter(status=status)
    if contact_id is not None:
        orders = orders.filter(contact_id=contact_id)
    return orders


def order_get(*, order_id: int) -> Order:
    order = Order.objects.select_related("contact", "phone_number").prefetch_related("items").filter(
        pk=order_id).first()
    if order is None:
        raise errors.OrderNotFound(f"No order with id {order_id}.")
    return order


def support_ticket_list(*, status: str | None = None, contact_id: int | None = None) -> QuerySet[SupportTicket]:
    tickets = SupportTicket.objects.select_related("contact", "phone_number")
    if status:
        tickets = tickets.filter(status=status)
    if contact_id is not None:
        tickets = tickets.filter(contact_id=contact_id)
    return tickets


def support_ticket_get(*, ticket_id: int) -> SupportTicket:
    ticket = SupportTicket.objects.select_related("contact", "phone_number").filter(pk=ticket_id).first()
    if ticket is None:
        raise errors.SupportTicketNotFound(f"No support ticket with id {ticket_id}.")
    return ticket
