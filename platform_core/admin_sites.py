"""Two admin sites: the platform admin on the public host, each tenant's own admin on its host.

They never share a model registry, so a tenant's admin never lists public models
(tenants, other tenants' keys) and the platform admin never touches tenant tables.
Users live per schema: a tenant's admin users exist only in that tenant's schema,
so they cannot log in on the public host or on another tenant's host.
"""

from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest

PRODUCT_NAME = "WhatsApp Business Platform"


class PlatformAdminSite(AdminSite):
    site_header = f"{PRODUCT_NAME}: platform admin"
    site_title = "Platform admin"
    index_title = "Tenants, webhooks and platform health"
    # "View site" leads to the host's landing page (platform_core.landing).
    site_url = "/"


class TenantAdminSite(AdminSite):
    site_header = "WhatsApp Business: workspace admin"
    site_title = "Workspace admin"
    index_title = "Accounts, messages and automations"
    site_url = "/"

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = f"{tenant.name}: workspace admin"
            context["site_title"] = f"{tenant.name} workspace admin"
        return context


platform_admin_site = PlatformAdminSite(name="platform_admin")
tenant_admin_site = TenantAdminSite(name="tenant_admin")

for site in (platform_admin_site, tenant_admin_site):
    site.register(User, UserAdmin)
    site.register(Group, GroupAdmin)


class ReadOnlyAdmin(ModelAdmin):
    """Rows written by pipelines (messages, history, derived data): shown, never added or edited by hand.

    Admin actions still run. Deleting is refused too unless a subclass sets `deletable = True`.
    """

    deletable = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)
