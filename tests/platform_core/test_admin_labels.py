"""What both admins' index pages say: their titles, and a readable label for every model."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from platform_core.admin_sites import platform_admin_site, tenant_admin_site
from tests.factories import TenantUserFactory

# Django's default plural of a name ending in a consonant and "y" ("replys"), and a split brand name.
BAD_PLURAL = re.compile(r"[^aeiou]ys$|whats app", re.IGNORECASE)


@pytest.fixture
def tenant_admin_client(tenant_a, in_tenant) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    with in_tenant(tenant_a):
        client.force_login(TenantUserFactory.create(username="alpha-root"))
    return client


@pytest.fixture
def platform_admin_client(db) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(TenantUserFactory.create(username="platform-root"))
    return client


@pytest.mark.parametrize("site", [platform_admin_site, tenant_admin_site], ids=lambda site: site.name)
def test_every_model_in_either_admin_has_a_readable_plural(site):
    bad = [
        f"{model._meta.label}: {model._meta.verbose_name_plural}"
        for model in site._registry
        if BAD_PLURAL.search(str(model._meta.verbose_name_plural))
    ]

    assert bad == []


def test_the_workspace_admin_index_names_the_workspace_and_lists_every_app(tenant_admin_client):
    page = tenant_admin_client.get("/admin/").content.decode()

    assert "Site administration" not in page
    assert "<h1>Accounts, messages and automations</h1>" in page
    assert "Alpha Coffee workspace admin</title>" in page
    # Every app the workspace admin registers is usable there, the menus app (label "menus") too.
    assert "Not available" not in page
    assert 'href="/admin/menus/automatedreply/"' in page
    for label in ("WhatsApp accounts", "WhatsApp Flows", "Automated replies", "Daily usage", "API keys"):
        assert f">{label}</a>" in page, label


def test_the_platform_admin_index_has_its_own_title_and_no_unavailable_apps(platform_admin_client):
    page = platform_admin_client.get("/admin/").content.decode()

    assert "<h1>Tenants, webhooks and platform health</h1>" in page
    assert "Site administration" not in page
    assert "Not available" not in page
    assert ">Account health (all tenants)</a>" in page
    assert ">API keys</a>" in page
