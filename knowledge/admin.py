from django.contrib import admin
from django.http import HttpRequest

from knowledge.models import FaqEntry, KnowledgeAnswer
from platform_core.admin_sites import tenant_admin_site


@admin.register(FaqEntry, site=tenant_admin_site)
class FaqEntryAdmin(admin.ModelAdmin):
    """Read-only here: entries are written through the API or the console, which keep the search vector."""

    list_display = ("question", "language", "is_active", "updated_at")
    list_filter = ("language", "is_active")
    search_fields = ("question", "answer")
    readonly_fields = (
        "question",
        "variants",
        "answer",
        "language",
        "tags",
        "is_active",
        "created_at",
        "updated_at",
    )
    exclude = ("search_vector", "search_config")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(KnowledgeAnswer, site=tenant_admin_site)
class KnowledgeAnswerAdmin(admin.ModelAdmin):
    list_display = ("created_at", "question", "outcome", "source", "score")
    list_filter = ("outcome", "source")
    readonly_fields = (
        "inbound_message",
        "contact",
        "question",
        "entry",
        "score",
        "outcome",
        "source",
        "created_at",
    )
