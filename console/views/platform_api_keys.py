"""Platform console page: the platform API's keys (public schema) with their scopes and last use,
and revoking one or all of them. Platform keys are minted in the platform admin; this page is where
a leaked key set is shut off at once."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from console.access import platform_console_view
from tenants.context import TenantRequest
from tenants.errors import ApiKeyNotFound
from tenants.selectors import api_keys_of
from tenants.services import api_key_revoke, api_keys_revoke_all


@platform_console_view
def platform_api_keys(request: TenantRequest) -> HttpResponse:
    keys = api_keys_of(tenant=None).order_by("revoked_at", "-created_at")[:200]
    context = {"section": "api_keys", "keys": keys, "now": timezone.now()}
    return render(request, "console/platform/api_keys.html", context)


@platform_console_view
@require_POST
def platform_api_key_revoke(request: TenantRequest, key_id: int) -> HttpResponseBase:
    try:
        revoked = api_key_revoke(tenant=None, key_id=key_id)
    except ApiKeyNotFound:
        raise Http404("No such platform API key.") from None
    messages.success(request, f"The key {revoked.name!r} ({revoked.prefix}…) is revoked.")
    return redirect("console:platform-api-keys")


@platform_console_view
@require_POST
def platform_api_keys_revoke_all(request: TenantRequest) -> HttpResponseBase:
    """A person has no key of their own to keep: every live platform key is revoked."""
    revoked = api_keys_revoke_all(tenant=None)
    messages.success(request, f"{revoked} platform key{'s' if revoked != 1 else ''} revoked.")
    return redirect("console:platform-api-keys")


urlpatterns: list[URLPattern] = [
    path("api-keys/", platform_api_keys, name="platform-api-keys"),
    path("api-keys/revoke-all/", platform_api_keys_revoke_all, name="platform-api-keys-revoke-all"),
    path("api-keys/<int:key_id>/revoke/", platform_api_key_revoke, name="platform-api-key-revoke"),
]
