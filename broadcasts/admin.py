"""Broadcasts in the tenant admin: read-only, with their progress (cancel through the API)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from broadcasts.models import Broadcast
from broadcasts.selectors import broadcast_progress, broadcast_state
from platform_core.admin_sites import tenant_admin_site


@admin.register(Broadcast, site=tenant_admin_site)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "template_name", "template_language", "phone_number", "state", "total_recipients", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "template_name")
    readonly_fields = [field.name for field in Broadcast._meta.fields] + ["progress"]

    @admin.display(description="state")
    def state(self, broadcast: Broadcast) -> str:
        return broadcast_state(broadcast=broadcast, progress=broadcast_progress(broadcast=broadcast))

    @admin.display(description="progress")
    def progress(self, broadcast: Broadcast) -> str:
        counts = broadcast_progress(broadcast=broadcast).__dict__
        return ", ".join(f"{name} {count}" for name, count in counts.items())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        return False
