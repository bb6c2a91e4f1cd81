"""Tenant admin for accounts, numbers, templates, template edits, the media library, business profiles and
account events. Secrets are never shown: the encrypted fields are excluded and only their masked summary is displayed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from platform_core.admin_sites import ReadOnlyAdmin, tenant_admin_site
from platform_core.crypto import Secret
from platform_core.errors import DomainError
from waba.models import (
    AccountEventLog,
    BusinessProfile,
    MediaAsset,
    MessageTemplate,
    PhoneNumber,
    TemplateEdit,
    WhatsAppAccount,
)
from waba.services.credentials import secret_summary
from waba.services.phone_numbers import phone_numbers_refresh
from waba.services.templates import templates_sync

IDENTITY = ["waba_id", "business_account_id", "app_id"]
META_FACTS = [
    "status",
    "status_reason",
    "status_error_code",
    "status_changed_at",
    "access_token_expires_at",
    "meta_capabilities",
    "setup_completed_steps",
    "activated_at",
    "created_at",
    "updated_at",
]


def _masked(value: Secret | str | None) -> str:
    summary = secret_summary(value)
    return f"set, ends in …{summary['last4']}" if summary["set"] and summary["last4"] else ("set" if summary["set"] else "not set")


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    extra = 0
    can_delete = False
    fields = ["phone_number_id", "display_phone_number", "verified_name", "quality_rating", "messaging_limit_tier", "status"]
    readonly_fields = flatten(fields)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WhatsAppAccount, site=tenant_admin_site)
class WhatsAppAccountAdmin(admin.ModelAdmin):
    list_display = ["display_name", "waba_id", "status", "status_reason", "activated_at"]
    list_filter = ["status"]
    search_fields = ["display_name", "waba_id"]
    exclude = ["app_secret", "access_token", "webhook_verify_token"]
    readonly_fields = [*IDENTITY, "app_secret_masked", "access_token_masked", "verify_token_masked", *META_FACTS]
    inlines = [PhoneNumberInline]
    actions = ["sync_templates", "refresh_phone_numbers"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Accounts are set up through the wizard API, which checks the credentials with Meta.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WhatsAppAccount | None = None) -> bool:
        # Deleting releases routing entries: only through the API (DELETE /api/v1/accounts/{id}).
        return False

    @admin.display(description="App secret")
    def app_secret_masked(self, obj: WhatsAppAccount) -> str:
        return _masked(obj.app_secret)

    @admin.display(description="Access token")
    def access_token_masked(self, obj: WhatsAppAccount) -> str:
        return _masked(obj.access_token)

    @admin.display(description="Webhook verify token")
    def verify_token_masked(self, obj: WhatsAppAccount) -> str:
        return _masked(obj.webhook_verify_token or None)

    @admin.action(description="Sync templates from Meta")
    def sync_templates(self, request: HttpRequest, queryset: QuerySet[WhatsAppAccount]) -> None:
        _templates_sync_each(self, request, queryset)

    @admin.action(description="Refresh phone numbers from Meta")
    def refresh_phone_numbers(self, request: HttpRequest, queryset: QuerySet[WhatsAppAccount]) -> None:
        _run_per_account(
            self,
            request,
            queryset,
            lambda account: phone_numbers_refresh(account=account),
            lambda r: f"{len(r['updated'])} updated, {len(r['unchanged'])} unchanged, {len(r['missing'])} unknown to Meta.",
        )


def _templates_sync_each(
    model_admin: admin.ModelAdmin, request: HttpRequest, accounts: Iterable[WhatsAppAccount]
) -> None:
    _run_per_account(
        model_admin,
        request,
        accounts,
        lambda account: templates_sync(account=account),
        lambda c: f"{c['total']} template(s) at Meta; {c['created']} new, {c['updated']} updated, {c['deleted']} gone.",
    )


def _run_per_account(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    accounts: Iterable[WhatsAppAccount],
    service: Callable[[WhatsAppAccount], Any],
    summary: Callable[[Any], str],
) -> None:
    """Call a service per selected account; one message each, an error for the one that failed."""
    for account in accounts:
        try:
            result = service(account)
        except DomainError as error:
            model_admin.message_user(request, f"{account}: {error.message}", messages.ERROR)
        else:
            model_admin.message_user(request, f"{account}: {summary(result)}")


@admin.register(PhoneNumber, site=tenant_admin_site)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ["display_phone_number", "phone_number_id", "account", "quality_rating", "messaging_limit_tier", "throughput_mps", "status"]
    list_filter = ["quality_rating", "status"]
    search_fields = ["phone_number_id", "display_phone_number", "e164_number", "verified_name"]
    # Meta's facts about a number come from Meta only (refresh or webhooks).
    readonly_fields = [
        "account",
        "phone_number_id",
        "e164_number",
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "messaging_limit_tier",
        "throughput_level",
        "throughput_mps",
        "status",
        "name_status",
        "is_registered",
        "last_synced_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PhoneNumber | None = None) -> bool:
        return False


@admin.register(MessageTemplate, site=tenant_admin_site)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "category", "status", "quality_score", "variable_count", "account"]
    list_filter = ["status", "category", "language"]
    search_fields = ["name"]
    readonly_fields = [
        "account",
        "name",
        "language",
        "category",
        "components",
        "variable_count",
        "parameter_counts",
        "status",
        "rejection_reason",
        "quality_score",
        "meta_template_id",
        "last_synced_at",
        "created_at",
        "updated_at",
    ]
    actions = ["sync_templates"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MessageTemplate | None = None) -> bool:
        return False

    @admin.action(description="Sync templates of their accounts from Meta")
    def sync_templates(self, request: HttpRequest, queryset: QuerySet[MessageTemplate]) -> None:
        account_ids = set(queryset.values_list("account_id", flat=True))
        _templates_sync_each(self, request, WhatsAppAccount.objects.filter(pk__in=account_ids))


@admin.register(AccountEventLog, site=tenant_admin_site)
class AccountEventLogAdmin(admin.ModelAdmin):
    list_display = ["received_at", "field", "event", "subject", "outcome", "account"]
    list_filter = ["field", "outcome"]
    search_fields = ["subject", "waba_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccountEventLog | None = None) -> bool:
        return False


# Templates, media and the business profile change only through Meta (the console's editors and the
# API push them there first): here they are shown, never edited.


@admin.register(TemplateEdit, site=tenant_admin_site)
class TemplateEditAdmin(ReadOnlyAdmin):
    """Edits sent to Meta, counted against Meta's limits for approved templates."""

    list_display = ["edited_at", "template", "status_before"]
    list_filter = [("edited_at", admin.DateFieldListFilter)]
    search_fields = ["template__name"]
    list_select_related = ["template"]


@admin.register(MediaAsset, site=tenant_admin_site)
class MediaAssetAdmin(ReadOnlyAdmin):
    """The account's media library: files uploaded to Meta, with the id or handle Meta gave them."""

    list_display = ["name", "purpose", "media_type", "content_type", "size_bytes", "account", "uploaded_at",
                    "expires_at"]
    list_filter = ["purpose", "media_type", "account"]
    search_fields = ["name", "=media_id", "=sha256"]
    list_select_related = ["account"]


@admin.register(BusinessProfile, site=tenant_admin_site)
class BusinessProfileAdmin(ReadOnlyAdmin):
    """The profile as last pushed to or read from Meta; the console's profile page changes it there."""

    list_display = ["account", "about", "email", "vertical", "pushed_at", "updated_at"]
    search_fields = ["about", "email", "account__display_name"]
    list_select_related = ["account"]
