"""Tenant admin pages of the automations. Saves go through the same services as the API, so the
admin validates with the builder's rules and writes a version on every change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.http import HttpRequest

from automations import services
from automations.models import (
    AutomatedReply,
    CatalogueItem,
    ConversationState,
    HumanHandoff,
    Order,
    OrderItem,
    SupportTicket,
    Workflow,
    WorkflowTemplate,
    WorkflowTemplateVersion,
    WorkflowVersion,
)
from automations.services.templates import EDITABLE_FIELDS as TEMPLATE_FIELDS
from automations.services.templates import workflow_template_problems
from automations.services.workflows import EDITABLE_FIELDS as WORKFLOW_FIELDS
from automations.services.workflows import workflow_problems
from platform_core.admin_sites import ReadOnlyAdmin as BaseReadOnlyAdmin
from platform_core.admin_sites import tenant_admin_site
from platform_core.errors import DomainError


def _who(request: HttpRequest) -> str:
    return f"admin:{request.user.get_username()}"


def _add_problems(form: forms.ModelForm, problems: list[dict[str, Any]]) -> None:
    for problem in problems:
        name = str(problem["field"]).split(".")[0].split("[")[0]
        target = name if name in form.fields else None
        form.add_error(target, f"{problem['field']}: {problem['message']}")


class WorkflowTemplateForm(forms.ModelForm):
    class Meta:
        model = WorkflowTemplate
        fields = list(TEMPLATE_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors:
            data["trigger_keywords"] = data.get("trigger_keywords") or []
            _add_problems(self, workflow_template_problems(
                template_name=data.get("template_name", ""), type=data.get("type", ""),
                structure=data.get("structure"), trigger_keywords=data.get("trigger_keywords") or [],
                match_mode=data.get("match_mode", ""),
            ))
        return data


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return flatten(self.fields or [])

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceSavedAdmin(admin.ModelAdmin):
    """Adds, changes and deletes through the app's services (validation, versions, references); a
    refusal is shown on the page instead of a server error."""

    editable_fields: tuple[str, ...] = ()

    def create(self, values: dict[str, Any], who: str) -> Any:
        raise NotImplementedError

    def update(self, obj: Any, values: dict[str, Any], who: str) -> Any:
        raise NotImplementedError

    def remove(self, obj: Any) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in self.editable_fields if name in form.cleaned_data}
        saved = self.update(obj, values, _who(request)) if change else self.create(values, _who(request))
        obj.pk = saved.pk
        if hasattr(saved, "version"):
            obj.version = saved.version

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            self.remove(obj)
        except DomainError as error:
            self.message_user(request, error.message, level=messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class WorkflowTemplateVersionInline(ReadOnlyInline):
    model = WorkflowTemplateVersion
    fields = ["version", "changed_by", "created_at", "snapshot"]


@admin.register(WorkflowTemplate, site=tenant_admin_site)
class WorkflowTemplateAdmin(ServiceSavedAdmin):
    form = WorkflowTemplateForm
    editable_fields = TEMPLATE_FIELDS
    list_display = ["template_name", "type", "match_mode", "priority", "workflow", "is_active", "version"]
    list_filter = ["type", "is_active", "match_mode"]
    search_fields = ["template_name", "description"]
    inlines = [WorkflowTemplateVersionInline]

    def create(self, values: dict[str, Any], who: str) -> WorkflowTemplate:
        return services.workflow_template_create(**values, changed_by=who)

    def update(self, obj: WorkflowTemplate, values: dict[str, Any], who: str) -> WorkflowTemplate:
        return services.workflow_template_update(template=obj, changed_by=who, **values)

    def remove(self, obj: WorkflowTemplate) -> None:
        services.workflow_template_delete(template=obj)


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = list(WORKFLOW_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors:
            _add_problems(self, workflow_problems(name=data.get("name", ""), definition=data.get("definition")))
        return data


class WorkflowVersionInline(ReadOnlyInline):
    model = WorkflowVersion
    fields = ["version", "changed_by", "created_at", "definition"]


@admin.register(Workflow, site=tenant_admin_site)
class WorkflowAdmin(ServiceSavedAdmin):
    form = WorkflowForm
    editable_fields = WORKFLOW_FIELDS
    list_display = ["name", "is_active", "is_main_menu", "is_builtin", "version", "updated_at"]
    list_filter = ["is_active", "is_builtin"]
    search_fields = ["name", "description"]
    inlines = [WorkflowVersionInline]

    def create(self, values: dict[str, Any], who: str) -> Workflow:
        return services.workflow_create(**values, changed_by=who)

    def update(self, obj: Workflow, values: dict[str, Any], who: str) -> Workflow:
        return services.workflow_update(workflow=obj, changed_by=who, **values)

    def remove(self, obj: Workflow) -> None:
        services.workflow_delete(workflow=obj)


class ReadOnlyAdmin(BaseReadOnlyAdmin):
    deletable = True  # states, replies and handoffs may be cleared by hand


@admin.register(ConversationState, site=tenant_admin_site)
class ConversationStateAdmin(ReadOnlyAdmin):
    list_display = ["contact", "phone_number", "workflow_name", "current_step", "status", "last_interaction_at",
                    "expires_at"]
    list_filter = ["status", "workflow_name"]
    search_fields = ["contact__wa_id", "contact__profile_name"]
    actions = ["end_states"]

    @admin.action(description="End the selected conversation states")
    def end_states(self, request: HttpRequest, queryset: Any) -> None:
        for state in queryset.filter(status=ConversationState.Status.ACTIVE):
            services.conversation_state_end(state=state, status=ConversationState.Status.CANCELLED)
        self.message_user(request, "Ended.")


@admin.register(AutomatedReply, site=tenant_admin_site)
class AutomatedReplyAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "contact", "purpose", "workflow_name", "step", "outbound_message", "error_code"]
    list_filter = ["purpose", "workflow_name"]
    search_fields = ["contact__wa_id", "workflow_name", "step"]
    raw_id_fields = ["outbound_message", "inbound_message"]


@admin.register(HumanHandoff, site=tenant_admin_site)
class HumanHandoffAdmin(ReadOnlyAdmin):
    list_display = ["contact", "phone_number", "opened_by", "opened_at", "closed_at", "closed_by"]
    list_filter = ["opened_by"]
    search_fields = ["contact__wa_id", "contact__profile_name"]
    actions = ["close_handoffs"]

    @admin.action(description="Close the selected handoffs (automations resume)")
    def close_handoffs(self, request: HttpRequest, queryset: Any) -> None:
        for handoff in queryset.filter(closed_at__isnull=True):
            services.handoff_close(handoff=handoff, closed_by=_who(request))
        self.message_user(request, "Closed.")


@admin.register(CatalogueItem, site=tenant_admin_site)
class CatalogueItemAdmin(ServiceSavedAdmin):
    list_display = ["name", "category", "price", "is_active", "position"]
    search_fields = ["name", "category"]
    fields = ["name", "description", "category", "price", "is_active", "position"]
    editable_fields = tuple(flatten(fields))

    def create(self, values: dict[str, Any], who: str) -> CatalogueItem:
        return services.catalogue_item_create(**values)

    def update(self, obj: CatalogueItem, values: dict[str, Any], who: str) -> CatalogueItem:
        return services.catalogue_item_update(item=CatalogueItem.objects.get(pk=obj.pk), **values)

    def remove(self, obj: CatalogueItem) -> None:
        services.catalogue_item_delete(item=obj)


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ["name", "unit_price", "quantity", "line_total"]


@admin.register(Order, site=tenant_admin_site)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer_wa_id", "status", "total", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "customer_wa_id", "contact__profile_name"]
    fields = ["number", "status", "customer_wa_id", "contact", "phone_number", "total", "created_at"]
    readonly_fields = ["number", "customer_wa_id", "contact", "phone_number", "total", "created_at"]
    inlines = [OrderItemInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from conversations (or the API), with their items and prices

    def save_model(self, request: HttpRequest, obj: Order, form: forms.ModelForm, change: bool) -> None:
        services.order_status_set(order=Order.objects.get(pk=obj.pk), status=obj.status)


@admin.register(SupportTicket, site=tenant_admin_site)
class SupportTicketAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer_wa_id", "issue_type", "status", "created_at"]
    list_filter = ["status", "issue_type"]
    search_fields = ["customer_wa_id", "description"]
    fields = ["status", "issue_type", "description", "customer_wa_id", "contact", "created_at", "closed_at"]
    readonly_fields = ["issue_type", "description", "customer_wa_id", "contact", "created_at", "closed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SupportTicket, form: forms.ModelForm, change: bool) -> None:
        services.support_ticket_status_set(ticket=SupportTicket.objects.get(pk=obj.pk), status=obj.status)
