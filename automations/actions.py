"""The built-in actions and renderers that workflow definitions can name.

    catalogue_list         (renderer) one page of the active catalogue as a list message: a section
                           per category, rows `item:<id>`, and a "More" row (`catalogue:more`) when
                           later pages follow; the page is `catalogue_page` of the context
    catalogue_next_page    sets `catalogue_page` to the next page (back to the first after the last)
    cart_add               adds `product` x `quantity` to `cart` ([{item, quantity}]); sets `summary`,
                           `total`, `product_title`
    order_summary          reads `cart` (or, without one, `product` + `quantity`); sets `summary`
                           (one line per product, "Coffee × 2 = 240") and `total`
    create_order           places the summarised order; sets `order_number` ("ORD-4821"), `order_id`
                           (the same number), `summary` and `total`
    lookup_order_status    reads `order_id`; sets `order_status` (only the contact's own orders)
    lookup_order_from_message  the same for the number at the end of the inbound text ("track ORD-42")
    create_support_ticket  reads `issue_type` (+ `_title`) and `description`; sets `ticket_id`
    create_service_request the request of built-in WhatsApp Flow `params.flow` (Starlink or solar
                           installation, panel cleaning) from the context keys named as that Flow's
                           answers, the phone being the contact's; sets `request_id`
    create_tour_inquiry    a TourInquiry from the tour-inquiry Flow's answers in the context, the phone
                           being the contact's; sets `inquiry_id`

Context keys can be renamed per step with `params` (e.g. `{"item_key": "drink"}`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Q

from automations import conf
from automations.errors import ActionFailed
from automations.models import CatalogueItem, Order, order_number_format
from automations.registry import ActionContext, workflow_action, workflow_renderer
from automations.services.catalogue import money
from automations.services.orders import order_create
from automations.services.support import support_ticket_create
from flows_builder.processors import ResponseInvalid
from flows_builder.processors.service_requests import service_request_create
from flows_builder.processors.tour_inquiries import tour_inquiry_create
from messaging.interactive import Row, Section, build_list
from platform_core.batch_memo import batch_memo
from waba import meta

ITEM_ID_PREFIX = "item:"
ORDER_NUMBER_AT_END = re.compile(r"(\d{1,10})\D*$")
PAGE_KEY = "catalogue_page"
CART_KEY = "cart"


def _catalogue() -> list[CatalogueItem]:
    """The active items, categories in the order their first item comes, items in catalogue order
    (read once per batch of webhook changes: nothing a message does changes the catalogue)."""
    items: list[CatalogueItem] = batch_memo(
        ("automations.catalogue",), lambda: list(CatalogueItem.objects.filter(is_active=True))
    )
    rank: dict[str, int] = {}
    for item in items:
        rank.setdefault(item.category, len(rank))
    return sorted(items, key=lambda item: rank[item.category])  # stable: catalogue order within a category


def _pages(count: int) -> list[tuple[int, int]]:
    """(start, end) of each page: all 10 rows when the rest fits, else 9 items and the "More" row."""
    pages, start = [], 0
    while True:
        if count - start <= meta.LIST_ROWS_MAX_TOTAL:
            pages.append((start, count))
            return pages
        pages.append((start, start + meta.LIST_ROWS_MAX_TOTAL - 1))
        start += meta.LIST_ROWS_MAX_TOTAL - 1


def _page_number(run: ActionContext, pages: int) -> int:
    page = run.context.get(PAGE_KEY)
    return page if isinstance(page, int) and 0 <= page < pages else 0


@workflow_renderer("catalogue_list")
def catalogue_list(run: ActionContext) -> dict[str, Any]:
    """One page of the active catalogue, a section per category, each row with its price. Meta allows
    10 rows in all: a longer catalogue shows 9 items and a "More" row per page."""
    items = _catalogue()
    if not items:
        raise ActionFailed("Sorry, there is nothing to order right now.")
    pages = _pages(len(items))
    page = _page_number(run, len(pages))
    start, end = pages[page]
    shown = items[start:end]
    categorised = any(item.category for item in items)
    groups: list[tuple[str | None, list[Row]]] = []
    for item in shown:
        title = (item.category or conf.CATALOGUE_OTHER_SECTION) if categorised else None
        if not groups or groups[-1][0] != title:
            groups.append((title, []))
        groups[-1][1].append(Row(
            id=f"{ITEM_ID_PREFIX}{item.pk}", title=item.name,
            description=" - ".join(part for part in (money(item.price), item.description) if part)))
    if page + 1 < len(pages):
        more = Row(id=conf.CATALOGUE_MORE_ID, title=conf.CATALOGUE_MORE_TITLE,
                   description=f"Page {page + 2} of {len(pages)}")
        if categorised:
            groups.append((conf.CATALOGUE_MORE_TITLE, [more]))
        else:
            groups[-1][1].append(more)
    sections = [Section(title=title, rows=rows) for title, rows in groups]
    return build_list(
        body=str(run.params.get("body", "What would you like to order?")),
        button_text=str(run.params.get("button", "Products")),
        sections=sections,
        truncate=True,
    )


@workflow_action("catalogue_next_page")
def catalogue_next_page(run: ActionContext) -> Mapping[str, Any]:
    pages = len(_pages(CatalogueItem.objects.filter(is_active=True).count()))
    page = _page_number(run, pages) + 1
    return {PAGE_KEY: page if page < pages else 0}


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


def _cart(run: ActionContext) -> list[dict[str, int]] | None:
    """The cart as [{item, quantity}], or None when this conversation never had one."""
    cart = run.context.get(run.params.get("cart_key", CART_KEY))
    if cart is None:
        return None
    if not isinstance(cart, list):
        return []
    return [line for line in cart if isinstance(line, dict) and isinstance(line.get("item"), int)
            and isinstance(line.get("quantity"), int) and line["quantity"] >= 1]


def _lines(run: ActionContext) -> list[tuple[CatalogueItem, int]]:
    """The order's (item, quantity): the cart's, or the one `product` of a conversation without a cart."""
    cart = _cart(run)
    return [(_item(run), _quantity(run))] if cart is None else _cart_lines(cart)


def _cart_lines(cart: list[dict[str, int]], *, read: CatalogueItem | None = None) -> list[tuple[CatalogueItem, int]]:
    """The cart's (item, quantity) at today's catalogue; a product gone meanwhile is said by name.

    `read`: an item this action has just read, not read again."""
    if not cart:
        raise ActionFailed("Your cart is empty. Please choose a product.")
    known = {read.pk: read} if read is not None else {}
    missing = [line["item"] for line in cart if line["item"] not in known]
    items = {**known, **(CatalogueItem.objects.in_bulk(missing) if missing else {})}
    lines = []
    for line in cart:
        item = items.get(line["item"])
        if item is None or not item.is_active:
            name = item.name if item is not None else "One of the products"
            raise ActionFailed(f"Sorry, {name} is no longer available. Please choose again.")
        lines.append((item, line["quantity"]))
    return lines


def _summary(lines: list[tuple[CatalogueItem, int]]) -> dict[str, str]:
    total = sum((item.price * quantity for item, quantity in lines), start=Decimal("0"))
    return {"summary": "\n".join(f"{item.name} × {quantity} = {money(item.price * quantity)}"
                                 for item, quantity in lines),
            "total": money(total)}


@workflow_action("cart_add")
def cart_add(run: ActionContext) -> Mapping[str, Any]:
    """`product` x `quantity` into the cart (the same product again adds to its quantity)."""
    item, quantity = _item(run), _quantity(run)
    cart = [dict(line) for line in _cart(run) or []]
    line = next((line for line in cart if line["item"] == item.pk), None)
    if line is not None:
        line["quantity"] += quantity
    elif len(cart) >= conf.CART_LINES_MAX:
        raise ActionFailed(f"Your cart holds {conf.CART_LINES_MAX} different products, the most one order can. "
                           "Please check out.")
    else:
        cart.append({"item": item.pk, "quantity": quantity})
    return {run.params.get("cart_key", CART_KEY): cart, "product_title": item.name, **_summary(_cart_lines(cart, read=item))}


@workflow_action("order_summary")
def order_summary(run: ActionContext) -> Mapping[str, Any]:
    lines = _lines(run)
    return {**_summary(lines), "product_title": lines[0][0].name}


@workflow_action("create_order")
def create_order(run: ActionContext) -> Mapping[str, Any]:
    lines = _lines(run)
    order = order_create(contact=run.contact, phone_number=run.phone_number, lines=lines, now=run.now)
    return {**_summary(lines), "order_id": order.number, "order_number": order.number, "total": money(order.total)}


def _order_number(value: object) -> str | None:
    """"ORD-1234" for 1234, "1234", "ORD-1234" or "ord 1234"; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return order_number_format(value) if value > 0 else None
    found = ORDER_NUMBER_AT_END.search(value) if isinstance(value, str) else None
    return order_number_format(found.group(1)) if found else None


def _own_order_status(run: ActionContext, wanted: object) -> Mapping[str, Any]:
    """A contact sees the status of their own orders only (placed by this contact, or under their
    WhatsApp id): another customer's number reads exactly as an unknown one."""
    number = _order_number(wanted)
    owner = Q(contact=run.contact) | Q(customer_wa_id=run.contact.wa_id)
    order = Order.objects.filter(owner, number=number).first() if number else None
    if order is None:
        raise ActionFailed(f"I could not find order {number or wanted} for your number.")
    return {"order_id": order.number, "order_number": order.number, "order_status": order.get_status_display(),
            "order_total": money(order.total)}


@workflow_action("lookup_order_status")
def lookup_order_status(run: ActionContext) -> Mapping[str, Any]:
    return _own_order_status(run, run.context.get(run.params.get("order_key", "order_id")))


@workflow_action("lookup_order_from_message")
def lookup_order_from_message(run: ActionContext) -> Mapping[str, Any]:
    """The order number at the end of the inbound text ("track ORD-1234" -> ORD-1234)."""
    content = run.message.content if run.message is not None and isinstance(run.message.content, dict) else {}
    text = str(content.get("body") or (run.message.body if run.message is not None else "") or "")
    found = ORDER_NUMBER_AT_END.search(text)
    if found is None:
        raise ActionFailed("Please send the order number after track, for example: track ORD-1234.")
    return _own_order_status(run, found.group(1))


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


@workflow_action("create_service_request")
def create_service_request(run: ActionContext) -> Mapping[str, Any]:
    answers = {**run.context, "phone": f"+{run.contact.wa_id}"}
    try:
        record = service_request_create(flow_name=str(run.params.get("flow")), answers=answers, contact=run.contact)
    except KeyError:
        raise ActionFailed("Sorry, this booking is not available.") from None
    except ResponseInvalid as exc:
        fields = ", ".join(sorted({str(error["field"]).replace("_", " ") for error in exc.errors}))
        raise ActionFailed(f"Sorry, I could not book it: please check the {fields} and start again.") from None
    return {"request_id": record.pk}


@workflow_action("create_tour_inquiry")
def create_tour_inquiry(run: ActionContext) -> Mapping[str, Any]:
    answers = {**run.context, "phone": f"+{run.contact.wa_id}"}
    try:
        inquiry = tour_inquiry_create(answers=answers, contact=run.contact)
    except ResponseInvalid as exc:
        fields = ", ".join(sorted({str(error["field"]).replace("_", " ") for error in exc.errors}))
        raise ActionFailed(f"Sorry, I could not record it: please check the {fields} and start again.") from None
    return {"inquiry_id": inquiry.pk}
