"""Support tickets opened by the support workflow (or any caller)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from automations.errors import StatusTransitionInvalid
from automations.models import SupportTicket
from messaging.models import Contact
from waba.models import PhoneNumber


def support_ticket_create(
    *, contact: Contact, phone_number: PhoneNumber | None, issue_type: str, description: str,
    now: datetime | None = None,
) -> SupportTicket:
    return SupportTicket.objects.create(
        contact=contact, phone_number=phone_number, customer_wa_id=contact.wa_id, issue_type=issue_type[:100],
        description=description, created_at=now or timezone.now(),
    )


def support_ticket_status_set(*, ticket: SupportTicket, status: str, now: datetime | None = None) -> SupportTicket:
    """Open, in progress or closed; closing stamps `closed_at`, reopening clears it."""
    if status not in SupportTicket.Status.values:
        raise StatusTransitionInvalid(
            f"Unknown status {status!r}; one of {', '.join(SupportTicket.Status.values)}.",
            status=422, code="invalid_status",
        )
    with transaction.atomic():
        locked = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
        locked.status = status
        locked.closed_at = (locked.closed_at or now or timezone.now()) if status == SupportTicket.Status.CLOSED else None
        locked.save(update_fields=["status", "closed_at", "updated_at"])
    return locked
