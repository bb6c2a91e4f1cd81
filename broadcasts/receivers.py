"""Campaign messages follow the contact's consent: an opt-out withdraws queued marketing messages, a
block withdraws them all. Runs in the transaction of the change."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from broadcasts.campaigns import campaign_messages_withdraw
from contacts.models import ConsentEvent
from messaging.models import Contact
from waba.webhook_events import AccountEvent
from webhooks.signals import account_event_applied


def consent_saved(sender: Any, instance: ConsentEvent, created: bool, **kwargs: Any) -> None:
    if created and instance.kind == ConsentEvent.Kind.OPT_OUT:
        campaign_messages_withdraw(contact_id=instance.contact_id, marketing_only=True)


def contact_saved(
    sender: Any, instance: Contact, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    if not created and instance.blocked and (update_fields is None or "blocked" in update_fields):
        campaign_messages_withdraw(contact_id=instance.pk, marketing_only=False)


def meta_preferences_applied(sender: Any, event: AccountEvent, **kwargs: Any) -> None:
    """A customer who stopped marketing messages in WhatsApp gets no queued campaign marketing."""
    if event.field != "user_preferences":
        return
    for preference in event.value.get("user_preferences") or []:
        if preference.get("category") == "marketing_messages" and preference.get("value") == "stop":
            for contact_id in Contact.objects.filter(wa_id=str(preference.get("wa_id"))).values_list(
                "pk", flat=True
            ):
                campaign_messages_withdraw(contact_id=contact_id, marketing_only=True)


def connect() -> None:
    account_event_applied.connect(meta_preferences_applied, dispatch_uid="broadcasts.meta_preferences")
    post_save.connect(consent_saved, sender=ConsentEvent, dispatch_uid="broadcasts.consent_saved")
    post_save.connect(contact_saved, sender=Contact, dispatch_uid="broadcasts.contact_saved")
