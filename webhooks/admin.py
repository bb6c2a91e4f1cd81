"""Platform admin: the webhook journal and the dead letters, each with a replay action."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from messaging.admin import ReadOnlyAdmin
from platform_core.admin_sites import platform_admin_site
from webhooks.journal import journal_entries_requeue
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry
from webhooks.processing import dead_letter_replay

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin


def _pretty(data: object) -> str:
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', json.dumps(data, indent=2, ensure_ascii=False))


@admin.register(WebhookJournalEntry, site=platform_admin_site)
class WebhookJournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "app_id", "received_at", "state", "attempts", "outcome", "error"]
    list_filter = ["state", "app_id"]
    search_fields = ["=id", "=app_id"]
    fields = ["app_id", "received_at", "signature_verified", "state", "attempts", "available_at", "claimed_by",
              "processed_at", "outcome", "last_error", "payload"]
    readonly_fields = flatten(fields)
    actions = ["replay"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookJournalEntry]:
        return super().get_queryset(request).defer("body")  # up to 3 MB a row: loaded only when shown

    @admin.display(description="last error")
    def error(self, entry: WebhookJournalEntry) -> str:
        return entry.last_error[:120]

    @admin.display(description="body")
    def payload(self, entry: WebhookJournalEntry) -> str:
        try:
            return _pretty(json.loads(bytes(entry.body)))
        except ValueError:
            return format_html("<pre>{}</pre>", bytes(entry.body)[:20000].decode("utf-8", errors="replace"))

    @admin.action(description="Process the selected entries again (safe: processing is idempotent)")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookJournalEntry]) -> None:
        count = journal_entries_requeue(entry_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"Queued {count} journal entr{'y' if count == 1 else 'ies'} again.")


class ResolvedFilter(admin.SimpleListFilter):
    title = "resolved"
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("no", "Waiting"), ("yes", "Delivered by a replay")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(WebhookDeadLetter, site=platform_admin_site)
class WebhookDeadLetterAdmin(ReadOnlyAdmin):
    list_display = ["id", "field", "routing_kind", "routing_id", "reason", "created_at", "replay_count",
                    "resolved_at", "resolved_tenant"]
    list_filter = [ResolvedFilter, "reason", "field"]
    search_fields = ["=routing_id", "=app_id"]
    list_select_related = ["resolved_tenant"]
    fields = ["app_id", "journal_entry", "field", "routing_kind", "routing_id", "reason", "detail", "created_at",
              "replay_count", "last_replayed_at", "resolved_at", "resolved_tenant", "change"]
    readonly_fields = flatten(fields)
    actions = ["replay"]

    @admin.display(description="change")
    def change(self, dead_letter: WebhookDeadLetter) -> str:
        return _pretty(dead_letter.envelope)

    @admin.action(description="Route the selected dead letters again and process them where they belong now")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDeadLetter]) -> None:
        results = [dead_letter_replay(dead_letter_id=pk) for pk in queryset.values_list("id", flat=True)]
        delivered = [result for result in results if result.delivered]
        waiting = [result for result in results if not result.delivered]
        if delivered:
            self.message_user(request, f"Delivered {len(delivered)}.", messages.SUCCESS)
        if waiting:
            reasons = sorted({result.reason for result in waiting})
            self.message_user(request, f"{len(waiting)} still undeliverable ({', '.join(reasons)}).",
                              messages.WARNING)
