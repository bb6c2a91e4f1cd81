"""Roles in the console: every role against every page group (open, 403 page), the navigation each role
sees, and the API key scopes each role may hand out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, RequestFactory

from console.access import tenant_console_view
from team.models import Membership
from tenants.models import ApiKey
from tests.conftest import host_of
from tests.factories import ConversationFactory, PhoneNumberFactory

ROLES = ["owner", "admin", "developer", "agent", "viewer"]

# What each role may do in each page group, in the order of ROLES: C change (any method),
# V view (reads only), - nothing (a 403 page).
EXPECTED = {
    "inbox": "CCVCV",
    "contacts": "CCVVV",
    "dashboard": "CCV-V",
    "accounts": "CCV-V",
    "setup": "CC---",
    "flows": "CCC-V",
    "templates": "CCC-V",
    "campaigns": "CCV-V",
    "billing": "CV---",
    "integrations": "CCC-V",
    "api_keys": "CCC--",
    "team": "CC---",
    "audit": "CC---",
}


def role_client(tenant, role: str, *, accounts=(), username: str | None = None) -> Client:
    """A client logged in on `tenant`'s host as a new user of `role` (call inside `in_tenant`)."""
    user = User.objects.create_user(username or f"{role}-person", password="x")
    membership = Membership.objects.get(user=user)
    membership.role = role
    membership.save()
    membership.accounts.set(accounts)
    client = Client(HTTP_HOST=host_of(tenant))
    client.force_login(user)
    return client


@pytest.fixture
def workspace(tenant_a, in_tenant):
    """Alpha with one number and a conversation on it (the agents' account)."""
    with in_tenant(tenant_a):
        number = PhoneNumberFactory()
        conversation = ConversationFactory(phone_number=number)
        return {"account": number.account, "conversation": conversation}


def _requests(area: str, workspace) -> tuple[str | None, tuple[str, dict] | None]:
    """A page of the group to GET, and a POST of the group (whose data may well be refused later)."""
    account, conversation = workspace["account"], workspace["conversation"]
    return {
        "inbox": ("/app/inbox/", (f"/app/inbox/{conversation.pk}/assign/", {"user_id": ""})),
        "contacts": ("/app/contacts/", ("/app/contacts/new/", {})),
        "dashboard": ("/app/dashboard/", None),
        "accounts": (f"/app/accounts/{account.pk}/", None),
        "setup": ("/app/setup/", ("/app/setup/start/", {})),
        "flows": (None, (f"/app/accounts/{account.pk}/flows/999999/publish/", {})),
        "templates": ("/app/templates/", ("/app/templates/999999/submit/", {})),
        "campaigns": ("/app/campaigns/", ("/app/campaigns/999999/cancel/", {})),
        "billing": ("/app/billing/", None),
        "integrations": ("/app/integrations/", ("/app/integrations/new/", {})),
        "api_keys": ("/app/api-keys/", ("/app/api-keys/new/", {"name": "matrix", "scopes": ["read"]})),
        "team": ("/app/team/", ("/app/team/invite/", {})),
        "audit": ("/app/audit/", None),
    }[area]


@pytest.mark.parametrize("area", list(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_what_the_table_says_and_gets_a_403_page_elsewhere(
    role, area, tenant_a, in_tenant, workspace
):
    expected = EXPECTED[area][ROLES.index(role)]
    with in_tenant(tenant_a):
        client = role_client(tenant_a, role, accounts=[workspace["account"]])
    page, write = _requests(area, workspace)

    if page is not None:
        response = client.get(page)
        if expected == "-":
            assert response.status_code == 403
            assert "Not available to your role" in response.content.decode()
        else:
            assert response.status_code == 200, (role, area, page)
    if write is not None:
        path, data = write
        response = client.post(path, data)
        if expected == "C":
            assert response.status_code != 403, (role, area, path)
        else:
            assert response.status_code == 403, (role, area, path)
            refusal = "does not allow this change" if expected == "V" else "does not open"
            assert refusal in response.content.decode()


NAV = {
    "owner": [
        "Inbox",
        "Contacts",
        "Campaigns",
        "Dashboard",
        "Accounts",
        "Templates",
        "Billing",
        "Integrations",
        "Audit log",
        "Team",
    ],
    "admin": [
        "Inbox",
        "Contacts",
        "Campaigns",
        "Dashboard",
        "Accounts",
        "Templates",
        "Billing",
        "Integrations",
        "Audit log",
        "Team",
    ],
    "developer": ["Inbox", "Contacts", "Campaigns", "Dashboard", "Accounts", "Templates", "Integrations"],
    "agent": ["Inbox", "Contacts"],
    "viewer": ["Inbox", "Contacts", "Campaigns", "Dashboard", "Accounts", "Templates", "Integrations"],
}


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_shows_only_what_the_role_opens(role, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        client = role_client(tenant_a, role)
    html = client.get("/app/inbox/").content.decode()
    nav = html.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    for label in NAV["owner"]:
        assert (f">{label}</a>" in nav) == (label in NAV[role]), (role, label)
    assert (">Connect a number</a>" in nav) == (role in ("owner", "admin"))
    assert ('href="/app/api-keys/"' in html) == (role in ("owner", "admin", "developer"))


KEY_SCOPES = {
    "owner": {"read", "send", "manage", "keys", "billing"},
    "admin": {"read", "send", "manage", "keys", "billing"},
    "developer": {"read", "send", "manage", "keys"},
}


@pytest.mark.parametrize("scope", ["read", "send", "manage", "keys", "billing"])
@pytest.mark.parametrize("role", ["owner", "admin", "developer"])
def test_a_key_never_carries_a_scope_beyond_its_creators_role(role, scope, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        client = role_client(tenant_a, role)
    response = client.post("/app/api-keys/new/", {"name": f"{role} {scope}", "scopes": ["read", scope]})

    stored = ApiKey.objects.filter(tenant=tenant_a, name=f"{role} {scope}")
    if scope in KEY_SCOPES[role]:
        assert response.status_code == 200
        assert set(stored.get().scope_list) == {"read", scope}
        assert stored.get().created_by == f"console:{role}-person"
    else:
        assert response.status_code == 403
        assert (
            f"Your role (Developer) cannot create a key with the scope {scope}." in response.content.decode()
        )
        assert not stored.exists()


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_make_no_keys(role, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        client = role_client(tenant_a, role)
    assert client.post("/app/api-keys/new/", {"name": "mine", "scopes": ["read"]}).status_code == 403
    assert not ApiKey.objects.filter(tenant=tenant_a, name="mine").exists()


@pytest.mark.parametrize(
    "role, status", [("owner", 200), ("admin", 200), ("developer", 403), ("agent", 403), ("viewer", 403)]
)
def test_a_page_of_no_area_opens_to_owners_and_admins_only(role, status, tenant_a, in_tenant):
    page = tenant_console_view(lambda request: HttpResponse("a page no area names"))
    with in_tenant(tenant_a):
        role_client(tenant_a, role)
        request = RequestFactory().get("/app/somewhere/")
        request.tenant = tenant_a
        request.user = User.objects.get(username=f"{role}-person")
        response = page(request)
    assert response.status_code == status
    if status == 403:
        assert "does not open this page" in response.content.decode()
