"""The platform admin's tenant and domain lists: customer tenants only, never the public or template schema."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tenants.models import Domain, Tenant
from tests.factories import TenantUserFactory


@pytest.fixture
def platform_admin(db) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(TenantUserFactory.create(username="platform-root"))
    return client


def _listed_tenants(page: str) -> set[str]:
    return {tenant.slug for tenant in Tenant.objects.all() if f'/admin/tenants/tenant/{tenant.pk}/change/' in page}


def test_the_tenant_list_shows_customer_tenants_only(platform_admin):
    public = Tenant.objects.get(schema_name="public")
    template = Tenant.objects.get(schema_name=settings.TENANT_BASE_SCHEMA)

    page = platform_admin.get("/admin/tenants/tenant/").content.decode()

    assert _listed_tenants(page) == {"alpha", "beta"}
    assert "2 tenants" in page
    assert platform_admin.get(f"/admin/tenants/tenant/{public.pk}/change/").status_code == 302
    assert platform_admin.get(f"/admin/tenants/tenant/{template.pk}/change/").status_code == 302


def test_the_status_filter_offers_active_and_suspended_only(platform_admin, tenant_b):
    tenant_b.status = Tenant.Status.SUSPENDED
    tenant_b.save(update_fields=["status"])

    page = platform_admin.get("/admin/tenants/tenant/").content.decode()
    suspended = platform_admin.get("/admin/tenants/tenant/", {"status": "suspended"}).content.decode()

    assert "?status=active" in page and "?status=suspended" in page
    assert "?status=template" not in page
    assert _listed_tenants(suspended) == {"beta"}


def test_the_domain_list_shows_tenants_domains_and_offers_only_customer_tenants(platform_admin):
    page = platform_admin.get("/admin/tenants/domain/").content.decode()
    add_form = platform_admin.get("/admin/tenants/domain/add/").content.decode()

    assert "alpha.localhost" in page and "beta.localhost" in page
    public_hosts = Domain.objects.filter(tenant__schema_name="public").values_list("domain", flat=True)
    assert public_hosts and not any(f">{host}</a>" in page for host in public_hosts)
    assert "Alpha Coffee (alpha)" in add_form
    assert "Platform (public)" not in add_form and "Template schema" not in add_form
