"""Platform console pages: billing. Plans and their versions, every tenant's subscription, and the
latest statements. Read-only here: plans and subscriptions are written through the platform API."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from billing import selectors
from console.access import platform_console_view
from tenants.context import TenantRequest


@platform_console_view
def platform_billing(request: TenantRequest) -> HttpResponse:
    return render(
        request,
        "console/platform/billing.html",
        {
            "section": "billing",
            "plan_versions": selectors.plan_versions(),
            "subscriptions": selectors.subscriptions_all(),
            "statements": selectors.statements_recent(),
        },
    )


urlpatterns = [path("billing/", platform_billing, name="platform-billing")]
