"""Admin: each tenant's incidents, read-only (they open and close only from the conditions found)."""

from __future__ import annotations

from django.contrib import admin

from alerts.models import Incident
from platform_core.admin_sites import ReadOnlyAdmin, tenant_admin_site


@admin.register(Incident, site=tenant_admin_site)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["opened_at", "kind", "subject_label", "summary", "resolved_at", "last_notified_at"]
    list_filter = ["kind"]
    date_hierarchy = "opened_at"
