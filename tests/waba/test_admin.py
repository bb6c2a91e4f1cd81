"""Tenant admin pages of templates, template edits, the media library and the business profile: each
list and change page answers a tenant's staff user, shows only that tenant's rows, and edits nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import host_of
from tests.factories import AccountFactory, TemplateFactory, TenantUserFactory
from waba.models import BusinessProfile, MediaAsset, TemplateEdit


@pytest.fixture
def alpha_admin(tenant_a, in_tenant) -> Client:
    client = Client(HTTP_HOST=host_of(tenant_a))
    with in_tenant(tenant_a):  # users and sessions live in the tenant's schema
        client.force_login(TenantUserFactory.create(username="alpha-root"))
    return client


@pytest.fixture
def rows(tenant_a, in_tenant) -> dict[str, object]:
    with in_tenant(tenant_a):
        account = AccountFactory.create()
        template = TemplateFactory.create(account=account, name="order_ready")
        return {
            "templateedit": TemplateEdit.objects.create(template=template, status_before="APPROVED"),
            "mediaasset": MediaAsset.objects.create(
                account=account,
                name="menu-alpha.jpg",
                media_type="image",
                content_type="image/jpeg",
                size_bytes=2048,
                sha256="a" * 64,
                media_id="4490001",
                uploaded_at=timezone.now(),
            ),
            "businessprofile": BusinessProfile.objects.create(
                account=account, about="Alpha bakery, fresh daily"
            ),
        }


@pytest.mark.parametrize(
    ("model", "shown"),
    [
        ("templateedit", "order_ready"),
        ("mediaasset", "menu-alpha.jpg"),
        ("businessprofile", "Alpha bakery, fresh daily"),
    ],
)
def test_each_page_answers_and_shows_the_row_read_only(model, shown, alpha_admin, rows):
    row = rows[model]

    listing = alpha_admin.get(f"/admin/waba/{model}/")
    change = alpha_admin.get(f"/admin/waba/{model}/{row.pk}/change/")

    assert listing.status_code == 200 and change.status_code == 200
    assert shown in listing.content.decode() and shown in change.content.decode()
    assert 'name="_save"' not in change.content.decode()
    assert alpha_admin.post(f"/admin/waba/{model}/{row.pk}/change/", {}).status_code == 403
    assert alpha_admin.get(f"/admin/waba/{model}/add/").status_code == 403
    assert alpha_admin.get(f"/admin/waba/{model}/{row.pk}/delete/").status_code == 403


def test_another_tenants_rows_are_neither_listed_nor_found(rows, tenant_b, in_tenant):
    beta_admin = Client(HTTP_HOST=host_of(tenant_b))
    with in_tenant(tenant_b):
        beta_admin.force_login(TenantUserFactory.create(username="beta-root"))

    assert "menu-alpha.jpg" not in beta_admin.get("/admin/waba/mediaasset/").content.decode()
    assert "Alpha bakery" not in beta_admin.get("/admin/waba/businessprofile/").content.decode()
    for model, row in rows.items():
        assert beta_admin.get(f"/admin/waba/{model}/{row.pk}/change/").status_code == 302  # "does not exist"
