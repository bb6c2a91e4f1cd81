"""Clean-up jobs: prune the webhook journal, expire conversation states, reconcile stuck sends.

The journal prune runs once, in the public schema (the journal is public). The other two run
per tenant and only call the owning app's own service (menus, send pipeline): the rules of
what is expired or stuck live there, not here. A seam whose service has not landed yet is
skipped with a warning rather than failing the whole schedule.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import get_public_schema_name

from analytics import conf
from analytics.models import AccountHealthLog
from webhooks.models import WebhookJournalEntry

logger = logging.getLogger(__name__)

# The services of other apps that the clean-up schedules call (agreed names).
CONVERSATION_STATES_EXPIRE = "automations.services.conversation_states_expire"
STUCK_MESSAGES_RECONCILE = "sending.outbox.outbox_reconcile"
# Leave room under the task's timeout: a prune that runs out of time continues on the next run.
PRUNE_BUDGET_S = 40


def _seam(path: str) -> Callable[..., Any] | None:
    try:
        return import_string(path)
    except ImportError:
        logger.warning("Clean-up skipped: %s does not exist yet.", path)
        return None


def webhook_journal_prune(
    *, now: datetime | None = None, retention_days: int | None = None, batch_size: int | None = None
) -> int:
    """Delete processed journal entries older than the retention, `batch_size` ids per transaction.

    Each batch is one short DELETE by primary key, so no lock is held for long and webhook
    writes go on meanwhile. Entries not processed (pending, processing, failed) are kept
    whatever their age. The journal has no index on `received_at`; ids grow with it, so the
    first id past the cutoff bounds every batch to a range of the primary key. Returns the count.
    """
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("webhook_journal_prune runs in the public schema, where the journal lives.")
    now = now or timezone.now()
    retention_days = conf.webhook_journal_retention_days() if retention_days is None else retention_days
    batch_size = batch_size or conf.webhook_journal_prune_batch_size()
    cutoff = now - timedelta(days=retention_days)
    journal = WebhookJournalEntry.objects
    expired = journal.filter(received_at__lt=cutoff, state=WebhookJournalEntry.State.PROCESSED)
    first_kept = journal.filter(received_at__gte=cutoff).order_by("pk").values_list("pk", flat=True).first()
    if first_kept is not None:
        expired = expired.filter(pk__lt=first_kept)
    started, total, after = time.monotonic(), 0, 0
    while time.monotonic() - started < PRUNE_BUDGET_S:
        ids = list(expired.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            total += journal.filter(pk__in=ids).delete()[1].get(WebhookJournalEntry._meta.label, 0)
        after = ids[-1]
        if len(ids) < batch_size:
            break
    return total


def health_logs_prune(*, now: datetime | None = None) -> int:
    """Drop health logs past HEALTH_LOG_RETENTION_DAYS in the current tenant schema."""
    before = (now or timezone.now()) - timedelta(days=conf.health_log_retention_days())
    return AccountHealthLog.objects.filter(checked_at__lt=before).delete()[0]


def conversation_states_expire() -> Any:
    expire = _seam(CONVERSATION_STATES_EXPIRE)
    return expire() if expire else None


def stuck_messages_reconcile() -> Any:
    """Messages left in `sending` past their lease: the send pipeline settles them by its own rules.

    Its workers do this on every sweep; this schedule is the safety net for when none runs.
    """
    reconcile = _seam(STUCK_MESSAGES_RECONCILE)
    if reconcile is None:
        return None
    from sending.conf import send_setting

    return reconcile(max_attempts=send_setting("SEND_MAX_ATTEMPTS"))
