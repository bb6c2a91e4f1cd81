"""Roles in the workspace admin: shown, not edited, so the owner rules of `team.services` (which the
console's Team page goes through) cannot be stepped around."""

from __future__ import annotations

from django.contrib import admin

from platform_core.admin_sites import ReadOnlyAdmin, tenant_admin_site
from team.models import Membership


@admin.register(Membership, site=tenant_admin_site)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "updated_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email")
