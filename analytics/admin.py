"""Admin: health logs, events and roll-ups in each tenant's admin; every tenant's account health in the platform admin."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from analytics.models import AccountHealthEvent, AccountHealthLog, TenantAccountHealth, UsageDaily
from analytics.selectors import platform_accounts_health_summarised
from platform_core.admin_sites import ReadOnlyAdmin, platform_admin_site, tenant_admin_site

PAGE_SIZE = 100


@admin.register(AccountHealthLog, site=tenant_admin_site)
class AccountHealthLogAdmin(ReadOnlyAdmin):
    list_display = [
        "checked_at",
        "account",
        "healthy",
        "reachable",
        "graph_latency_ms",
        "error_code",
        "account_status",
    ]
    list_filter = ["healthy", "reachable", "account"]
    date_hierarchy = "checked_at"


@admin.register(AccountHealthEvent, site=tenant_admin_site)
class AccountHealthEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "account", "phone_number", "kind", "old_value", "new_value", "reason"]
    list_filter = ["kind", "account"]
    date_hierarchy = "occurred_at"


@admin.register(UsageDaily, site=tenant_admin_site)
class UsageDailyAdmin(ReadOnlyAdmin):
    list_display = [
        "day",
        "account",
        "phone_number",
        "sent",
        "delivered",
        "read",
        "failed",
        "received",
        "replies",
    ]
    list_filter = ["account"]
    date_hierarchy = "day"


@admin.register(TenantAccountHealth, site=platform_admin_site)
class PlatformAccountHealthAdmin(ReadOnlyAdmin):
    """Every tenant's WhatsApp accounts, unhealthy first, from the public summary the health checks
    keep (no model rows of its own): a page costs the same at 10 tenants as at 10,000."""

    def has_view_permission(self, request: HttpRequest, obj: TenantAccountHealth | None = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        status = request.GET.get("status") or None
        page = Paginator(platform_accounts_health_summarised(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Account health across tenants",
            "opts": self.model._meta,
            "page": page,
            "accounts": page.object_list,
            "status": status,
            "statuses": ["unhealthy", "active", "suspended", "draft"],
        }
        return TemplateResponse(request, "analytics/platform_account_health.html", context)
