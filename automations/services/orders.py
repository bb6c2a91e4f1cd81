"""Orders placed through the ordering workflow (or any caller), and their status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from automations.errors import StatusTransitionInvalid
from automations.models import CatalogueItem, Order, OrderItem
from messaging.models import Contact
from waba.models import PhoneNumber

FINAL_STATUSES = frozenset({Order.Status.DELIVERED, Order.Status.CANCELLED})


def order_create(
    *,
    contact: Contact,
    phone_number: PhoneNumber | None,
    lines: Sequence[tuple[CatalogueItem, int]],
    now: datetime | None = None,
) -> Order:
    """An order of `lines` (item, quantity) at today's prices; the prices are copied onto it."""
    with transaction.atomic():
        order = Order.objects.create(contact=contact, phone_number=phone_number, customer_wa_id=contact.wa_id,
                                     created_at=now or timezone.now())
        items = [
            OrderItem(order=order, catalogue_item=item, name=item.name, unit_price=item.price, quantity=quantity,
                      line_total=item.price * quantity)
            for item, quantity in lines
        ]
        OrderItem.objects.bulk_create(items)
        order.total = sum((line.line_total for line in items), start=order.total)
        order.save(update_fields=["total"])
    return order


def order_status_set(*, order: Order, status: str) -> Order:
    """Move an order on; delivered and cancelled orders are final (409 otherwise)."""
    if status not in Order.Status.values:
        raise StatusTransitionInvalid(f"Unknown status {status!r}; one of {', '.join(Order.Status.values)}.",
                                      status=422, code="invalid_status")
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != status and locked.status in FINAL_STATUSES:
            raise StatusTransitionInvalid(f"Order #{locked.pk} is {locked.status}; its status can no longer change.")
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
    return locked
