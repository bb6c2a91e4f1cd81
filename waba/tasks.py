"""Background jobs of the waba app. Each takes ids only (never a token) and runs inside its
tenant's schema: enqueue with `tenants.jobs.tenant_task_enqueue(func, account_id, schema_name=...)`.
"""

from __future__ import annotations

import logging

from platform_core.errors import DomainError
from tenants.jobs import tenant_task, tenants_fan_out
from waba.models import WhatsAppAccount
from waba.selectors import account_get
from waba.services.phone_numbers import phone_numbers_refresh
from waba.services.templates import templates_sync

logger = logging.getLogger(__name__)

LIVE = [WhatsAppAccount.Status.ACTIVE, WhatsAppAccount.Status.UNHEALTHY]


@tenant_task
def account_templates_sync(account_id: int) -> dict:
    return templates_sync(account=account_get(account_id=account_id))


@tenant_task
def account_phone_numbers_refresh(account_id: int) -> dict:
    return phone_numbers_refresh(account=account_get(account_id=account_id))


@tenant_task
def live_accounts_sync() -> dict[int, str]:
    """Sync templates and refresh numbers of every live account of this tenant; one failing
    account does not stop the others. Returns the outcome per account id.
    """
    outcomes: dict[int, str] = {}
    for account in WhatsAppAccount.objects.filter(status__in=LIVE):
        try:
            templates_sync(account=account)
            phone_numbers_refresh(account=account)
        except DomainError as error:
            logger.warning("Sync of WhatsApp account %s failed: %s", account.pk, error.code)
            outcomes[account.pk] = error.code
        else:
            outcomes[account.pk] = "ok"
    return outcomes


def live_accounts_sync_fan_out() -> list[str]:
    """For a schedule (public schema): one `live_accounts_sync` per active tenant."""
    return tenants_fan_out(live_accounts_sync)
