"""Where `/app/` leads: the tenant console opens on its inbox, the platform console on its tenants."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path

from console.access import console_login_required, on_public_host
from tenants.context import TenantRequest


@console_login_required
def home(request: TenantRequest) -> HttpResponse:
    return redirect("console:platform-tenants" if on_public_host(request) else "console:inbox")


urlpatterns = [path("", home, name="home")]
