"""Encrypted credentials: ciphertext at rest, key rotation across every schema, masked admin."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from tenants.models import MetaApp
from tests.conftest import ApiClient
from tests.factories import TenantUserFactory
from tests.waba.conftest import APP_SECRET, TOKEN
from tests.waba.factories import AccountFactory, PhoneNumberFactory
from waba.models import WhatsAppAccount

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _raw(schema: str, table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{schema}"."{table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_every_schema_so_the_old_key_can_go(settings, tenant_a, tenant_b, in_tenant):
    original = list(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = [KEY_A, *original]
    with in_tenant(tenant_a):
        alpha = AccountFactory()
    with in_tenant(tenant_b):
        beta = AccountFactory(access_token="EAAGbetaToken0123456789")
    app = MetaApp.objects.create(app_id="4242", app_secret="public-app-secret", verify_token="v" * 10)
    before = _raw(tenant_a.schema_name, "waba_whatsappaccount", "access_token", alpha.pk)
    assert TOKEN not in before and Fernet(KEY_A.encode()).decrypt(before.encode()).decode() == TOKEN

    settings.ENCRYPTION_KEYS = [KEY_B, KEY_A, *original]
    out = StringIO()
    call_command("rotate_secrets", stdout=out)

    assert f"{tenant_a.schema_name}: waba_whatsappaccount.access_token: 1 re-encrypted" in out.getvalue()
    assert "public: tenants_metaapp.app_secret" in out.getvalue()
    assert TOKEN not in out.getvalue() and APP_SECRET not in out.getvalue()
    settings.ENCRYPTION_KEYS = [KEY_B]
    with in_tenant(tenant_a):
        reread = WhatsAppAccount.objects.get(pk=alpha.pk)
        assert reread.access_token.reveal() == TOKEN and reread.app_secret.reveal() == APP_SECRET
    with in_tenant(tenant_b):
        assert WhatsAppAccount.objects.get(pk=beta.pk).access_token.reveal() == "EAAGbetaToken0123456789"
    assert MetaApp.objects.get(pk=app.pk).app_secret.reveal() == "public-app-secret"
    after = _raw(tenant_a.schema_name, "waba_whatsappaccount", "access_token", alpha.pk)
    assert Fernet(KEY_B.encode()).decrypt(after.encode()).decode() == TOKEN


def test_rotation_reports_values_no_key_decrypts_and_rotates_the_rest(settings, tenant_a, in_tenant):
    original = list(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = [KEY_A, *original]
    with in_tenant(tenant_a):
        lost = AccountFactory()
        kept = AccountFactory(waba_id="2")
    settings.ENCRYPTION_KEYS = [KEY_B, *original]  # KEY_A was dropped too early
    with in_tenant(tenant_a), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE waba_whatsappaccount SET access_token = %s, app_secret = %s WHERE id = %s",
            [Fernet(KEY_B.encode()).encrypt(b"EAAGkeptToken0123").decode(), None, kept.pk],
        )
    err = StringIO()
    with pytest.raises(CommandError, match="decrypt with no key"):
        call_command("rotate_secrets", stdout=StringIO(), stderr=err)
    assert f"waba_whatsappaccount.access_token pk={lost.pk}" in err.getvalue()


def test_the_tenant_admin_never_shows_secrets_and_runs_the_sync_actions(live_account, sim, tenant_a, in_tenant):
    with in_tenant(tenant_a):
        TenantUserFactory(username="owner")
    client = ApiClient("alpha.localhost")
    client.post("/admin/login/?next=/admin/", {"username": "owner", "password": "correct horse battery staple"})

    page = client.get(f"/admin/waba/whatsappaccount/{live_account.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert TOKEN not in html and APP_SECRET not in html
    assert f"ends in …{TOKEN[-4:]}" in html
    assert 'name="access_token"' not in html and 'name="waba_id"' not in html

    for action, expected in (
        ("sync_templates", "Alpha Coffee: 0 template(s) at Meta; 0 new, 0 updated, 0 gone."),
        ("refresh_phone_numbers", "Alpha Coffee: 0 updated, 1 unchanged, 0 unknown to Meta."),
    ):
        response = client.post(
            "/admin/waba/whatsappaccount/", {"action": action, "_selected_action": [live_account.pk]}, follow=True
        )
        assert expected in response.content.decode(), action
    assert sim.requests(path_contains="message_templates", method="GET")
    for path in ("/admin/waba/phonenumber/", "/admin/waba/messagetemplate/", "/admin/waba/accounteventlog/"):
        assert client.get(path).status_code == 200, path


def test_admin_of_another_tenant_does_not_list_alphas_accounts(tenant_a, tenant_b, in_tenant):
    with in_tenant(tenant_a):
        PhoneNumberFactory(account=AccountFactory(display_name="Alpha secret shop"))
    with in_tenant(tenant_b):
        TenantUserFactory(username="bob")
    client = ApiClient("beta.localhost")
    client.post("/admin/login/?next=/admin/", {"username": "bob", "password": "correct horse battery staple"})
    assert "Alpha secret shop" not in client.get("/admin/waba/whatsappaccount/").content.decode()
