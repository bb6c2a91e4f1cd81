"""Tenant admin: messages, conversations, contacts and kept inbound media, searchable by phone or name. Read-only:
messages are written by the webhook and send pipelines, never edited by hand."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from messaging.media import inbound_media_retry
from messaging.models import Contact, Conversation, Message, MessageMedia
from platform_core.admin_sites import ReadOnlyAdmin as BaseReadOnlyAdmin
from platform_core.admin_sites import tenant_admin_site
from platform_core.errors import DomainError


class ReadOnlyAdmin(BaseReadOnlyAdmin):
    show_full_result_count = False  # no COUNT(*) over the whole table on every page


@admin.register(Message, site=tenant_admin_site)
class MessageAdmin(ReadOnlyAdmin):
    """The list keeps to five columns so the text stays readable beside the filters: the type joins
    the text, the business number is a filter, and long text is cut to a preview."""

    PREVIEW_CHARS = 100

    list_display = ["timestamp", "customer", "direction", "status", "text"]
    list_filter = ["direction", "type", "status", "phone_number", ("timestamp", admin.DateFieldListFilter)]
    date_hierarchy = "timestamp"
    search_fields = ["contact__wa_id", "contact__profile_name", "body", "=wamid"]
    list_select_related = ["contact"]
    exclude = ["request_payload"]

    class Media:
        css = {"all": ["messaging/admin/messages.css"]}

    @admin.display(description="customer", ordering="contact__profile_name")
    def customer(self, message: Message) -> str:
        return str(message.contact)

    @admin.display(description="text")
    def text(self, message: Message) -> str:
        preview = Truncator(message.body).chars(self.PREVIEW_CHARS)
        return preview if message.type == "text" else f"[{message.type}] {preview}".rstrip()


@admin.register(Conversation, site=tenant_admin_site)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["contact", "phone_number", "message_count", "unread_count", "last_message_at", "window"]
    list_filter = ["phone_number", ("last_message_at", admin.DateFieldListFilter)]
    search_fields = ["contact__wa_id", "contact__profile_name"]
    list_select_related = ["contact", "phone_number"]

    @admin.display(description="24-hour window open", boolean=True)
    def window(self, conversation: Conversation) -> bool:
        return conversation.window_open()


@admin.register(Contact, site=tenant_admin_site)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["wa_id", "profile_name", "first_seen_at", "last_seen_at", "opted_out"]
    list_filter = ["opted_out", ("last_seen_at", admin.DateFieldListFilter)]
    search_fields = ["wa_id", "profile_name"]


@admin.register(MessageMedia, site=tenant_admin_site)
class MessageMediaAdmin(ReadOnlyAdmin):
    """Keeping inbound media: its state, the checks' outcome and the stored file's path."""

    list_display = ["message", "state", "mime_type", "size", "attempts", "failure_code", "fetched_at"]
    list_filter = ["state", "failure_code", ("fetched_at", admin.DateFieldListFilter)]
    search_fields = ["=message__id", "message__contact__wa_id", "=sha256"]
    list_select_related = ["message"]
    raw_id_fields = ["message"]
    exclude = ["file"]  # the storage is never served by URL: show the path, not a link
    readonly_fields = ["stored_path"]
    actions = ["retry_keeping"]

    @admin.display(description="stored file")
    def stored_path(self, media: MessageMedia) -> str:
        return media.file.name or "-"

    @admin.action(description="Fetch the media again (failed or pending ones)")
    def retry_keeping(self, request: HttpRequest, queryset: QuerySet[MessageMedia]) -> None:
        retried = 0
        for media in queryset.select_related("message"):
            try:
                inbound_media_retry(message=media.message)
            except DomainError as error:
                self.message_user(request, f"Message {media.message_id}: {error.message}", messages.WARNING)
            else:
                retried += 1
        self.message_user(request, f"{retried} queued to be fetched again.", messages.SUCCESS)
