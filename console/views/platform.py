"""Platform console pages: tenants (create, suspend, resume, their accounts' health), account health
across tenants, the webhook journal's backlog, the workers' heartbeats and the dead letters."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from analytics.selectors import platform_accounts_health
from console import platform_selectors
from console.access import platform_console_view
from platform_core.counters import traffic_summary
from platform_core.errors import DomainError
from tenants import services
from tenants.context import TenantRequest
from tenants.errors import TenantNotFound
from tenants.health_summary import account_health_summaries
from tenants.hosts import tenant_base_url
from tenants.models import Tenant
from webhooks.journal import journal_entries_requeue
from webhooks.models import WebhookDeadLetter
from webhooks.processing import dead_letter_replay

DEAD_LETTERS_PER_PAGE = 25
REQUEUE_BATCH = 1000
# The health page's sending figures cover this many minutes (the workers' counters, per minute).
TRAFFIC_MINUTES = 5


class TenantCreateForm(forms.Form):
    slug = forms.CharField(
        max_length=40,
        help_text="Lowercase letters, digits and hyphens. It names the workspace's host: <code>slug.your-domain</code>.",
    )
    name = forms.CharField(max_length=200, help_text="The business's name, shown in its console.")
    admin_email = forms.EmailField(
        label="Admin e-mail", help_text="The first user. They get a link to set their password."
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded with the suspension and shown to the platform staff.",
    )


def _tenant_or_404(slug: str) -> Tenant:
    try:
        return services.tenant_get(slug=slug)
    except TenantNotFound:
        raise Http404("No such tenant.") from None


@platform_console_view
def tenants(request: TenantRequest) -> HttpResponse:
    return render(
        request,
        "console/platform/tenants.html",
        {"section": "tenants", "tenants": platform_selectors.tenants_overview()},
    )


@platform_console_view
def tenant_create(request: TenantRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.tenant_create(
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                admin_email=form.cleaned_data["admin_email"],
                created_by=f"console:{request.user.get_username()}",
            )
        except DomainError as error:
            form.add_error(_field_of(error, form), error.message)
        else:
            host_url = tenant_base_url(domain=created.domain)
            return render(
                request,
                "console/platform/tenant_created.html",
                {"section": "tenants", "created": created, "host_url": host_url},
            )
    return render(request, "console/platform/tenant_create.html", {"section": "tenants", "form": form})


def _field_of(error: DomainError, form: forms.Form) -> str | None:
    """The form field a service's error names (its `details`), else None for the whole form."""
    details = error.details if isinstance(error.details, list) else []
    for detail in details:
        name = detail.get("field") if isinstance(detail, dict) else None
        if name in form.fields:
            return name
        if name == "admin_username":
            return "admin_email"
    return None


@platform_console_view
def tenant_detail(request: TenantRequest, slug: str) -> HttpResponse:
    tenant = _tenant_or_404(slug)
    primary = tenant.domains.filter(is_primary=True).first()
    return render(
        request,
        "console/platform/tenant_detail.html",
        {
            "section": "tenants",
            "tenant": tenant,
            "host_url": tenant_base_url(domain=primary.domain) if primary else None,
            "suspend_form": SuspendForm(),
            "accounts": platform_accounts_health(tenant_slug=tenant.slug),
        },
    )


@platform_console_view
@require_POST
def tenant_suspend(request: TenantRequest, slug: str) -> HttpResponse:
    tenant = _tenant_or_404(slug)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        primary = tenant.domains.filter(is_primary=True).first()
        return render(
            request,
            "console/platform/tenant_detail.html",
            {
                "section": "tenants",
                "tenant": tenant,
                "host_url": tenant_base_url(domain=primary.domain) if primary else None,
                "suspend_form": form,
                "accounts": platform_accounts_health(tenant_slug=tenant.slug),
            },
            status=400,
        )
    services.tenant_suspend(tenant=tenant, reason=form.cleaned_data["reason"])
    messages.success(request, f"{tenant.name} is suspended.")
    return redirect("console:platform-tenant", slug=tenant.slug)


@platform_console_view
@require_POST
def tenant_resume(request: TenantRequest, slug: str) -> HttpResponse:
    tenant = _tenant_or_404(slug)
    services.tenant_resume(tenant=tenant)
    messages.success(request, f"{tenant.name} is active again.")
    return redirect("console:platform-tenant", slug=tenant.slug)


@platform_console_view
def health(request: TenantRequest) -> HttpResponse:
    unhealthy_only = request.GET.get("status") == "unhealthy"
    try:
        page = int(request.GET.get("page") or 1)
    except ValueError:
        page = 1
    return render(
        request,
        "console/platform/health.html",
        {
            "section": "health",
            "summary": account_health_summaries(page=page, unhealthy_only=unhealthy_only),
            "unhealthy_only": unhealthy_only,
            "traffic": traffic_summary(minutes=TRAFFIC_MINUTES),
        },
    )


@platform_console_view
def webhooks(request: TenantRequest) -> HttpResponse:
    page = Paginator(platform_selectors.dead_letters_waiting(), DEAD_LETTERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "console/platform/webhooks.html",
        {
            "section": "webhooks",
            "journal": platform_selectors.journal_status(),
            "workers": platform_selectors.workers_status(),
            "reasons": platform_selectors.dead_letters_by_reason(),
            "resolved_count": platform_selectors.dead_letters_resolved_count(),
            "page": page,
        },
    )


@platform_console_view
@require_POST
def journal_failed_requeue(request: TenantRequest) -> HttpResponse:
    count = journal_entries_requeue(entry_ids=platform_selectors.journal_failed_ids(limit=REQUEUE_BATCH))
    if count:
        messages.success(request, f"Queued {count} failed journal entr{'y' if count == 1 else 'ies'} again.")
    else:
        messages.info(request, "No failed journal entries to queue again.")
    return redirect("console:platform-webhooks")


def _dead_letter_or_404(dead_letter_id: int) -> WebhookDeadLetter:
    dead_letter = (
        WebhookDeadLetter.objects.select_related("resolved_tenant").filter(pk=dead_letter_id).first()
    )
    if dead_letter is None:
        raise Http404("No such dead letter.")
    return dead_letter


@platform_console_view
def dead_letter_detail(request: TenantRequest, dead_letter_id: int) -> HttpResponse:
    dead_letter = _dead_letter_or_404(dead_letter_id)
    return render(
        request,
        "console/platform/dead_letter.html",
        {
            "section": "webhooks",
            "dead_letter": dead_letter,
            "envelope": json.dumps(dead_letter.envelope, indent=2, ensure_ascii=False),
        },
    )


@platform_console_view
@require_POST
def dead_letter_replay_view(request: TenantRequest, dead_letter_id: int) -> HttpResponse:
    dead_letter = _dead_letter_or_404(dead_letter_id)
    result = dead_letter_replay(dead_letter_id=dead_letter.pk)
    if result.delivered:
        messages.success(request, f"Dead letter #{dead_letter.pk} was delivered to {result.tenant_slug}.")
    else:
        reason = (
            WebhookDeadLetter.Reason(result.reason).label
            if result.reason in WebhookDeadLetter.Reason.values
            else result.reason
        )
        messages.warning(request, f"Dead letter #{dead_letter.pk} is still undeliverable: {reason}.")
    if request.POST.get("from") == "detail":
        return redirect("console:platform-dead-letter", dead_letter_id=dead_letter.pk)
    return redirect("console:platform-webhooks")


urlpatterns = [
    path("tenants/", tenants, name="platform-tenants"),
    path("tenants/new/", tenant_create, name="platform-tenant-create"),
    path("tenants/<slug:slug>/", tenant_detail, name="platform-tenant"),
    path("tenants/<slug:slug>/suspend/", tenant_suspend, name="platform-tenant-suspend"),
    path("tenants/<slug:slug>/resume/", tenant_resume, name="platform-tenant-resume"),
    path("health/", health, name="platform-health"),
    path("webhooks/", webhooks, name="platform-webhooks"),
    path("webhooks/requeue-failed/", journal_failed_requeue, name="platform-journal-requeue"),
    path("webhooks/dead-letters/<int:dead_letter_id>/", dead_letter_detail, name="platform-dead-letter"),
    path(
        "webhooks/dead-letters/<int:dead_letter_id>/replay/",
        dead_letter_replay_view,
        name="platform-dead-letter-replay",
    ),
]
