"""Incidents from what the lower apps announce: applied account events and health-check logs.

Each receiver runs inside the transaction of the change (webhook processing, a health check), in a
savepoint of its own: one that fails is logged and rolled back alone and never breaks the change it
looks at (it announces ALERTS work, so the schedule's sweep finds the condition later). It re-reads
the account's state, so a redelivered event finds the incident already open and tells nobody again.

An account, number or template saved in a state that is a condition (however it was written: a
sync, the console, the admin) announces ALERTS work too, so the sweep visits its workspace
(alerts.sweep) without visiting every workspace to find it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django_tenants.utils import get_public_schema_name

from alerts.conditions import DROPPED_QUALITY, STOPPED_TEMPLATE_STATUSES, UNHEALTHY_ACCOUNT_STATUSES
from alerts.services import account_incidents_reconcile
from analytics.models import AccountHealthLog
from tenants.context import connection
from tenants.work_pending import WorkKind, work_announce
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount
from waba.webhook_events import AccountEvent
from webhooks.signals import account_event_applied

logger = logging.getLogger(__name__)

# The account-level webhook fields that can open or close an incident.
WATCHED_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "phone_number_quality_update",
        "account_update",
    }
)


def _reconcile(account_id: int) -> None:
    try:
        with transaction.atomic():
            account_incidents_reconcile(account_id=account_id)
    except Exception:
        logger.exception("Checking account %s for alerts failed; the change itself stands.", account_id)
        work_announce(kind=WorkKind.ALERTS)


def account_event(sender: Any, event: AccountEvent, **kwargs: Any) -> None:
    if event.field not in WATCHED_FIELDS:
        return
    account_id = (
        WhatsAppAccount.objects.filter(waba_id=str(event.waba_id)).values_list("pk", flat=True).first()
    )
    if account_id is not None:
        _reconcile(account_id)


def health_log_saved(sender: Any, instance: AccountHealthLog, created: bool, **kwargs: Any) -> None:
    if created:
        _reconcile(instance.account_id)


def _is_condition(instance: WhatsAppAccount | PhoneNumber | MessageTemplate) -> bool:
    if isinstance(instance, WhatsAppAccount):
        return instance.status in UNHEALTHY_ACCOUNT_STATUSES
    if isinstance(instance, PhoneNumber):
        return instance.quality_rating in DROPPED_QUALITY
    return instance.status in STOPPED_TEMPLATE_STATUSES or instance.quality_score in DROPPED_QUALITY


def condition_saved(
    sender: Any, instance: WhatsAppAccount | PhoneNumber | MessageTemplate, raw: bool = False, **kwargs: Any
) -> None:
    if not raw and _is_condition(instance) and connection.schema_name != get_public_schema_name():
        work_announce(kind=WorkKind.ALERTS)


def connect() -> None:
    account_event_applied.connect(account_event, dispatch_uid="alerts.account_event")
    post_save.connect(health_log_saved, sender=AccountHealthLog, dispatch_uid="alerts.health_log")
    for model in (WhatsAppAccount, PhoneNumber, MessageTemplate):
        post_save.connect(condition_saved, sender=model, dispatch_uid=f"alerts.condition.{model.__name__}")
