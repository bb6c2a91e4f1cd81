"""Orders placed through the ordering workflow (or any caller), and their status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from automations.errors import StatusTransitionInvalid
from automations.models import CatalogueItem, Order, OrderItem
from messaging.models import Contact
from waba.models import PhoneNumber

FINAL_STATUSES = frozenset({Order.Status.DELIVERED, Order.Status.CANCELLED})
# Creations tried when the random number drawn was taken by a concurrent order meanwhile.
NUMBER_ATTEMPTS = 3


def order_create(
    *,
    contact: Contact,
    phone_number: PhoneNumber | None,
    lines: Sequence[tuple[CatalogueItem, int]],
    now: datetime | None = None,
) -> Order:
    """An order of `lines` (item, quantity) at today's prices; the prices are copied onto it. It gets
    a random unused number; one taken by a concurrent order in the meantime is drawn again."""
    total = sum((item.price * quantity for item, quantity in lines), start=Decimal("0"))
    with transaction.atomic():
        order = _order_numbered(contact=contact, phone_number=phone_number, total=total, now=now or timezone.now())
        OrderItem.objects.bulk_create([
            OrderItem(order=order, catalogue_item=item, name=item.name, unit_price=item.price, quantity=quantity,
                      line_total=item.price * quantity)
            for item, quantity in lines
        ])
    return order


def _order_numbered(
    *, contact: Contact, phone_number: PhoneNumber | None, total: Decimal, now: datetime
) -> Order:
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                return Order.objects.create(contact=contact, phone_number=phone_number,
                                            customer_wa_id=contact.wa_id, total=total, created_at=now)
        except IntegrityError:
            if attempt == NUMBER_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def order_status_set(*, order: Order, status: str) -> Order:
    """Move an order on; delivered and cancelled orders are final (409 otherwise)."""
    if status not in Order.Status.values:
        raise StatusTransitionInvalid(f"Unknown status {status!r}; one of {', '.join(Order.Status.values)}.",
                                      status=422, code="invalid_status")
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != status and locked.status in FINAL_STATUSES:
            raise StatusTransitionInvalid(f"Order {locked.number} is {locked.status}; its status can no longer change.")
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
    return locked
