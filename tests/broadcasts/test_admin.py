"""The tenant admin lists broadcasts with their progress, read-only."""

from __future__ import annotations

from django.test import Client

from broadcasts.models import Broadcast
from tests.factories import TenantUserFactory


def test_the_tenant_admin_shows_broadcasts_with_progress_and_cannot_add_them(api_a, tenant_a, in_tenant, number_a, template_a):
    created = api_a.post_json(
        "/api/v1/broadcasts",
        {
            "phone_number_id": number_a.phone_number_id,
            "name": "Spring menu",
            "template": {"name": template_a.name, "language": "en_US"},
            "recipients": [{"to": "+4915100000001", "body_parameters": ["Ada", "1"]}],
        },
    ).json()
    admin = Client(HTTP_HOST="alpha.localhost")
    with in_tenant(tenant_a):
        admin.force_login(TenantUserFactory(username="alpha-broadcasts"))

    listing = admin.get("/admin/broadcasts/broadcast/")
    assert listing.status_code == 200
    assert "Spring menu" in listing.content.decode() and "running" in listing.content.decode()
    detail = admin.get(f"/admin/broadcasts/broadcast/{created['id']}/change/")
    assert detail.status_code == 200 and "queued 1" in detail.content.decode()
    assert admin.get("/admin/broadcasts/broadcast/add/").status_code == 403
    with in_tenant(tenant_a):
        assert Broadcast.objects.count() == 1
