"""The prepaid balance: top-ups, the draw-down after each metering run, spend alerts, and the check
that stops sending at zero when the plan says so.

Accounts and movements live in the public schema; the metered messages a draw-down pays for live in
the tenant's. Both are in one database, so one transaction covers both: a metered row is marked
`credit_drawn` in the same transaction that writes its movement, and a row is drawn once however
often metering runs (rows not yet drawn are read and marked under the account's row lock).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django_tenants.utils import get_public_schema_name, schema_context

from billing.models import MeteredMessage
from billing.plans.errors import BalanceExhausted
from billing.plans.models import CreditAccount, CreditAlert, CreditMovement, PlanVersion, Subscription
from platform_core import usage_limits
from tenants.context import connection
from tenants.models import Tenant

MICRO = Decimal("0.000001")
CENT = Decimal("0.01")


def _subscription_of(tenant_id: int) -> Subscription | None:
    return Subscription.objects.select_related("plan_version").filter(tenant_id=tenant_id).first()


def _tenant_current() -> Tenant | None:
    """The tenant whose schema is in use (a job's schema_context gives no Tenant row, only the name)."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant):
        return tenant
    if connection.schema_name == get_public_schema_name():
        return None
    return Tenant.objects.filter(schema_name=connection.schema_name).first()


def _cost_factor(version: PlanVersion | None) -> Decimal:
    """What one USD of Meta's cost is charged in the plan's currency: its rate plus the markup."""
    if version is None:
        return Decimal("1")
    return version.usd_rate * (1 + version.markup_percent / 100)


@transaction.atomic
def credit_top_up(
    *,
    tenant: Tenant,
    amount: Decimal,
    note: str = "",
    created_by: str = "",
    alert_percents: list[int] | None = None,
) -> CreditMovement:
    """Add `amount` to the tenant's balance (opening its account in the plan's currency, else USD).

    Spend alerts count again from the new balance. Runs in the public schema (and in the tenant's
    when it opens the account).
    """
    account = CreditAccount.objects.select_for_update().filter(tenant=tenant).first()
    if account is None:
        subscription = _subscription_of(tenant.pk)
        currency = subscription.plan_version.currency if subscription else "USD"
        account, opened = CreditAccount.objects.get_or_create(tenant=tenant, defaults={"currency": currency})
        if opened:
            with schema_context(tenant.schema_name):
                # What was metered before the account existed was billed otherwise, not from it.
                MeteredMessage.objects.filter(credit_drawn=False).update(credit_drawn=True)
        account = CreditAccount.objects.select_for_update().get(pk=account.pk)
    account.balance += amount
    account.alert_base = account.balance
    if alert_percents is not None:
        account.alert_percents = sorted(set(alert_percents))
    account.save(update_fields=["balance", "alert_base", "alert_percents", "updated_at"])
    return CreditMovement.objects.create(
        account=account,
        kind=CreditMovement.Kind.TOP_UP,
        amount=amount,
        balance_after=account.balance,
        note=note[:200],
        created_by=created_by[:150],
    )


def credit_draw_down() -> CreditMovement | None:
    """Pay the metered messages not yet drawn from the current tenant's balance: one movement, or
    None when it has no account or nothing new was metered. Runs in the tenant's schema; idempotent.

    Messages metered before the account was opened are never drawn (credit_top_up marks them).
    """
    tenant = _tenant_current()
    if tenant is None:
        return None
    with transaction.atomic():
        account = CreditAccount.objects.select_for_update().filter(tenant_id=tenant.pk).first()
        if account is None:
            return None
        drawn = list(
            MeteredMessage.objects.filter(credit_drawn=False)
            .select_for_update()
            .values_list("id", "billable", "meta_cost_usd")
        )
        if not drawn:
            return None
        MeteredMessage.objects.filter(pk__in=[row[0] for row in drawn]).update(credit_drawn=True)
        subscription = _subscription_of(tenant.pk)
        cost_usd = sum((row[2] for row in drawn), Decimal("0"))
        amount = (cost_usd * _cost_factor(subscription.plan_version if subscription else None)).quantize(
            MICRO, rounding=ROUND_HALF_UP
        )
        account.balance -= amount
        account.save(update_fields=["balance", "updated_at"])
        movement = CreditMovement.objects.create(
            account=account,
            kind=CreditMovement.Kind.USAGE,
            amount=-amount,
            balance_after=account.balance,
            messages=sum(1 for row in drawn if row[1]),
        )
        credit_alerts_raise(account=account)
    return movement


def credit_alerts_raise(*, account: CreditAccount) -> list[CreditAlert]:
    """Record each threshold the balance has crossed since the last top-up and not yet alerted on,
    and mail the tenant's admins once (after the commit) naming the highest. Runs in the tenant's schema."""
    top_up = account.movements.filter(kind=CreditMovement.Kind.TOP_UP).order_by("-id").first()
    if top_up is None:
        return []
    already = set(CreditAlert.objects.filter(top_up=top_up).values_list("percent", flat=True))
    raised = []
    for percent in sorted(int(p) for p in account.alert_percents):
        if percent in already:
            continue
        threshold = account.alert_base * (100 - percent) / 100
        if account.balance <= threshold:
            raised.append(
                CreditAlert.objects.create(
                    account=account, top_up=top_up, percent=percent, balance=account.balance
                )
            )
    if raised:
        recipients = credit_alert_recipients()
        if recipients:
            subject, body = credit_alert_mail(account=account, alert=raised[-1])
            transaction.on_commit(
                lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)
            )
    return raised


def credit_alert_recipients() -> list[str]:
    """The e-mail addresses of the current tenant's active owners and admins (the roles that get the
    superuser and staff flags)."""
    users = get_user_model().objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(is_staff=True))
    return sorted({email for email in users.values_list("email", flat=True) if email})


def credit_alert_mail(*, account: CreditAccount, alert: CreditAlert) -> tuple[str, str]:
    balance = f"{account.balance.quantize(CENT, rounding=ROUND_HALF_UP)} {account.currency}"
    if alert.percent >= 100:
        subject = "Your WhatsApp credit is used up"
        body = f"Your prepaid credit is used up (balance {balance})."
    else:
        subject = f"You have used {alert.percent} % of your WhatsApp credit"
        body = f"You have used {alert.percent} % of the credit of your last top-up; {balance} is left."
    body += "\n\nAsk the platform team for a top-up to keep sending.\n"
    return subject, body


def credit_balance_check(*, subscription: Subscription, resource: str) -> None:
    """Refuse messages (402 balance_exhausted) while a prepaid plan's balance is zero or below.

    Called by billing.limits.billing_usage_check in the tenant's schema. Without an account a
    prepaid plan's balance is zero. The balance is drawn after delivery, so the last sends before
    zero may take it a little below.
    """
    if resource != usage_limits.MESSAGES or not subscription.plan_version.stop_at_zero_balance:
        return
    account = CreditAccount.objects.filter(tenant_id=subscription.tenant_id).first()
    balance = account.balance if account else Decimal("0")
    currency = account.currency if account else subscription.plan_version.currency
    if balance <= 0:
        shown = balance.quantize(CENT, rounding=ROUND_HALF_UP)
        raise BalanceExhausted(
            f"The prepaid balance is {shown} {currency}: sending resumes after a top-up.",
            details={"balance": str(shown), "currency": currency},
        )
