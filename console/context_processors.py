"""What every console page's layout needs: the workspace it belongs to and the main navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from console.access import on_public_host

TENANT_NAV = [
    ("inbox", "Inbox", "console:inbox"),
    ("contacts", "Contacts", "console:contacts"),
    ("dashboard", "Dashboard", "console:dashboard"),
    ("accounts", "Accounts", "console:accounts"),
    ("templates", "Templates", "console:templates"),
    ("billing", "Billing", "console:billing"),
    ("integrations", "Integrations", "console:integrations"),
    ("setup", "Connect a number", "console:setup"),
]
PLATFORM_NAV = [
    ("tenants", "Tenants", "console:platform-tenants"),
    ("health", "Account health", "console:platform-health"),
    ("webhooks", "Webhooks", "console:platform-webhooks"),
    ("billing", "Billing", "console:platform-billing"),
]


def console(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "console":
        return {}
    public = on_public_host(request)
    nav = []
    for key, label, name in PLATFORM_NAV if public else TENANT_NAV:
        try:
            nav.append({"key": key, "label": label, "url": reverse(name)})
        except NoReverseMatch:  # an area this deployment's URLs do not serve
            continue
    return {"console_workspace": None if public else request.tenant, "console_nav": nav}  # type: ignore[attr-defined]
