"""Accounts: create, update, delete (releasing the routing index) and health status changes.

Status changes are conditional UPDATEs, so concurrent workers that hit the same dead token mark
the account once and never resurrect a suspended or draft account.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from platform_core.usage_limits import ACCOUNTS, usage_limit_check
from tenants.context import connection
from tenants.models import MetaRoute, Tenant
from tenants.routing import meta_app_release, routes_release
from tenants.work_pending import WorkKind, work_announce
from waba.errors import FieldsInvalid
from waba.models import WhatsAppAccount

logger = logging.getLogger(__name__)

Status = WhatsAppAccount.Status
REASON_MAX = 500


def tenant_current() -> Tenant:
    """The tenant whose schema this connection serves (requests, tasks and `schema_context` alike)."""
    return Tenant.objects.get(schema_name=connection.schema_name)


def webhook_callback_url(*, app_id: str) -> str:
    """The URL to paste into Meta's app dashboard (WhatsApp > Configuration > Callback URL)."""
    return f"{settings.PUBLIC_BASE_URL}/webhooks/whatsapp/{app_id}"


def account_create(*, display_name: str = "") -> WhatsAppAccount:
    """A new draft account; the setup wizard fills it in and activates it."""
    usage_limit_check(resource=ACCOUNTS)
    return WhatsAppAccount.objects.create(display_name=display_name.strip()[:200])


RATE_LIMIT_FIELDS = ("rate_limit_per_minute", "rate_limit_per_day", "rate_limit_per_month")


def account_update(
    *,
    account: WhatsAppAccount,
    display_name: str | None = None,
    rate_limit_per_minute: int | None = None,
    rate_limit_per_day: int | None = None,
    rate_limit_per_month: int | None = None,
) -> WhatsAppAccount:
    """Change the name or the rate limits (None = unchanged); the wizard steps change the rest."""
    limits = {
        "rate_limit_per_minute": rate_limit_per_minute,
        "rate_limit_per_day": rate_limit_per_day,
        "rate_limit_per_month": rate_limit_per_month,
    }
    errors = [
        {"field": name, "message": "Must be a whole number of at least 1.", "type": "greater_than_equal"}
        for name, value in limits.items()
        if value is not None and value < 1
    ]
    if display_name is not None and not display_name.strip():
        errors.append({"field": "display_name", "message": "Must not be empty.", "type": "missing"})
    if errors:
        raise FieldsInvalid("The request has invalid fields.", details=errors)
    changed = []
    if display_name is not None:
        account.display_name = display_name.strip()[:200]
        changed.append("display_name")
    for name, value in limits.items():
        if value is not None:
            setattr(account, name, value)
            changed.append(name)
    if changed:
        account.save(update_fields=[*changed, "updated_at"])
    return account


@transaction.atomic
def account_delete(*, account: WhatsAppAccount) -> None:
    """Delete the account with its numbers and templates, and give up its routing entries.

    Its Meta app is unregistered when no other account of this tenant uses it. Messages of its
    numbers go with them (the messaging models cascade).
    """
    tenant = tenant_current()
    phone_ids = list(account.phone_numbers.values_list("phone_number_id", flat=True))
    routes_release(tenant=tenant, kind=MetaRoute.Kind.PHONE_NUMBER, external_ids=phone_ids)
    if account.waba_id:
        routes_release(tenant=tenant, kind=MetaRoute.Kind.WABA, external_ids=[account.waba_id])
    if account.app_id and not WhatsAppAccount.objects.filter(app_id=account.app_id).exclude(pk=account.pk).exists():
        meta_app_release(tenant=tenant, app_id=account.app_id)
    account.delete()


def account_mark_unhealthy(*, account: WhatsAppAccount, reason: str, code: int | None = None) -> None:
    """Stop an active account from sending until someone fixes it (a new token, Meta lifting a block).

    Idempotent; drafts and suspended accounts keep their status. Updates `account` in place.
    """
    now = timezone.now()
    reason = reason[:REASON_MAX]
    updated = WhatsAppAccount.objects.filter(pk=account.pk, status__in=[Status.ACTIVE, Status.UNHEALTHY]).update(
        status=Status.UNHEALTHY, status_reason=reason, status_error_code=code, status_changed_at=now, updated_at=now
    )
    if updated:
        work_announce(kind=WorkKind.ALERTS)  # the alerts' sweep visits the workspace (alerts.sweep)
        if account.status != Status.UNHEALTHY:
            logger.warning("WhatsApp account %s marked unhealthy (Meta code %s)", account.pk, code)
        account.status, account.status_reason, account.status_error_code = Status.UNHEALTHY, reason, code
        account.status_changed_at = now


def account_mark_healthy(*, account: WhatsAppAccount) -> None:
    """Back to active after an `unhealthy` spell; other statuses are left alone. Idempotent."""
    now = timezone.now()
    updated = WhatsAppAccount.objects.filter(pk=account.pk, status=Status.UNHEALTHY).update(
        status=Status.ACTIVE, status_reason="", status_error_code=None, status_changed_at=now, updated_at=now
    )
    if updated:
        logger.info("WhatsApp account %s is healthy again", account.pk)
        account.status, account.status_reason, account.status_error_code = Status.ACTIVE, "", None
        account.status_changed_at = now


def account_suspend(*, account: WhatsAppAccount, reason: str) -> None:
    """Meta disabled or deleted the WABA: nothing is sent until it is reinstated."""
    now = timezone.now()
    updated = WhatsAppAccount.objects.filter(pk=account.pk).exclude(status=Status.DRAFT).update(
        status=Status.SUSPENDED, status_reason=reason[:REASON_MAX], status_changed_at=now, updated_at=now
    )
    if updated:
        work_announce(kind=WorkKind.ALERTS)  # the alerts' sweep visits the workspace (alerts.sweep)
        logger.warning("WhatsApp account %s suspended by Meta", account.pk)
        account.status, account.status_reason, account.status_changed_at = Status.SUSPENDED, reason[:REASON_MAX], now


def account_reinstate(*, account: WhatsAppAccount) -> None:
    """Meta lifted a ban or restriction: a suspended or unhealthy account becomes active again."""
    now = timezone.now()
    updated = WhatsAppAccount.objects.filter(
        pk=account.pk, status__in=[Status.SUSPENDED, Status.UNHEALTHY]
    ).update(status=Status.ACTIVE, status_reason="", status_error_code=None, status_changed_at=now, updated_at=now)
    if updated:
        account.status, account.status_reason, account.status_error_code = Status.ACTIVE, "", None
        account.status_changed_at = now
