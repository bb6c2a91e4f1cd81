"""The audit log in both admins, read only: the platform's entries on the public host, a workspace's
on its own host."""

from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEntry
from platform_core.admin_sites import ReadOnlyAdmin, platform_admin_site, tenant_admin_site


@admin.register(AuditEntry, site=platform_admin_site)
@admin.register(AuditEntry, site=tenant_admin_site)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "client_address",
    )
    list_filter = ("action", "actor_type", "object_type")
    search_fields = ("actor_label", "object_id", "object_repr", "request_id")
    date_hierarchy = "created_at"
