"""Console pages: billing. The current period's usage against the plan with Meta's cost by day and
category, the prepaid balance with its spend alerts, and the workspace's statements (each with its
lines and CSV and PDF downloads)."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from billing import selectors
from billing.plans.models import Statement
from billing.statement_pdf import statement_pdf
from billing.statements import statement_csv
from console.access import tenant_console_view
from console.charts import BAD, BRAND, INFO, WARN, Chart, Series, Table, bar_chart, chart_csv
from tenants.context import TenantRequest

CATEGORY_COLOURS = {"marketing": BRAND, "utility": INFO, "authentication": WARN}


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.4f}"


def spend_chart(usage: selectors.Usage) -> Chart:
    """Meta's cost per day of the period, one bar per category."""
    categories = sorted({category for day in usage.days for category in day.by_category})
    labels = [f"{day.day:%b} {day.day.day}" for day in usage.days]
    return bar_chart(
        name="spend",
        title="Meta's cost per day",
        description="What Meta charges for the delivered messages of each day (USD, before markup), by category.",
        categories=labels,
        series=[
            Series(
                category.replace("_", " ").capitalize(),
                [float(day.by_category.get(category, Decimal("0"))) for day in usage.days],
                CATEGORY_COLOURS.get(category, BAD),
            )
            for category in categories
        ],
        x_label="Day (UTC)",
        y_label="USD",
        y_format=_usd,
        table=Table(
            ["Day", *categories],
            [
                [day.day.isoformat(), *[float(day.by_category.get(c, Decimal("0"))) for c in categories]]
                for day in usage.days
            ],
        ),
    )


def _credit(request: TenantRequest) -> dict:
    """The prepaid balance and the spend alerts since the last top-up (usage_live drew it down)."""
    account = selectors.credit_account_of(tenant_id=request.tenant.pk)
    alerts = selectors.credit_alerts_current(account=account) if account else []
    return {"credit": account, "credit_alert": alerts[0] if alerts else None}


@tenant_console_view(area="billing")
@require_GET
def billing(request: TenantRequest) -> HttpResponse:
    usage = selectors.usage_live()
    chart = spend_chart(usage)
    if request.GET.get("format") == "csv" and request.GET.get("chart") == chart.name:
        response = HttpResponse(chart_csv(chart), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="billing-{chart.name}.csv"'
        return response
    return render(
        request,
        "console/billing/index.html",
        {
            "section": "billing",
            "usage": usage,
            "chart": chart,
            "query": "",
            "statements": selectors.statements_of(tenant_id=request.tenant.pk)[:24],
            **_credit(request),
        },
    )


def _statement(request: TenantRequest, statement_id: int) -> Statement:
    statement = selectors.statements_of(tenant_id=request.tenant.pk).filter(pk=statement_id).first()
    if statement is None:
        raise Http404("No such statement here.")
    return statement


@tenant_console_view(area="billing")
def statement_detail(request: TenantRequest, statement_id: int) -> HttpResponse:
    statement = _statement(request, statement_id)
    return render(
        request,
        "console/billing/statement.html",
        {"section": "billing", "statement": statement, "lines": statement.lines.order_by("position")},
    )


@tenant_console_view(area="billing")
def statement_download(request: TenantRequest, statement_id: int) -> HttpResponse:
    statement = _statement(request, statement_id)
    response = HttpResponse(statement_csv(statement=statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.period_start:%Y-%m-%d}.csv"'
    )
    return response


@tenant_console_view(area="billing")
def statement_pdf_download(request: TenantRequest, statement_id: int) -> HttpResponse:
    statement = _statement(request, statement_id)
    response = HttpResponse(statement_pdf(statement=statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.period_start:%Y-%m-%d}.pdf"'
    )
    return response


urlpatterns = [
    path("billing/", billing, name="billing"),
    path("billing/statements/<int:statement_id>/", statement_detail, name="billing-statement"),
    path("billing/statements/<int:statement_id>/csv", statement_download, name="billing-statement-csv"),
    path("billing/statements/<int:statement_id>/pdf", statement_pdf_download, name="billing-statement-pdf"),
]
