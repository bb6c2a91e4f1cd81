"""Roles inside a workspace, and what each may do: the one table every check reads.

Why it looks like this:

- Five fixed roles, not Django groups and permissions: a business asks "who may answer customers,
  who may change the setup, who may pay", and five named roles answer that without a permission
  editor to get wrong. Each user of a tenant's schema has exactly one (`team.Membership`).
- The console is cut into areas (one per page group); a role opens an area not at all, to view
  (GET, HEAD, OPTIONS) or to change (every other method), the way an API key's scopes split reads
  from writes (`tenants.auth`): a page that writes is refused unless the table says otherwise.
- Agents are the one role limited to some WhatsApp accounts: they answer the conversations of their
  accounts' numbers only. The others see every account; reading is not what needs fencing.
- A person never hands out more than they hold: an API key made in the console carries only scopes
  the creator's role allows (`KEY_SCOPES`). Keys belong to the workspace, not to a person, and the
  API has no notion of accounts per key, so agents (and viewers) make no keys at all.
- The tenant admin (Django's) is for owners and admins only: the role sets `is_staff` (and
  `is_superuser`, Django's "every model permission") when it is given, see `team.services`.
- Owners are the only ones who make or unmake owners; a workspace always keeps an active owner.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from django.db import models

from tenants.models import SCOPE_BILLING, SCOPE_KEYS, SCOPE_MANAGE, SCOPE_READ, SCOPE_SEND


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    DEVELOPER = "developer", "Developer"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


ROLE_HELP: dict[str, str] = {
    Role.OWNER: "Everything, billing included; makes and removes owners.",
    Role.ADMIN: "Everything but changing owners; sees billing; the workspace admin.",
    Role.DEVELOPER: "API keys, integrations, templates and Flows; reads the rest.",
    Role.AGENT: "Answers, takes over and assigns conversations of their accounts; reads contacts.",
    Role.VIEWER: "Reads pages; changes nothing.",
}


class Area(StrEnum):
    """A console page group."""

    INBOX = "inbox"
    CONTACTS = "contacts"  # contacts, attributes, imports, segments
    CAMPAIGNS = "campaigns"  # campaigns and broadcasts
    DASHBOARD = "dashboard"
    ACCOUNTS = "accounts"  # accounts, their numbers and health
    SETUP = "setup"  # connecting a number
    FLOWS = "flows"  # publishing and deprecating Flows
    TEMPLATES = "templates"  # templates, the media library, business profiles
    BILLING = "billing"
    INTEGRATIONS = "integrations"  # outbound webhook endpoints
    API_KEYS = "api_keys"
    TEAM = "team"
    AUDIT = "audit"  # the audit log


AREA_LABELS: dict[Area, str] = {
    Area.INBOX: "the inbox",
    Area.CONTACTS: "contacts and segments",
    Area.CAMPAIGNS: "campaigns",
    Area.DASHBOARD: "the dashboard",
    Area.ACCOUNTS: "WhatsApp accounts",
    Area.SETUP: "connecting a number",
    Area.FLOWS: "Flows",
    Area.TEMPLATES: "templates and media",
    Area.BILLING: "billing",
    Area.INTEGRATIONS: "integrations",
    Area.API_KEYS: "API keys",
    Area.TEAM: "the team",
    Area.AUDIT: "the audit log",
}


class Access(IntEnum):
    NONE = 0
    VIEW = 1
    CHANGE = 2


_V, _C = Access.VIEW, Access.CHANGE

ROLE_ACCESS: dict[str, dict[Area, Access]] = {
    Role.OWNER: {area: _C for area in Area},
    Role.ADMIN: {**{area: _C for area in Area}, Area.BILLING: _V},
    Role.DEVELOPER: {
        Area.INBOX: _V,
        Area.CONTACTS: _V,
        Area.CAMPAIGNS: _V,
        Area.DASHBOARD: _V,
        Area.ACCOUNTS: _V,
        Area.FLOWS: _C,
        Area.TEMPLATES: _C,
        Area.INTEGRATIONS: _C,
        Area.API_KEYS: _C,
    },
    Role.AGENT: {Area.INBOX: _C, Area.CONTACTS: _V},
    Role.VIEWER: {
        Area.INBOX: _V,
        Area.CONTACTS: _V,
        Area.CAMPAIGNS: _V,
        Area.DASHBOARD: _V,
        Area.ACCOUNTS: _V,
        Area.FLOWS: _V,
        Area.TEMPLATES: _V,
        Area.INTEGRATIONS: _V,
    },
}

KEY_SCOPES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({SCOPE_READ, SCOPE_SEND, SCOPE_MANAGE, SCOPE_KEYS, SCOPE_BILLING}),
    Role.ADMIN: frozenset({SCOPE_READ, SCOPE_SEND, SCOPE_MANAGE, SCOPE_KEYS, SCOPE_BILLING}),
    Role.DEVELOPER: frozenset({SCOPE_READ, SCOPE_SEND, SCOPE_MANAGE, SCOPE_KEYS}),
    Role.AGENT: frozenset(),
    Role.VIEWER: frozenset(),
}

ADMIN_SITE_ROLES = frozenset({Role.OWNER, Role.ADMIN})
# A console page that names no area yet opens to these only (deny by default, like the API's writes).
UNPLACED_PAGE_ROLES = frozenset({Role.OWNER, Role.ADMIN})
ACCOUNT_LIMITED_ROLES = frozenset({Role.AGENT})

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def access_needed(method: str) -> Access:
    return Access.VIEW if method.upper() in READ_METHODS else Access.CHANGE


def role_allows(role: str, area: Area, needed: Access) -> bool:
    return ROLE_ACCESS.get(role, {}).get(area, Access.NONE) >= needed


def role_areas(role: str) -> frozenset[Area]:
    """The areas `role` may at least view (what its navigation shows)."""
    return frozenset(area for area, access in ROLE_ACCESS.get(role, {}).items() if access >= Access.VIEW)
