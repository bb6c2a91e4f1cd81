"""Accounts REST: list, create, get, update, delete (releasing the routing index), isolation."""

from __future__ import annotations

from tenants.models import MetaApp, MetaRoute
from tests.waba.conftest import APP_ID, PHONE_ID, TOKEN, WABA_ID
from tests.waba.factories import AccountFactory, PhoneNumberFactory, TemplateFactory
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount


def test_create_list_and_get_show_masked_secrets(api_a, tenant_a, in_tenant):
    created = api_a.post_json("/api/v1/accounts", {"display_name": "Shop"})
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    with in_tenant(tenant_a):
        account = AccountFactory(waba_id="999", display_name="Live")
        PhoneNumberFactory(account=account, phone_number_id="998")

    listed = api_a.get("/api/v1/accounts").json()["items"]
    assert [item["display_name"] for item in listed] == ["Shop", "Live"]
    live = api_a.get(f"/api/v1/accounts/{account.pk}").json()
    assert live["access_token"] == {"set": True, "last4": TOKEN[-4:]}
    assert live["app_secret"]["set"] is True
    assert live["webhook_callback_url"] == f"http://localhost:8000/webhooks/whatsapp/{APP_ID}"
    assert live["phone_numbers"][0]["phone_number_id"] == "998"
    assert live["rate_limits"] == {"per_minute": 6000, "per_day": 250000, "per_month": 5000000}
    assert TOKEN not in str(listed) and TOKEN not in str(live)


def test_update_changes_name_and_rate_limits_with_per_field_errors(api_a):
    account_id = api_a.post_json("/api/v1/accounts", {"display_name": "Shop"}).json()["id"]

    response = api_a.patch_json(f"/api/v1/accounts/{account_id}", {"display_name": "Shop 2", "rate_limit_per_minute": 60})
    assert response.status_code == 200
    assert response.json()["display_name"] == "Shop 2"
    assert response.json()["rate_limits"]["per_minute"] == 60

    response = api_a.patch_json(f"/api/v1/accounts/{account_id}", {"rate_limit_per_day": 0, "display_name": " "})
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["error"]["details"]} == {"rate_limit_per_day", "display_name"}
    assert api_a.get(f"/api/v1/accounts/{account_id}").json()["rate_limits"]["per_day"] == 250000


def test_delete_releases_routes_and_the_app_and_removes_numbers_and_templates(live_account, api_a, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        TemplateFactory(account=live_account)
    assert MetaRoute.objects.filter(tenant=tenant_a).count() == 2

    response = api_a.delete(f"/api/v1/accounts/{live_account.pk}")

    assert response.status_code == 204
    assert not MetaRoute.objects.filter(tenant=tenant_a).exists()
    assert not MetaApp.objects.filter(app_id=APP_ID).exists()
    with in_tenant(tenant_a):
        assert not WhatsAppAccount.objects.exists()
        assert not PhoneNumber.objects.exists() and not MessageTemplate.objects.exists()


def test_deleting_never_releases_another_tenants_claims(live_account, api_a, tenant_a, tenant_b, in_tenant):
    # Beta owns a number id that alpha's stale row also carries (alpha never claimed it).
    MetaRoute.objects.create(kind="phone_number", external_id="555000", tenant=tenant_b)
    with in_tenant(tenant_a):
        PhoneNumberFactory(account=live_account, phone_number_id="555000")

    api_a.delete(f"/api/v1/accounts/{live_account.pk}")

    assert MetaRoute.objects.get(external_id="555000").tenant_id == tenant_b.id


def test_every_account_endpoint_refuses_another_tenants_id(api_a, api_b, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = AccountFactory()
        phone = PhoneNumberFactory(account=account)
        template = TemplateFactory(account=account)
    calls = [
        ("get", f"/api/v1/accounts/{account.pk}"),
        ("patch_json", f"/api/v1/accounts/{account.pk}", {"display_name": "x"}),
        ("delete", f"/api/v1/accounts/{account.pk}"),
        ("get", f"/api/v1/accounts/{account.pk}/events"),
        ("get", f"/api/v1/accounts/{account.pk}/phone-numbers"),
        ("post_json", f"/api/v1/accounts/{account.pk}/phone-numbers", {"phone_number_id": "1"}),
        ("post_json", f"/api/v1/accounts/{account.pk}/phone-numbers/refresh", {}),
        ("get", f"/api/v1/phone-numbers/{phone.pk}"),
        ("delete", f"/api/v1/phone-numbers/{phone.pk}"),
        ("post_json", f"/api/v1/phone-numbers/{phone.pk}/register", {"pin": "123456"}),
        ("post_json", f"/api/v1/accounts/{account.pk}/templates", {"name": "x"}),
        ("post_json", f"/api/v1/accounts/{account.pk}/templates/sync", {}),
        ("get", f"/api/v1/templates/{template.pk}"),
        ("post_json", f"/api/v1/templates/{template.pk}/submit", {}),
        ("delete", f"/api/v1/templates/{template.pk}"),
    ]
    for method, path, *body in calls:
        response = getattr(api_b, method)(path, *body)
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["error"]["code"] == "not_found"
    assert api_b.get(f"/api/v1/templates?account_id={account.pk}").json() == {"items": [], "count": 0}
    assert api_b.get("/api/v1/accounts").json() == {"items": [], "count": 0}
    with in_tenant(tenant_a):
        assert WhatsAppAccount.objects.filter(pk=account.pk, display_name="Alpha Coffee").exists()
        assert PhoneNumber.objects.filter(pk=phone.pk).exists() and MessageTemplate.objects.filter(pk=template.pk).exists()


def test_the_account_api_needs_a_key(tenant_a):
    from tests.conftest import ApiClient

    response = ApiClient("alpha.localhost").get("/api/v1/accounts")
    assert response.status_code == 401


def test_mark_unhealthy_and_healthy_are_idempotent_and_spare_drafts(tenant_a, in_tenant):
    from waba.services.accounts import account_mark_healthy, account_mark_unhealthy

    with in_tenant(tenant_a):
        account = AccountFactory()
        draft = AccountFactory(waba_id="", status=WhatsAppAccount.Status.DRAFT)
        for _ in range(2):
            account_mark_unhealthy(account=account, reason="Meta: token expired", code=190)
        account_mark_unhealthy(account=draft, reason="nope")
        account.refresh_from_db()
        draft.refresh_from_db()
        assert (account.status, account.status_reason, account.status_error_code) == ("unhealthy", "Meta: token expired", 190)
        assert draft.status == "draft"
        account_mark_healthy(account=account)
        account.refresh_from_db()
        assert (account.status, account.status_reason, account.status_error_code) == ("active", "", None)


def test_phone_number_for_send_and_graph_client_for(tenant_a, tenant_b, in_tenant):
    import pytest

    from waba.errors import AccountNotReady, PhoneNumberNotFound
    from waba.selectors import phone_number_for_send
    from waba.services.credentials import graph_client_for

    with in_tenant(tenant_a):
        phone = PhoneNumberFactory()
        found = phone_number_for_send(phone_number_id=PHONE_ID)
        assert found.pk == phone.pk and found.account.waba_id == WABA_ID
        client = graph_client_for(found.account)
        assert TOKEN not in repr(client)
        with pytest.raises(AccountNotReady):
            graph_client_for(AccountFactory(waba_id="1", access_token=None))
    with in_tenant(tenant_b), pytest.raises(PhoneNumberNotFound):
        phone_number_for_send(phone_number_id=PHONE_ID)
