"""Console pages: the WhatsApp accounts, and on each account's page its numbers and their health,
its message templates, its WhatsApp Flows (publish, deprecate) and the workspace's menus and
workflows previewed as a phone shows them.

Read-mostly: the only writes are the Flow actions, POST forms that call `flows_builder.sync` and
come back to the account's page with a message, and each Flow's data-exchange form (forward to the
tenant's URL or static answers, `flows_builder.exchange_config`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from analytics import selectors as analytics_selectors
from automations import selectors as automation_selectors
from automations.registry import WORKFLOW_RENDERERS, ActionContext
from console.access import tenant_console_view
from console.previews import interactive_preview, message_template_preview, workflow_step_previews
from flows_builder import exchange_config as flow_exchange_config
from flows_builder import selectors as flow_selectors
from flows_builder import sync as flow_sync
from flows_builder.errors import FlowExchangeInvalid, FlowExchangeNotConfigured, FlowNotFound
from flows_builder.models import FlowExchangeConfig, WhatsAppFlow
from messaging.models import Contact
from platform_core.errors import DomainError
from tenants.context import TenantRequest
from waba import meta
from waba import selectors as waba_selectors
from waba.errors import AccountNotFound
from waba.models import PhoneNumber, WhatsAppAccount

HEALTH_HISTORY = 5


def _account(account_id: int) -> WhatsAppAccount:
    try:
        return waba_selectors.account_get(account_id=account_id)
    except AccountNotFound:
        raise Http404("No such WhatsApp account here.") from None


def _flow(account: WhatsAppAccount, flow_id: int) -> WhatsAppFlow:
    try:
        flow = flow_selectors.flow_get(flow_id=flow_id)
    except FlowNotFound:
        raise Http404("No such flow here.") from None
    if flow.account_id != account.pk:
        raise Http404("The flow belongs to another account.")
    return flow


def _messaging_limit(phone: PhoneNumber) -> str:
    """The tier as people say it: "1,000 customers / 24 h", "unlimited", or the raw tier."""
    if not phone.messaging_limit_tier:
        return ""
    try:
        limit = meta.MESSAGING_LIMIT_BY_TIER[meta.MessagingLimitTier(phone.messaging_limit_tier)]
    except (ValueError, KeyError):
        return phone.messaging_limit_tier
    return "Unlimited" if limit is None else f"{limit:,} customers / 24 h"


def _number_rows(account: WhatsAppAccount, latest_findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    findings_by_number: dict[str, list[dict[str, Any]]] = {}
    for finding in latest_findings:
        if finding.get("phone_number_id"):
            findings_by_number.setdefault(str(finding["phone_number_id"]), []).append(finding)
    return [
        {
            "phone": phone,
            "messaging_limit": _messaging_limit(phone),
            "findings": findings_by_number.get(phone.phone_number_id, []),
        }
        for phone in waba_selectors.phone_numbers_of(account=account)
    ]


def _renderer_sample(account: WhatsAppAccount) -> Any:
    """A renderer's message built from today's data for a customer who has said nothing yet.

    Renderers only read, but run in a savepoint that is rolled back all the same; one that
    cannot build a message without a real conversation gives no sample.
    """
    phone = waba_selectors.phone_numbers_of(account=account).first() or PhoneNumber(account=account)

    def sample(name: str, params: Any) -> dict[str, Any] | None:
        renderer = WORKFLOW_RENDERERS.get(name)
        if renderer is None:
            return None
        run = ActionContext(
            contact=Contact(), phone_number=phone, context={}, now=timezone.now(), params=params
        )
        try:
            with transaction.atomic():
                built = renderer(run)
                transaction.set_rollback(True)
        except Exception:  # a renderer that needs a real conversation
            return None
        return built

    return sample


@tenant_console_view(area="accounts")
def account_list(request: TenantRequest) -> HttpResponse:
    return render(
        request,
        "console/accounts/list.html",
        {"section": "accounts", "accounts": waba_selectors.accounts_list()},
    )


@tenant_console_view(area="accounts")
def account_detail(request: TenantRequest, account_id: int) -> HttpResponse:
    account = _account(account_id)
    health = analytics_selectors.account_health(account=account, limit=HEALTH_HISTORY)
    latest = health["latest"]
    findings = list(latest.findings) if latest is not None else []
    templates = [
        {"template": template, "preview": message_template_preview(template.components)}
        for template in waba_selectors.templates_filter(account_id=account.pk)
    ]
    menus = list(automation_selectors.workflow_template_list().order_by("template_name"))
    structures = {menu.template_name: menu.structure for menu in menus}
    renderer_sample = _renderer_sample(account)
    context = {
        "section": "accounts",
        "account": account,
        "health": health,
        "account_findings": [f for f in findings if not f.get("phone_number_id")],
        "numbers": _number_rows(account, findings),
        "templates": templates,
        "flows": flow_selectors.flow_list(account_id=account.pk).order_by("name"),
        "live_flow_statuses": sorted(flow_sync.LIVE_STATUSES),
        "menus": [{"menu": menu, "preview": interactive_preview(menu.structure)} for menu in menus],
        "workflows": [
            {
                "workflow": workflow,
                "steps": workflow_step_previews(
                    workflow.definition, menus=structures, render=renderer_sample
                ),
            }
            for workflow in automation_selectors.workflow_list().order_by("name")
        ],
    }
    return render(request, "console/accounts/detail.html", context)


@tenant_console_view(area="flows")
@require_POST
def flow_publish(request: TenantRequest, account_id: int, flow_id: int) -> HttpResponseBase:
    """Upload the Flow JSON when it changed and publish it at Meta."""
    flow = _flow(_account(account_id), flow_id)
    try:
        outcome = flow_sync.flow_publish(flow=flow)
    except DomainError as error:
        messages.error(request, f"Could not publish {flow}: {error.message}")
    else:
        messages.success(request, f"{flow}: {outcome.describe()}.")
    return redirect(reverse("console:account", args=[account_id]) + "#flows")


@tenant_console_view(area="flows")
@require_POST
def flow_deprecate(request: TenantRequest, account_id: int, flow_id: int) -> HttpResponseBase:
    """Deprecate the published Flow at Meta: it can no longer be sent."""
    flow = _flow(_account(account_id), flow_id)
    try:
        flow_sync.flow_deprecate(flow=flow)
    except DomainError as error:
        messages.error(request, f"Could not deprecate {flow}: {error.message}")
    else:
        messages.success(request, f"{flow} is deprecated: it can no longer be sent.")
    return redirect(reverse("console:account", args=[account_id]) + "#flows")


class FlowExchangeForm(forms.Form):
    mode = forms.ChoiceField(
        choices=FlowExchangeConfig.Mode.choices, widget=forms.RadioSelect, label="How to answer"
    )
    url = forms.CharField(
        required=False,
        max_length=2000,
        label="Your endpoint's URL",
        help_text="forward: we decrypt Meta's request and POST it here as JSON, signed like webhook events.",
    )
    static_screens = forms.JSONField(
        required=False,
        label="Static answers (JSON)",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text='static: <code>{"INIT": {"screen": "FIRST", "data": {...}}, "FIRST": {"screen": "NEXT", '
        '"data": {...}}}</code>, chosen by the request\'s screen, then its action. A value '
        '<code>{"$lookup": "catalogue_items", "category": "coffee"}</code> or '
        '<code>{"$lookup": "recent_orders"}</code> lists your catalogue or the customer\'s orders.',
    )


def _flow_exchange_page(
    request: TenantRequest, flow: WhatsAppFlow, form: FlowExchangeForm, secret: str | None = None
) -> HttpResponse:
    config = flow_exchange_config.flow_exchange_config_find(flow=flow)
    response = render(
        request,
        "console/accounts/flow_exchange.html",
        {
            "section": "accounts",
            "flow": flow,
            "account": flow.account,
            "form": form,
            "config": config,
            "secret": secret,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@tenant_console_view(area="flows")
def flow_exchange_edit(request: TenantRequest, account_id: int, flow_id: int) -> HttpResponseBase:
    """The flow's data-exchange configuration: forward to the tenant's URL, or static answers.

    A new signing secret is shown on the page answering its creation or roll, never again.
    """
    flow = _flow(_account(account_id), flow_id)
    if request.method != "POST":
        config = flow_exchange_config.flow_exchange_config_find(flow=flow)
        initial = (
            {"mode": config.mode, "url": config.url, "static_screens": config.static_screens or None}
            if config
            else {"mode": FlowExchangeConfig.Mode.FORWARD}
        )
        return _flow_exchange_page(request, flow, FlowExchangeForm(initial=initial))
    form = FlowExchangeForm(request.POST)
    if not form.is_valid():
        return _flow_exchange_page(request, flow, form)
    try:
        _, secret = flow_exchange_config.flow_exchange_config_set(
            flow=flow,
            mode=form.cleaned_data["mode"],
            url=form.cleaned_data["url"],
            static_screens=form.cleaned_data["static_screens"],
        )
    except FlowExchangeInvalid as error:
        fields = {str(item.get("field", "")).split(".")[0] for item in error.details or []}
        form.add_error(next(iter(fields & {"url", "static_screens"}), None), error.message)
        return _flow_exchange_page(request, flow, form)
    if secret:
        return _flow_exchange_page(request, flow, form, secret)
    messages.success(request, f"{flow}: data exchange saved.")
    return redirect(reverse("console:account-flow-exchange", args=[account_id, flow_id]))


@tenant_console_view(area="flows")
@require_POST
def flow_exchange_secret_roll(request: TenantRequest, account_id: int, flow_id: int) -> HttpResponseBase:
    flow = _flow(_account(account_id), flow_id)
    try:
        secret = flow_exchange_config.flow_exchange_secret_roll(
            config=flow_exchange_config.flow_exchange_config_get(flow=flow)
        )
    except (FlowExchangeInvalid, FlowExchangeNotConfigured) as error:
        messages.error(request, error.message)
        return redirect(reverse("console:account-flow-exchange", args=[account_id, flow_id]))
    return _flow_exchange_page(request, flow, FlowExchangeForm(), secret)


@tenant_console_view(area="flows")
@require_POST
def flow_exchange_remove(request: TenantRequest, account_id: int, flow_id: int) -> HttpResponseBase:
    flow = _flow(_account(account_id), flow_id)
    try:
        flow_exchange_config.flow_exchange_config_delete(flow=flow)
    except FlowExchangeNotConfigured:
        pass
    messages.success(request, f"{flow}: data exchange removed; its requests now get an error on the screen.")
    return redirect(reverse("console:account-flow-exchange", args=[account_id, flow_id]))


urlpatterns = [
    path("accounts/", account_list, name="accounts"),
    path("accounts/<int:account_id>/", account_detail, name="account"),
    path("accounts/<int:account_id>/flows/<int:flow_id>/publish/", flow_publish, name="account-flow-publish"),
    path(
        "accounts/<int:account_id>/flows/<int:flow_id>/deprecate/",
        flow_deprecate,
        name="account-flow-deprecate",
    ),
    path(
        "accounts/<int:account_id>/flows/<int:flow_id>/data-exchange/",
        flow_exchange_edit,
        name="account-flow-exchange",
    ),
    path(
        "accounts/<int:account_id>/flows/<int:flow_id>/data-exchange/roll-secret/",
        flow_exchange_secret_roll,
        name="account-flow-exchange-roll",
    ),
    path(
        "accounts/<int:account_id>/flows/<int:flow_id>/data-exchange/remove/",
        flow_exchange_remove,
        name="account-flow-exchange-remove",
    ),
]
