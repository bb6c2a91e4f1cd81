"""Platform console pages: plans (create one, publish a new version) and tenants' subscriptions (put a
tenant on a plan, change its plan now or at the next period). The writes are `billing.plans.services`,
the same the platform API calls; the forms check values with the API's schemas."""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from billing import selectors
from billing.plans import services
from billing.plans.models import Plan, PlanChange
from console.access import platform_console_view
from console.plan_forms import (
    PlanChangeForm,
    PlanCreateForm,
    PlanVersionForm,
    SubscribeForm,
    domain_error_onto_form,
    plan_version_initial,
)
from platform_core.errors import DomainError
from tenants.context import TenantRequest
from tenants.models import Tenant
from tenants.selectors import customer_tenants

SECTION = "billing"


@platform_console_view
def plans(request: TenantRequest) -> HttpResponse:
    """Every plan with its current (highest) version first and its earlier versions after it."""
    grouped = [list(versions) for _, versions in groupby(selectors.plan_versions(), key=lambda v: v.plan_id)]
    return render(
        request,
        "console/platform/plans.html",
        {"section": SECTION, "plans": [{"current": rows[0], "earlier": rows[1:]} for rows in grouped]},
    )


@platform_console_view
def plan_create(request: TenantRequest) -> HttpResponse:
    form = PlanCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                code=form.cleaned_data["code"], name=form.cleaned_data["name"], terms=form.terms()
            )
        except DomainError as error:
            domain_error_onto_form(form, error)
        else:
            messages.success(request, f"Plan {plan.name} created with its version 1.")
            return redirect("console:platform-plans")
    return render(
        request,
        "console/platform/plan_form.html",
        {"section": SECTION, "form": form, "plan": None},
        status=422 if form.is_bound else 200,
    )


def _plan_or_404(code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise Http404("No such plan.")
    return plan


@platform_console_view
def plan_version_create(request: TenantRequest, code: str) -> HttpResponse:
    """A new version of the plan, starting from its current version's terms."""
    plan = _plan_or_404(code)
    current = selectors.plan_versions().filter(plan=plan).first()
    form = PlanVersionForm(request.POST or None, initial=plan_version_initial(current) if current else None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.plan_version_create(plan=plan, terms=form.terms())
        except DomainError as error:
            domain_error_onto_form(form, error)
        else:
            messages.success(
                request,
                f"{version} published. Subscriptions stay on their version until you change their plan.",
            )
            return redirect("console:platform-plans")
    return render(
        request,
        "console/platform/plan_form.html",
        {"section": SECTION, "form": form, "plan": plan, "current": current},
        status=422 if form.is_bound else 200,
    )


@platform_console_view
def subscriptions(request: TenantRequest) -> HttpResponse:
    """Every tenant, with its subscription if it has one."""
    by_tenant = {subscription.tenant_id: subscription for subscription in selectors.subscriptions_all()}
    rows = [(tenant, by_tenant.get(tenant.pk)) for tenant in customer_tenants().order_by("name")]
    return render(request, "console/platform/subscriptions.html", {"section": SECTION, "rows": rows})


def _tenant_or_404(slug: str) -> Tenant:
    tenant = customer_tenants().filter(slug=slug).first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def _subscription_page(
    request: TenantRequest,
    tenant: Tenant,
    *,
    subscribe_form: SubscribeForm | None = None,
    change_form: PlanChangeForm | None = None,
) -> HttpResponse:
    subscription = selectors.subscription_of(tenant_id=tenant.pk)
    changes = (
        subscription.changes.select_related("from_version__plan", "to_version__plan")
        if subscription
        else PlanChange.objects.none()
    )
    return render(
        request,
        "console/platform/subscription.html",
        {
            "section": SECTION,
            "tenant": tenant,
            "subscription": subscription,
            "changes": changes,
            "subscribe_form": subscribe_form or SubscribeForm(),
            "change_form": change_form or PlanChangeForm(),
        },
        status=422 if (subscribe_form or change_form) else 200,
    )


@platform_console_view
def subscription_detail(request: TenantRequest, slug: str) -> HttpResponse:
    return _subscription_page(request, _tenant_or_404(slug))


@platform_console_view
@require_POST
def subscription_create(request: TenantRequest, slug: str) -> HttpResponse:
    tenant = _tenant_or_404(slug)
    form = SubscribeForm(request.POST)
    if form.is_valid():
        try:
            subscription = services.subscription_create(tenant=tenant, **form.subscription_terms())
        except DomainError as error:
            domain_error_onto_form(form, error)
        else:
            messages.success(request, f"{tenant.name} is on {subscription.plan_version}.")
            return redirect("console:platform-subscription", slug=tenant.slug)
    return _subscription_page(request, tenant, subscribe_form=form)


@platform_console_view
@require_POST
def subscription_change_plan(request: TenantRequest, slug: str) -> HttpResponse:
    tenant = _tenant_or_404(slug)
    subscription = selectors.subscription_of(tenant_id=tenant.pk)
    if subscription is None:
        raise Http404("This tenant has no subscription: put it on a plan first.")
    form = PlanChangeForm(request.POST)
    if form.is_valid():
        change = services.subscription_change_plan(
            subscription=subscription,
            plan_version=form.cleaned_data["plan_version"],
            timing=form.cleaned_data["timing"],
        )
        if change.timing == PlanChange.Timing.NOW:
            text = f"{tenant.name} is on {change.to_version} now; the whole current period is billed on it."
        else:
            text = f"{tenant.name} moves to {change.to_version} on {change.effective_at:%-d %b %Y}."
        messages.success(request, text)
        return redirect("console:platform-subscription", slug=tenant.slug)
    return _subscription_page(request, tenant, change_form=form)


urlpatterns = [
    path("billing/plans/", plans, name="platform-plans"),
    path("billing/plans/new", plan_create, name="platform-plan-create"),
    path("billing/plans/<slug:code>/versions/new", plan_version_create, name="platform-plan-version-create"),
    path("billing/subscriptions/", subscriptions, name="platform-subscriptions"),
    path("billing/subscriptions/<slug:slug>/", subscription_detail, name="platform-subscription"),
    path(
        "billing/subscriptions/<slug:slug>/subscribe",
        subscription_create,
        name="platform-subscription-create",
    ),
    path(
        "billing/subscriptions/<slug:slug>/plan", subscription_change_plan, name="platform-subscription-plan"
    ),
]
