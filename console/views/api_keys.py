"""Console pages: the workspace's API keys. List them with their scopes, expiry and last use; create
one (its key is shown once, on the page answering the creation); revoke one, or all of them."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from console.access import tenant_console_view
from platform_core.errors import DomainError
from team.services import key_scopes_check
from tenants.context import TenantRequest
from tenants.errors import ApiKeyNotFound
from tenants.models import TENANT_KEY_SCOPES
from tenants.selectors import api_keys_of
from tenants.services import api_key_create, api_key_revoke, api_keys_revoke_all

SCOPE_HELP = {
    "read": "every GET",
    "send": "send messages and broadcasts",
    "manage": "every other change: accounts, templates, flows, contacts, webhook endpoints…",
    "keys": "create and revoke keys",
    "billing": "usage and statements",
}


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What uses it, e.g. “analytics export”.")
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=[(scope, f"{scope}: {SCOPE_HELP.get(scope, '')}") for scope in TENANT_KEY_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
    )
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        help_text="Optional. The key stops working at the start of this day (UTC).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _page(request: TenantRequest, form: ApiKeyForm, status: int = 200) -> HttpResponse:
    keys = api_keys_of(tenant=request.tenant).order_by("revoked_at", "-created_at")[:200]
    context = {"section": "", "form": form, "keys": keys, "now": timezone.now()}
    return render(request, "console/api_keys/index.html", context, status=status)


@tenant_console_view(area="api_keys")
def api_keys(request: TenantRequest) -> HttpResponse:
    return _page(request, ApiKeyForm())


@never_cache
@tenant_console_view(area="api_keys")
@require_POST
def api_key_new(request: TenantRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    expires_on = form.cleaned_data["expires_on"]
    expires_at = datetime.combine(expires_on, time.min, tzinfo=UTC) if expires_on else None
    try:
        key_scopes_check(user=request.user, scopes=form.cleaned_data["scopes"])
        created = api_key_create(
            tenant=request.tenant,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=expires_at,
            created_by=f"console:{request.user.get_username()}",
        )
    except DomainError as error:
        form.add_error("expires_on" if error.code == "invalid_expiry" else None, error.message)
        return _page(request, form, status=error.status)
    return render(request, "console/api_keys/created.html", {"section": "", "created": created})


@tenant_console_view(area="api_keys")
@require_POST
def api_key_revoke_view(request: TenantRequest, key_id: int) -> HttpResponseBase:
    try:
        revoked = api_key_revoke(tenant=request.tenant, key_id=key_id)
    except ApiKeyNotFound:
        raise Http404("No such API key in this workspace.") from None
    messages.success(request, f"The key {revoked.name!r} ({revoked.prefix}…) is revoked.")
    return redirect("console:api-keys")


@tenant_console_view(area="api_keys")
@require_POST
def api_keys_revoke_all_view(request: TenantRequest) -> HttpResponseBase:
    revoked = api_keys_revoke_all(tenant=request.tenant)
    messages.success(request, f"{revoked} key{'s' if revoked != 1 else ''} revoked.")
    return redirect("console:api-keys")


urlpatterns: list[URLPattern] = [
    path("api-keys/", api_keys, name="api-keys"),
    path("api-keys/new/", api_key_new, name="api-key-new"),
    path("api-keys/revoke-all/", api_keys_revoke_all_view, name="api-keys-revoke-all"),
    path("api-keys/<int:key_id>/revoke/", api_key_revoke_view, name="api-key-revoke"),
]
