"""Console pages: alerts. The incident history (open ones first) for the roles that see accounts, and
the channels form for owners and admins. Open incidents also show as notices on the dashboard
(console.templatetags.alert_notices).

The form POSTs to one `alerts.services` function; everything is read from the tenant's own schema.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from alerts import selectors, services
from alerts.errors import AlertSettingsInvalid
from console.access import tenant_console_view
from team.roles import Role
from team.selectors import membership_of
from tenants.context import TenantRequest

INCIDENTS_PER_PAGE = 50
SETTINGS_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class AlertSettingsForm(forms.Form):
    email_enabled = forms.BooleanField(
        label="E-mail",
        required=False,
        help_text="The workspace's owners and admins, and the addresses below.",
    )
    email_extra_addresses = forms.CharField(
        label="Extra e-mail addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ops@example.com"}),
        help_text="One per line; at most 10.",
    )
    webhook_enabled = forms.BooleanField(
        label="Webhook events",
        required=False,
        help_text="alert.opened and alert.resolved, to the endpoints that subscribe to them (Integrations).",
    )
    console_enabled = forms.BooleanField(
        label="Console notices", required=False, help_text="Open incidents at the top of the dashboard."
    )

    def addresses(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["email_extra_addresses"].splitlines() if line.strip()
        ]


@tenant_console_view(area="accounts")
def incident_history(request: TenantRequest) -> HttpResponse:
    status = request.GET.get("status")
    status = status if status in ("open", "resolved") else None
    page = Paginator(selectors.incident_list(status=status), INCIDENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context: dict[str, Any] = {
        "section": "accounts",
        "page": page,
        "status": status,
        "open_count": selectors.incidents_open_count(),
        "may_change_settings": membership_of(user=request.user).role in SETTINGS_ROLES,
    }
    return render(request, "console/alerts/history.html", context)


@tenant_console_view
def alert_settings(request: TenantRequest) -> HttpResponse:
    current = selectors.alert_settings_get()
    if request.method == "POST":
        form = AlertSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.alert_settings_update(
                    email_enabled=form.cleaned_data["email_enabled"],
                    email_extra_addresses=form.addresses(),
                    webhook_enabled=form.cleaned_data["webhook_enabled"],
                    console_enabled=form.cleaned_data["console_enabled"],
                )
            except AlertSettingsInvalid as error:
                form.add_error("email_extra_addresses", error.message)
            else:
                messages.success(request, "Alert settings saved.")
                return redirect("console:alert-settings")
    else:
        form = AlertSettingsForm(
            initial={
                "email_enabled": current.email_enabled,
                "email_extra_addresses": "\n".join(current.email_extra_addresses),
                "webhook_enabled": current.webhook_enabled,
                "console_enabled": current.console_enabled,
            }
        )
    return render(request, "console/alerts/settings.html", {"section": "accounts", "form": form})


urlpatterns: list[URLPattern] = [
    path("alerts/", incident_history, name="alerts"),
    path("alerts/settings/", alert_settings, name="alert-settings"),
]
