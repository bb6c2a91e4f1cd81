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

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import get_public_schema_name

from analytics import conf
from analytics.models import AccountHealthLog

logger = logging.getLogger(__name__)

# The services of other apps that the clean-up schedules call (agreed names).
CONVERSATION_STATES_EXPIRE = "messaging.menus.services.conversation_states_expire"
STUCK_MESSAGES_RECONCILE = "messaging.send.outbox.outbox_reconcile"
# The public webhook journal (messaging.webhooks): model, its received-at field, its processed flag.
JOURNAL_MODEL = "webhooks.WebhookJournalEntry"
JOURNAL_RECEIVED_FIELD = "received_at"
JOURNAL_PROCESSED_FILTER: dict[str, Any] = {"processed_at__isnull": False}
# Leave room under the task's timeout: a prune that runs out of time continues on the next run.
PRUNE_BUDGET_S = 40


def _seam(path: str) -> Callable[..., Any] | None:
    try:
        return import_string(path)
    except ImportError:
        logger.warning("Clean-up skipped: %s does not exist yet.", path)
        return None


def _journal_model() -> type[Model] | None:
    try:
        return apps.get_model(JOURNAL_MODEL)
    except LookupError:
        logger.warning("Webhook journal prune skipped: no model %s.", JOURNAL_MODEL)
        return None


def webhook_journal_prune(
    *, now: datetime | None = None, retention_days: int | None = None, batch_size: int | None = None
) -> int:
    """Delete processed journal entries older than the retention, `batch_size` ids per transaction.

    Each batch is one short DELETE by primary key, so no lock is held for long and webhook
    writes go on meanwhile. Unprocessed entries are kept whatever their age. Returns the count.
    """
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("webhook_journal_prune runs in the public schema, where the journal lives.")
    model = _journal_model()
    if model is None:
        return 0
    now = now or timezone.now()
    retention_days = conf.webhook_journal_retention_days() if retention_days is None else retention_days
    batch_size = batch_size or conf.webhook_journal_prune_batch_size()
    expired = model.objects.filter(
        **{f"{JOURNAL_RECEIVED_FIELD}__lt": now - timedelta(days=retention_days)}, **JOURNAL_PROCESSED_FILTER
    )
    started, total = time.monotonic(), 0
    while time.monotonic() - started < PRUNE_BUDGET_S:
        ids = list(expired.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            total += model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
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
    from messaging.send.conf import send_setting

    return reconcile(max_attempts=send_setting("SEND_MAX_ATTEMPTS"))
