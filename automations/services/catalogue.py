"""The small product catalogue the built-in ordering workflow offers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from automations.errors import CatalogueItemInvalid, problems_error
from automations.models import CatalogueItem
from automations.services.saving import unique_name_save
from waba import meta

EDITABLE_FIELDS = ("name", "description", "category", "price", "is_active", "position")
NAME_MAX_CHARS = 100
# The description is shown as a list row's description.
DESCRIPTION_MAX_CHARS = meta.LIST_ROW_DESCRIPTION_MAX_CHARS
# The category is shown as a list section's title.
CATEGORY_MAX_CHARS = meta.LIST_SECTION_TITLE_MAX_CHARS


def money(amount: Decimal) -> str:
    """240 for 240.00, 2.50 for 2.5: what a customer reads in a summary."""
    amount = Decimal(amount)
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def catalogue_item_create(
    *, name: str, price: Decimal | str | int, description: str = "", category: str = "", is_active: bool = True,
    position: int = 0,
) -> CatalogueItem:
    item = CatalogueItem(name=name, price=price, description=description, category=category, is_active=is_active,
                         position=position)
    _check_and_save(item)
    return item


def catalogue_item_update(*, item: CatalogueItem, **changes: Any) -> CatalogueItem:
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise CatalogueItemInvalid(f"Unknown fields: {', '.join(unknown)}.",
                                   details=[{"field": name, "message": "unknown field"} for name in unknown])
    for field, value in changes.items():
        setattr(item, field, value)
    _check_and_save(item)
    return item


def catalogue_item_delete(*, item: CatalogueItem) -> None:
    """Past orders keep the item's name and price; only the link to the catalogue goes."""
    item.delete()


def _check_and_save(item: CatalogueItem) -> None:
    problems = []
    item.name = (item.name or "").strip()
    if not item.name or len(item.name) > NAME_MAX_CHARS:
        problems.append({"field": "name", "message": f"1 to {NAME_MAX_CHARS} characters"})
    if len(item.description or "") > DESCRIPTION_MAX_CHARS:
        problems.append({"field": "description", "message": f"at most {DESCRIPTION_MAX_CHARS} characters"})
    item.category = (item.category or "").strip()
    if len(item.category) > CATEGORY_MAX_CHARS:
        problems.append({"field": "category", "message": f"at most {CATEGORY_MAX_CHARS} characters"})
    try:
        item.price = Decimal(str(item.price))
        if not item.price.is_finite() or item.price < 0 or item.price != item.price.quantize(Decimal("0.01")):
            raise InvalidOperation
        if item.price >= Decimal("100000000"):
            raise InvalidOperation
        item.price = item.price.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        problems.append({"field": "price", "message": "a number of at least 0 with at most 2 decimals"})
    if problems:
        raise problems_error(CatalogueItemInvalid, problems, what="catalogue item")
    unique_name_save(item, field="name", what="catalogue item")
