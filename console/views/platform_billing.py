"""Platform console pages: billing. Plans and their versions, every tenant's subscription and prepaid
balance, the latest statements, and a form to top a tenant's balance up. Plans and subscriptions are
written on their own pages (`platform_plans`) or through the platform API."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from billing import selectors
from billing.credit import credit_top_up
from billing.statement_pdf import statement_pdf
from console.access import platform_console_view
from tenants.context import TenantRequest
from tenants.models import Tenant
from tenants.selectors import customer_tenants


class TopUpForm(forms.Form):
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.none(), to_field_name="slug", empty_label="Choose a tenant"
    )
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text="In the tenant's currency (its plan's, for a first top-up).",
    )
    note = forms.CharField(max_length=200, required=False, help_text="E.g. the payment's reference.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        tenant_field = self.fields["tenant"]
        assert isinstance(tenant_field, forms.ModelChoiceField)
        tenant_field.queryset = customer_tenants().order_by("name")


@platform_console_view
def platform_billing(request: TenantRequest) -> HttpResponse:
    form = TopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tenant = form.cleaned_data["tenant"]
        movement = credit_top_up(
            tenant=tenant,
            amount=form.cleaned_data["amount"],
            note=form.cleaned_data["note"],
            created_by=f"console:{request.user.get_username()}",
        )
        messages.success(
            request,
            f"{tenant.name}: {form.cleaned_data['amount']} added; the balance is "
            f"{movement.balance_after:.2f} {movement.account.currency}.",
        )
        return redirect("console:platform-billing")
    return render(
        request,
        "console/platform/billing.html",
        {
            "section": "billing",
            "plan_versions": selectors.plan_versions(),
            "subscriptions": selectors.subscriptions_all(),
            "statements": selectors.statements_recent(),
            "credit_accounts": selectors.credit_accounts_all(),
            "top_up_form": form,
        },
        status=422 if form.is_bound else 200,
    )


@platform_console_view
def platform_statement_pdf(request: TenantRequest, statement_id: int) -> HttpResponse:
    statement = selectors.statement_any(statement_id=statement_id)
    if statement is None:
        raise Http404("No such statement.")
    response = HttpResponse(statement_pdf(statement=statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.tenant.slug}-{statement.period_start:%Y-%m-%d}.pdf"'
    )
    return response


urlpatterns = [
    path("billing/", platform_billing, name="platform-billing"),
    path(
        "billing/statements/<int:statement_id>/pdf",
        platform_statement_pdf,
        name="platform-billing-statement-pdf",
    ),
]
