"""tenants.routing: one owner per WABA id, phone_number_id and Meta app, platform-wide."""

from __future__ import annotations

import pytest

from tenants.models import MetaApp, MetaRoute
from tenants.routing import (
    AlreadyClaimed,
    meta_app_register,
    meta_app_release,
    route_claim,
    route_claim_check,
    routes_release,
)


def test_claims_are_idempotent_for_the_owner_and_409_for_anyone_else(tenant_a, tenant_b):
    first = route_claim(tenant=tenant_a, kind="waba", external_id="1")
    assert route_claim(tenant=tenant_a, kind="waba", external_id="1").pk == first.pk
    route_claim(tenant=tenant_a, kind="phone_number", external_id="1")  # another kind, another id space

    with pytest.raises(AlreadyClaimed) as raised:
        route_claim(tenant=tenant_b, kind="waba", external_id="1")
    assert (raised.value.status, raised.value.code) == (409, "already_claimed")
    assert raised.value.details == {"kind": "waba", "external_id": "1"}
    with pytest.raises(AlreadyClaimed):
        route_claim_check(tenant=tenant_b, kind="waba", external_id="1")
    route_claim_check(tenant=tenant_a, kind="waba", external_id="1")

    assert routes_release(tenant=tenant_b, kind="waba", external_ids=["1"]) == 0
    assert routes_release(tenant=tenant_a, kind="waba", external_ids=["1"]) == 1
    assert route_claim(tenant=tenant_b, kind="waba", external_id="1").tenant_id == tenant_b.id
    assert MetaRoute.objects.filter(external_id="1").count() == 2


def test_meta_apps_belong_to_the_first_tenant_and_the_platform_app_is_never_overwritten(tenant_a, tenant_b):
    app = meta_app_register(tenant=tenant_a, app_id="77", app_secret="secret-one-0001", verify_token="verify-one")
    again = meta_app_register(tenant=tenant_a, app_id="77", app_secret="secret-two-0002", verify_token="verify-two")
    assert again.pk == app.pk and again.app_secret.reveal() == "secret-two-0002" and again.verify_token.reveal() == "verify-two"

    with pytest.raises(AlreadyClaimed):
        meta_app_register(tenant=tenant_b, app_id="77", app_secret="x" * 10, verify_token="y" * 10)
    assert not meta_app_release(tenant=tenant_b, app_id="77")

    platform = MetaApp.objects.create(app_id="88", app_secret="platform-secret", verify_token="platform-verify")
    used = meta_app_register(tenant=tenant_a, app_id="88", app_secret="tenant-guess", verify_token="tenant-verify")
    assert used.pk == platform.pk and used.tenant_id is None
    platform.refresh_from_db()
    assert platform.app_secret.reveal() == "platform-secret" and platform.verify_token.reveal() == "platform-verify"
    assert meta_app_release(tenant=tenant_a, app_id="77")
    assert not meta_app_release(tenant=tenant_a, app_id="88")


def test_no_tenant_can_register_or_claim_the_platform_app_from_settings(tenant_a, settings):
    from tenants.routing import MetaAppReserved, meta_app_check

    settings.META_APP_ID = "99"

    with pytest.raises(MetaAppReserved) as raised:
        meta_app_register(tenant=tenant_a, app_id="99", app_secret="tenant-typo-0001", verify_token="tenant-verify")
    assert (raised.value.status, raised.value.code) == (422, "app_id_reserved")
    with pytest.raises(MetaAppReserved):
        meta_app_check(tenant=tenant_a, app_id="99")
    assert not MetaApp.objects.filter(app_id="99").exists()
