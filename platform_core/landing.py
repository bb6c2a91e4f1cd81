"""The page at `/` on every host: which product this is and where its admin and API docs live.

The admins' "View site" link leads here. A tenant's host names its workspace; the public host
points tenants to their own hosts.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin import AdminSite
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe
from django_tenants.utils import get_public_schema_name
from ninja import NinjaAPI

from platform_core.admin_sites import PRODUCT_NAME
from tenants.context import TenantRequest


@require_safe
def landing_page(request: TenantRequest, *, admin_site: AdminSite, api: NinjaAPI) -> HttpResponse:
    tenant = request.tenant
    workspace = None if tenant.schema_name == get_public_schema_name() else tenant
    context = {
        "product_name": PRODUCT_NAME,
        "workspace": workspace,
        "console_url": reverse("console:home"),
        "admin_url": reverse(f"{admin_site.name}:index"),
        "api_url": reverse(f"{api.urls_namespace}:api-root"),
        "docs_url": reverse(f"{api.urls_namespace}:openapi-view"),
        "platform_domain": settings.PLATFORM_DOMAIN,
        "key_prefix": settings.API_KEY_PREFIX if workspace else settings.PLATFORM_API_KEY_PREFIX,
    }
    return render(request, "platform_core/landing.html", context)


@require_safe
def favicon(request: TenantRequest) -> HttpResponse:
    """Browsers ask every host for /favicon.ico; the admin pages name none."""
    return HttpResponseRedirect(static("platform_core/favicon.svg"))
