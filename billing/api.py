"""Tenant billing API: live usage of the current period, statements and their CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from billing import selectors
from billing.metering import messages_meter
from billing.plans.errors import NoCreditAccount, StatementNotFound
from billing.plans.models import Statement
from billing.schemas import CreditOut, StatementOut, UsageOut
from billing.statement_pdf import statement_pdf
from billing.statements import statement_csv
from platform_core.api import paginated
from tenants.context import TenantRequest

router = Router(tags=["billing"])


def usage_out(usage: selectors.Usage) -> dict:
    version = usage.plan_version
    return {
        "plan": str(version) if version else None,
        "overage_policy": version.overage_policy if version else None,
        "period_start": usage.period_start,
        "period_end": usage.period_end,
        "meta_cost_usd": usage.meta_cost_usd,
        "categories": usage.categories,
        "days": usage.days,
    }


@router.get("/billing/usage", response=UsageOut)
def billing_usage(request: HttpRequest):
    """The current period so far: messages used against the plan, metered messages and Meta's cost."""
    return usage_out(selectors.usage_live())


def _statement(request: TenantRequest, statement_id: int) -> Statement:
    statement = selectors.statements_of(tenant_id=request.tenant.pk).filter(pk=statement_id).first()
    if statement is None:
        raise StatementNotFound(f"No statement {statement_id} in this workspace.")
    return statement


@router.get("/billing/statements", response=list[StatementOut])
@paginated
def billing_statements(request: TenantRequest):
    return selectors.statements_of(tenant_id=request.tenant.pk).prefetch_related("lines")


@router.get("/billing/statements/{int:statement_id}", response=StatementOut)
def billing_statement(request: TenantRequest, statement_id: int):
    return _statement(request, statement_id)


@router.get("/billing/statements/{int:statement_id}/csv")
def billing_statement_csv(request: TenantRequest, statement_id: int) -> HttpResponse:
    statement = _statement(request, statement_id)
    response = HttpResponse(statement_csv(statement=statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.period_start:%Y-%m-%d}.csv"'
    )
    return response


@router.get("/billing/statements/{int:statement_id}/pdf")
def billing_statement_pdf(request: TenantRequest, statement_id: int) -> HttpResponse:
    """The statement as PDF: the same lines and totals as the CSV."""
    statement = _statement(request, statement_id)
    response = HttpResponse(statement_pdf(statement=statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.period_start:%Y-%m-%d}.pdf"'
    )
    return response


@router.get("/billing/credit", response=CreditOut)
def billing_credit(request: TenantRequest):
    """The workspace's prepaid balance (after drawing what metering found) and its spend alerts."""
    messages_meter()
    account = selectors.credit_account_of(tenant_id=request.tenant.pk)
    if account is None:
        raise NoCreditAccount("This workspace has no prepaid balance.")
    return {
        "tenant": request.tenant.slug,
        "currency": account.currency,
        "balance": account.balance,
        "alert_base": account.alert_base,
        "alert_percents": account.alert_percents,
        "alerts": selectors.credit_alerts_current(account=account),
    }
