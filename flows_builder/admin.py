"""Tenant admin of WhatsApp Flows: flows with their sync state, responses, and the requests they made.

Saves and actions call the same services as the API, so every rule lives once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from flows_builder import services, sync
from flows_builder.models import (
    CleaningRequest,
    FlowEndpointKey,
    FlowResponse,
    InstallationRequest,
    TourInquiry,
    WhatsAppFlow,
)
from flows_builder.responses import flow_response_mark_processed, flow_response_reprocess
from platform_core.admin_sites import tenant_admin_site
from platform_core.errors import DomainError
from waba.meta import FlowCategory


def _pretty_json(value: Any) -> str:
    return format_html(
        "<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False)
    )


class WhatsAppFlowForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        choices=[(category.value, category.value.replace("_", " ").title()) for category in FlowCategory],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WhatsAppFlow
        fields = [
            "account",
            "name",
            "friendly_name",
            "description",
            "categories",
            "flow_json",
            "flow_definition_name",
            "trigger_keywords",
            "is_active",
            "endpoint_enabled",
            "endpoint_phone_number",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # the name keys processors, handlers and the Meta name: fixed once created
            self.fields["name"].disabled = True
            self.fields["account"].disabled = True

    def clean_trigger_keywords(self) -> list[str]:
        keywords = self.cleaned_data.get("trigger_keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(keyword, str) for keyword in keywords):
            raise forms.ValidationError('A JSON list of strings, e.g. ["starlink", "install starlink"].')
        return keywords

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "flow_json" in cleaned:
            try:
                services.flow_json_check(
                    flow_json=cleaned["flow_json"], endpoint_enabled=bool(cleaned.get("endpoint_enabled"))
                )
            except DomainError as exc:
                lines = [f"{item['pointer'] or '/'}: {item['message']}" for item in exc.details or []]
                self.add_error("flow_json", lines or [exc.message])
        return cleaned


def _run_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    verb: str,
    action: Callable[[Any], Any],
) -> None:
    """Apply a service to each selected row; one failure is reported and does not stop the others."""
    done = 0
    for obj in queryset:
        try:
            action(obj)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", level=messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{verb} {done} item(s).", level=messages.SUCCESS)


@admin.register(WhatsAppFlow, site=tenant_admin_site)
class WhatsAppFlowAdmin(admin.ModelAdmin):
    form = WhatsAppFlowForm
    list_display = [
        "name",
        "friendly_name",
        "account",
        "is_active",
        "sync_status",
        "meta_status",
        "version",
        "changed_since_sync",
        "last_synced_at",
    ]
    list_filter = ["sync_status", "is_active", "meta_status", "endpoint_enabled"]
    search_fields = ["name", "friendly_name", "meta_flow_id", "flow_definition_name"]
    readonly_fields = [
        "meta_flow_id",
        "meta_status",
        "version",
        "superseded_meta_flow_ids",
        "sync_status",
        "last_sync_error",
        "validation_errors_display",
        "changed_since_sync",
        "last_synced_at",
        "created_at",
        "updated_at",
    ]
    actions = ["sync_flows", "publish_flows", "deprecate_flows", "activate_flows", "deactivate_flows"]

    @admin.display(boolean=True, description="JSON changed since sync")
    def changed_since_sync(self, flow: WhatsAppFlow) -> bool:
        return flow.json_changed

    @admin.display(description="Meta validation errors")
    def validation_errors_display(self, flow: WhatsAppFlow) -> str:
        return _pretty_json(flow.validation_errors) if flow.validation_errors else "-"

    def save_model(
        self, request: HttpRequest, obj: WhatsAppFlow, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        fields = {
            "friendly_name": data["friendly_name"],
            "description": data.get("description", ""),
            "categories": data["categories"],
            "flow_json": data["flow_json"],
            "flow_definition_name": data.get("flow_definition_name"),
            "trigger_keywords": data.get("trigger_keywords") or [],
            "is_active": data.get("is_active", True),
            "endpoint_enabled": data.get("endpoint_enabled", False),
            "endpoint_phone_number": data.get("endpoint_phone_number"),
        }
        if change:
            services.flow_update(flow=obj, **fields)
        else:
            created = services.flow_create(account=data["account"], name=data["name"], **fields)
            obj.pk = created.pk
            obj._state.adding = False

    @admin.action(description="Sync with Meta (upload when changed)")
    def sync_flows(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_each(self, request, queryset, "Synced", lambda flow: sync.flow_sync(flow=flow))

    @admin.action(description="Publish at Meta")
    def publish_flows(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_each(self, request, queryset, "Published", lambda flow: sync.flow_publish(flow=flow))

    @admin.action(description="Deprecate at Meta")
    def deprecate_flows(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_each(self, request, queryset, "Deprecated", lambda flow: sync.flow_deprecate(flow=flow))

    @admin.action(description="Activate")
    def activate_flows(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_each(
            self,
            request,
            queryset,
            "Activated",
            lambda flow: services.flow_set_active(flow=flow, is_active=True),
        )

    @admin.action(description="Deactivate")
    def deactivate_flows(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_each(
            self,
            request,
            queryset,
            "Deactivated",
            lambda flow: services.flow_set_active(flow=flow, is_active=False),
        )

    def delete_model(self, request: HttpRequest, obj: WhatsAppFlow) -> None:
        services.flow_delete(flow=obj)


@admin.register(FlowResponse, site=tenant_admin_site)
class FlowResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "flow_name", "contact", "processed", "record", "created_at", "processed_at"]
    list_filter = ["processed", "flow_name"]
    search_fields = ["wamid", "flow_token", "flow_name"]
    fields = [
        "flow",
        "flow_name",
        "contact",
        "wamid",
        "flow_token",
        "response_data_display",
        "processed",
        "processing_notes",
        "processing_errors_display",
        "record",
        "created_at",
        "processed_at",
    ]
    readonly_fields = flatten(fields)
    actions = ["reprocess", "mark_processed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # responses come from WhatsApp only

    @admin.display(description="Response data")
    def response_data_display(self, response: FlowResponse) -> str:
        return _pretty_json(response.response_data)

    @admin.display(description="Processing errors")
    def processing_errors_display(self, response: FlowResponse) -> str:
        return _pretty_json(response.processing_errors) if response.processing_errors else "-"

    @admin.display(description="Record created")
    def record(self, response: FlowResponse) -> str:
        return f"{response.record_type} #{response.record_id}" if response.record_id else "-"

    @admin.action(description="Reprocess")
    def reprocess(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_each(self, request, queryset, "Reprocessed", lambda r: flow_response_reprocess(response=r))

    @admin.action(description="Mark processed")
    def mark_processed(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_each(
            self,
            request,
            queryset,
            "Marked processed",
            lambda r: flow_response_mark_processed(response=r, note=f"Marked processed by {request.user}."),
        )


class ServiceRequestAdmin(admin.ModelAdmin):
    list_filter = ["status", "time_slot", "preferred_date"]
    search_fields = ["customer_name", "customer_phone", "customer_email", "city"]
    readonly_fields = ["contact", "flow_response", "created_at", "updated_at"]
    date_hierarchy = "preferred_date"


@admin.register(InstallationRequest, site=tenant_admin_site)
class InstallationRequestAdmin(ServiceRequestAdmin):
    list_display = [
        "id",
        "kind",
        "customer_name",
        "customer_phone",
        "preferred_date",
        "time_slot",
        "city",
        "status",
    ]
    list_filter = ["kind", *ServiceRequestAdmin.list_filter]


@admin.register(CleaningRequest, site=tenant_admin_site)
class CleaningRequestAdmin(ServiceRequestAdmin):
    list_display = [
        "id",
        "customer_name",
        "customer_phone",
        "panel_count",
        "preferred_date",
        "time_slot",
        "status",
    ]


@admin.register(TourInquiry, site=tenant_admin_site)
class TourInquiryAdmin(admin.ModelAdmin):
    list_display = ["id", "tour", "customer_name", "customer_phone", "departure_date", "travellers", "budget",
                    "status"]
    list_filter = ["status", "tour", "budget", "departure_date"]
    search_fields = ["customer_name", "customer_phone", "customer_email"]
    readonly_fields = ["contact", "flow_response", "created_at", "updated_at"]
    date_hierarchy = "departure_date"


@admin.register(FlowEndpointKey, site=tenant_admin_site)
class FlowEndpointKeyAdmin(admin.ModelAdmin):
    list_display = ["phone_number", "key_version", "uploaded_at", "rotated_at"]
    fields = ["phone_number", "key_version", "public_key_pem", "uploaded_at", "created_at", "rotated_at"]
    readonly_fields = flatten(fields)  # the private key never shows; keys are made through the API

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
