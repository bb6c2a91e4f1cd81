"""What every console page's layout needs: the workspace it belongs to and the main navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from console.access import on_public_host
from team.roles import role_areas
from team.selectors import membership_of

# The key of each entry is the `team.roles.Area` it opens: an entry shows only to roles that open it
# (a key that names no area, to nobody).
TENANT_NAV = [
    ("inbox", "Inbox", "console:inbox"),
    ("contacts", "Contacts", "console:contacts"),
    ("campaigns", "Campaigns", "console:campaigns"),
    ("dashboard", "Dashboard", "console:dashboard"),
    ("accounts", "Accounts", "console:accounts"),
    ("templates", "Templates", "console:templates"),
    ("templates", "Knowledge base", "console:knowledge"),  # content the bot sends: the templates area
    ("billing", "Billing", "console:billing"),
    ("integrations", "Integrations", "console:integrations"),
    ("audit", "Audit log", "console:audit"),
    ("setup", "Connect a number", "console:setup"),
    ("team", "Team", "console:team"),
]
PLATFORM_NAV = [
    ("tenants", "Tenants", "console:platform-tenants"),
    ("health", "Account health", "console:platform-health"),
    ("webhooks", "Webhooks", "console:platform-webhooks"),
    ("billing", "Billing", "console:platform-billing"),
    ("api_keys", "API keys", "console:platform-api-keys"),
]


def console(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "console":
        return {}
    public = on_public_host(request)
    user = getattr(request, "user", None)
    areas: frozenset[str] = frozenset()
    if not public and user is not None and user.is_authenticated:
        areas = frozenset(area.value for area in role_areas(membership_of(user=user).role))
    nav = []
    for key, label, name in PLATFORM_NAV if public else TENANT_NAV:
        if not public and key not in areas:
            continue
        try:
            nav.append({"key": key, "label": label, "url": reverse(name)})
        except NoReverseMatch:  # an area this deployment's URLs do not serve
            continue
    return {
        "console_workspace": None if public else request.tenant,  # type: ignore[attr-defined]
        "console_nav": nav,
        "console_areas": areas,
    }
