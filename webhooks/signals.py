"""What webhook processing announces. Receivers connect in their AppConfig.ready().

account_event_applied (sender: the Meta webhook field name; event: the AccountEvent)
    Sent once per application of an account-level field (templates, quality, account, flows ...),
    after the app that owns it applied it (the WABA app's event log keeps every field), inside the
    schema of the tenant that owns the WABA and inside the change's transaction. Receivers look at
    `event.field` and ignore the fields they do not handle. They must be idempotent: a journal
    entry may be processed again. One that raises rolls the whole change back and the journal
    entry is retried, so an account change is never half-applied.
"""

from __future__ import annotations

from django.dispatch import Signal

account_event_applied = Signal()
