"""Human handoff: a conversation handed to a person stops every automation until it is closed."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from automations.errors import HandoffAlreadyClosed, HandoffAlreadyOpen
from automations.models import ConversationState, HumanHandoff
from automations.services.state import conversation_state_end_for
from messaging.models import Contact
from waba.models import PhoneNumber


def handoff_open_for(*, contact: Contact, phone_number: PhoneNumber) -> HumanHandoff | None:
    return HumanHandoff.objects.filter(contact=contact, phone_number=phone_number, closed_at__isnull=True).first()


def handoff_open(
    *, contact: Contact, phone_number: PhoneNumber, opened_by: str, reason: str = "", now: datetime | None = None
) -> HumanHandoff:
    """Hand the conversation to a person; the contact's running workflow ends as `handed_off`.

    Raises HandoffAlreadyOpen (409) when one is open already (the database allows one per contact
    and number, so concurrent requests cannot open two).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            handoff = HumanHandoff.objects.create(
                contact=contact, phone_number=phone_number, opened_by=opened_by, reason=reason[:500], opened_at=now
            )
            conversation_state_end_for(contact=contact, phone_number=phone_number,
                                       status=ConversationState.Status.HANDED_OFF, now=now)
    except IntegrityError:
        raise HandoffAlreadyOpen(
            f"{contact} is already handed to a person on this number.",
            details={"handoff_id": getattr(handoff_open_for(contact=contact, phone_number=phone_number), "pk", None)},
        ) from None
    return handoff


def handoff_close(*, handoff: HumanHandoff, closed_by: str = "", now: datetime | None = None) -> HumanHandoff:
    """Give the conversation back to the automations. Raises HandoffAlreadyClosed (409)."""
    with transaction.atomic():
        locked = HumanHandoff.objects.select_for_update().get(pk=handoff.pk)
        if locked.closed_at is not None:
            raise HandoffAlreadyClosed(f"Handoff {locked.pk} was closed at {locked.closed_at.isoformat()}.")
        locked.closed_at, locked.closed_by = now or timezone.now(), closed_by[:200]
        locked.save(update_fields=["closed_at", "closed_by"])
    return locked
