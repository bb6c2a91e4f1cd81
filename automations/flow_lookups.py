"""Lookups that a Flow's static data-exchange answers may declare, answered from this app's records.

Receiver of flows_builder.signals.flow_exchange_lookup: `catalogue_items` (the active catalogue,
optionally one `category`) and `recent_orders` (the customer's newest orders) as Dropdown options
Meta accepts (title up to 30 characters, description up to 300, at most 200 options).
"""

from __future__ import annotations

from typing import Any

from automations import selectors
from flows_builder.models import WhatsAppFlow
from messaging.models import Contact
from waba import meta

RECENT_ORDERS_DEFAULT = 5
RECENT_ORDERS_MAX = 20


def flow_exchange_lookup_answer(
    sender: Any, flow: WhatsAppFlow, source: str, params: dict[str, Any], contact: Contact, **kwargs: Any
) -> list[dict[str, str]] | None:
    if source == "catalogue_items":
        return _catalogue_items(category=params.get("category"))
    if source == "recent_orders":
        return _recent_orders(contact=contact, limit=params.get("limit"))
    return None


def _option(id: str, title: str, description: str = "") -> dict[str, str]:
    option = {"id": id, "title": title[: meta.FLOW_OPTION_TITLE_MAX_CHARS]}
    if description:
        option["description"] = description[: meta.FLOW_OPTION_DESCRIPTION_MAX_CHARS]
    return option


def _catalogue_items(*, category: Any) -> list[dict[str, str]]:
    items = selectors.catalogue_item_list(is_active=True)
    if isinstance(category, str) and category:
        items = items.filter(category=category)
    return [
        _option(
            str(item.pk), item.name, " · ".join(part for part in (item.description, f"{item.price}") if part)
        )
        for item in items[: meta.FLOW_DROPDOWN_MAX_OPTIONS]
    ]


def _recent_orders(*, contact: Contact, limit: Any) -> list[dict[str, str]]:
    count = limit if isinstance(limit, int) and not isinstance(limit, bool) else RECENT_ORDERS_DEFAULT
    orders = selectors.order_list(contact_id=contact.pk)[: max(1, min(count, RECENT_ORDERS_MAX))]
    return [
        _option(
            order.number,
            f"{order.number} · {order.get_status_display()}",
            f"{order.total} · {order.created_at:%Y-%m-%d}",
        )
        for order in orders
    ]
