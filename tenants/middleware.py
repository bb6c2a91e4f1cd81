"""Host-based tenant routing with the platform's own answers for unknown and suspended tenants."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django_tenants.middleware.main import TenantMainMiddleware

from platform_core.api import error_response, wants_json
from tenants.context import TenantRequest
from tenants.models import Tenant


class TenantMiddleware(TenantMainMiddleware):
    def process_request(self, request: TenantRequest) -> HttpResponse | None:
        response = super().process_request(request)
        if response is not None:
            return response
        tenant: Tenant = request.tenant
        if tenant.status == Tenant.Status.TEMPLATE:
            return self.no_tenant_found(request, tenant.domain_url)
        if tenant.is_suspended:
            message = f"The workspace {tenant.slug!r} is suspended."
            if wants_json(request):
                return error_response(403, "tenant_suspended", message)
            html = render_to_string("tenants/suspended.html", {"tenant": tenant})
            return HttpResponse(html, status=403)
        return None

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        message = f"No workspace is served at {hostname!r}."
        if wants_json(request):
            return error_response(404, "unknown_host", message)
        return HttpResponse(f"<h1>Not found</h1><p>{escape(message)}</p>", status=404)
