"""The page at `/`: the product, the host's admin and API docs; a tenant's host names its workspace.

The admins' "View site" link leads there.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import TenantUserFactory


def test_a_tenant_host_shows_its_workspace_with_its_admin_and_api_docs(tenant_a, tenant_b):
    response = ApiClient("alpha.localhost").get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>Alpha Coffee</h1>" in page
    assert "WhatsApp Business Platform" in page
    assert 'href="/admin/"' in page and 'href="/api/v1/docs"' in page
    assert 'href="/app/">Console</a>' in page
    assert tenant_b.name not in page


def test_the_public_host_shows_the_platform_with_its_admin_and_api_docs(db):
    response = ApiClient("localhost").get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>WhatsApp Business Platform</h1>" in page
    assert 'href="/admin/"' in page and 'href="/api/platform/docs"' in page
    assert 'href="/app/">Platform console</a>' in page
    assert "Alpha Coffee" not in page


def test_the_landing_page_only_answers_reads(tenant_a):
    assert ApiClient("alpha.localhost").post("/").status_code == 405


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


@pytest.mark.parametrize("admin", ["tenant_admin_client", "platform_admin_client"])
def test_view_site_in_either_admin_leads_to_the_landing_page(request, admin):
    client = request.getfixturevalue(admin)

    index = client.get("/admin/").content.decode()

    assert '<a href="/">View site</a>' in index
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_every_host_has_a_favicon(tenant_a, host):
    client = ApiClient(host)
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])
