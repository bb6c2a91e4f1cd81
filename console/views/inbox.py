"""Console pages: the inbox."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from console.access import tenant_console_view
from tenants.context import TenantRequest


@tenant_console_view
def inbox(request: TenantRequest) -> HttpResponse:
    return render(request, "console/inbox.html", {"section": "inbox"})


urlpatterns = [path("inbox/", inbox, name="inbox")]
