"""The built-in actions and renderers that workflow definitions can name.

    catalogue_list         (renderer) the active catalogue as a list message, rows `item:<id>`
    order_summary          reads `product` + `quantity`; sets `summary` ("Coffee x 2 = 240") and `total`
    create_order           places the summarised order; sets `order_id`
    lookup_order_status    reads `order_id`; sets `order_status` (only the contact's own orders)
    lookup_order_from_message  the same for the number at the end of the inbound text ("track ORD-42")
    create_support_ticket  reads `issue_type` (+ `_title`) and `description`; sets `ticket_id`

Context keys can be renamed per step with `params` (e.g. `{"item_key": "drink"}`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from automations.errors import ActionFailed
from automations.models import CatalogueItem, Order
from automations.registry import ActionContext, workflow_action, workflow_renderer
from automations.services.catalogue import money
from automations.services.orders import order_create
from automations.services.support import support_ticket_create
from messaging.interactive import Row, Section, build_list
from waba import meta

ITEM_ID_PREFIX = "item:"
ORDER_NUMBER_AT_END = re.compile(r"(\d{1,10})\D*$")


@workflow_renderer("catalogue_list")
def catalogue_list(run: ActionContext) -> dict[str, Any]:
    """Up to 10 active items (Meta's row limit) in catalogue order, each row with its price."""
    items = list(CatalogueItem.objects.filter(is_active=True)[: meta.LIST_ROWS_MAX_TOTAL])
    if not items:
        raise ActionFailed("Sorry, there is nothing to order right now.")
    rows = [
        Row(id=f"{ITEM_ID_PREFIX}{item.pk}", title=item.name,
            description=" - ".join(part for part in (money(item.price), item.description) if part))
        for item in items
    ]
    return build_list(
        body=str(run.params.get("body", "What would you like to order?")),
        button_text=str(run.params.get("button", "Products")),
        sections=[Section(title=None, rows=rows)],
        truncate=True,
    )


def _item(run: ActionContext) -> CatalogueItem:
    chosen = str(run.context.get(run.params.get("item_key", "product"), ""))
    item_id = chosen.removeprefix(ITEM_ID_PREFIX)
    item = CatalogueItem.objects.filter(pk=int(item_id), is_active=True).first() if item_id.isdigit() else None
    if item is None:
        raise ActionFailed("Sorry, that product is no longer available. Please choose another one.")
    return item


def _quantity(run: ActionContext) -> int:
    quantity = run.context.get(run.params.get("quantity_key", "quantity"))
    if not isinstance(quantity, int) or quantity < 1:
        raise ActionFailed("Sorry, I lost track of the quantity. Please send it again.")
    return quantity


@workflow_action("order_summary")
def order_summary(run: ActionContext) -> Mapping[str, Any]:
    item, quantity = _item(run), _quantity(run)
    total = item.price * quantity
    return {"summary": f"{item.name} x {quantity} = {money(total)}", "total": money(total),
            "product_title": item.name}


@workflow_action("create_order")
def create_order(run: ActionContext) -> Mapping[str, Any]:
    order = order_create(contact=run.contact, phone_number=run.phone_number,
                         lines=[(_item(run), _quantity(run))], now=run.now)
    return {"order_id": order.pk, "total": money(order.total)}


def _own_order_status(run: ActionContext, order_id: object) -> Mapping[str, Any]:
    """A contact sees the status of their own orders only (placed by this contact, or under their
    WhatsApp id): another customer's id reads exactly as an unknown one."""
    owner = Q(contact=run.contact) | Q(customer_wa_id=run.contact.wa_id)
    order = Order.objects.filter(owner, pk=order_id).first() if isinstance(order_id, int) else None
    if order is None:
        raise ActionFailed(f"I could not find order #{order_id} for your number.")
    return {"order_id": order.pk, "order_status": order.get_status_display(), "order_total": money(order.total)}


@workflow_action("lookup_order_status")
def lookup_order_status(run: ActionContext) -> Mapping[str, Any]:
    return _own_order_status(run, run.context.get(run.params.get("order_key", "order_id")))


@workflow_action("lookup_order_from_message")
def lookup_order_from_message(run: ActionContext) -> Mapping[str, Any]:
    """The order number at the end of the inbound text ("track ORD-1234" -> 1234)."""
    content = run.message.content if run.message is not None and isinstance(run.message.content, dict) else {}
    text = str(content.get("body") or (run.message.body if run.message is not None else "") or "")
    found = ORDER_NUMBER_AT_END.search(text)
    if found is None:
        raise ActionFailed("Please send the order number after track, for example: track ORD-42.")
    return _own_order_status(run, int(found.group(1)))


@workflow_action("create_support_ticket")
def create_support_ticket(run: ActionContext) -> Mapping[str, Any]:
    issue_key = run.params.get("issue_key", "issue_type")
    issue = run.context.get(f"{issue_key}_title") or run.context.get(issue_key) or "other"
    description = run.context.get(run.params.get("description_key", "description"))
    if not isinstance(description, str) or not description.strip():
        raise ActionFailed("Sorry, I did not get the description of the problem.")
    ticket = support_ticket_create(contact=run.contact, phone_number=run.phone_number, issue_type=str(issue),
                                   description=description, now=run.now)
    return {"ticket_id": ticket.pk}
