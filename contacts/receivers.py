"""Meta's `user_preferences` webhook in the consent history.

messaging applies the stop/resume to Contact.opted_out (the flag the send path reads); this
receiver, called in the same transaction right after, records each preference as a ConsentEvent
from source "meta". A webhook processed again records nothing new (one row per contact, kind, time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contacts.models import ConsentEvent
from messaging.models import Contact
from waba.webhook_events import AccountEvent

_KINDS = {"stop": ConsentEvent.Kind.OPT_OUT, "resume": ConsentEvent.Kind.OPT_IN}


def consent_from_meta_preferences(sender: str, event: AccountEvent, **kwargs: Any) -> None:
    if event.field != "user_preferences":
        return
    for preference in event.value.get("user_preferences") or []:
        kind = _KINDS.get(preference.get("value"))
        if preference.get("category") != "marketing_messages" or kind is None:
            continue
        contact = Contact.objects.filter(wa_id=str(preference.get("wa_id"))).first()
        if contact is None:
            continue
        ConsentEvent.objects.bulk_create(
            [
                ConsentEvent(
                    contact=contact,
                    kind=kind,
                    source=ConsentEvent.Source.META,
                    occurred_at=_time(preference.get("timestamp"), event.occurred_at),
                    note="The customer changed their marketing preference in WhatsApp.",
                )
            ],
            ignore_conflicts=True,
        )


def _time(unix_seconds: Any, fallback: datetime | None) -> datetime:
    try:
        return datetime.fromtimestamp(int(unix_seconds), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback or datetime.now(tz=UTC)
