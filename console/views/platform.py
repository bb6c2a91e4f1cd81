"""Platform console pages: tenants, account health, the webhook journal, dead letters."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from console.access import platform_console_view
from tenants.context import TenantRequest
from tenants.models import Tenant


@platform_console_view
def tenants(request: TenantRequest) -> HttpResponse:
    rows = Tenant.objects.exclude(status=Tenant.Status.TEMPLATE).exclude(schema_name="public").order_by("slug")
    return render(request, "console/platform/tenants.html", {"section": "tenants", "tenants": rows})


urlpatterns = [path("tenants/", tenants, name="platform-tenants")]
