"""Webhook verify tokens are encrypted at rest like the other secrets (Meta apps in public, accounts in
each tenant schema), existing clear values are encrypted by the migrations, and verification works."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from platform_core.crypto import decrypt
from tenants.models import MetaApp
from tenants.routing import meta_app_register
from tests.conftest import ApiClient
from tests.waba.factories import AccountFactory
from waba.models import WhatsAppAccount
from webhooks.meta_apps import webhook_apps_forget
from webhooks.throttle import inbound_throttle_reset

TOKEN = "verify-token-0123456789"
MIGRATIONS = {
    "tenants_metaapp": ("tenants.migrations.0004_invitation_and_encrypted_verify_token", "verify_token"),
    "waba_whatsappaccount": ("waba.migrations.0004_encrypted_webhook_verify_token", "webhook_verify_token"),
}


def _raw(table: str, column: str, pk: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


def _set_raw(table: str, column: str, pk: int, value: str | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s', [value, pk])


def _migration(table: str):
    module, column = MIGRATIONS[table]
    migration = importlib.import_module(module)
    editor = SimpleNamespace(connection=connection)
    return (
        (lambda: migration.encrypt_verify_tokens(None, editor)),
        (lambda: migration.decrypt_verify_tokens(None, editor)),
        column,
    )


@pytest.fixture
def fresh_webhook_state():
    webhook_apps_forget()
    inbound_throttle_reset()
    yield
    webhook_apps_forget()


def test_a_meta_apps_verify_token_is_stored_encrypted_and_still_verifies(tenant_a, fresh_webhook_state):
    app = meta_app_register(
        tenant=tenant_a, app_id="4711", app_secret="app-secret-0123456789", verify_token=TOKEN
    )

    stored = _raw("tenants_metaapp", "verify_token", app.pk)
    assert TOKEN not in stored and decrypt(stored) == TOKEN
    assert MetaApp.objects.get(pk=app.pk).verify_token.reveal() == TOKEN
    query = {"hub.mode": "subscribe", "hub.challenge": "8080"}
    right = ApiClient("localhost").get("/webhooks/whatsapp/4711", {**query, "hub.verify_token": TOKEN})
    assert right.status_code == 200 and right.content == b"8080"
    wrong = ApiClient("localhost").get("/webhooks/whatsapp/4711", {**query, "hub.verify_token": TOKEN[:-1]})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "verification_failed"


def test_an_accounts_verify_token_is_stored_encrypted(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = AccountFactory(webhook_verify_token=TOKEN)
        stored = _raw("waba_whatsappaccount", "webhook_verify_token", account.pk)
        assert TOKEN not in stored and decrypt(stored) == TOKEN
        assert WhatsAppAccount.objects.get(pk=account.pk).webhook_verify_token.reveal() == TOKEN


def test_the_migration_encrypts_clear_meta_app_tokens_once_and_reverses(tenant_a):
    app = meta_app_register(
        tenant=tenant_a, app_id="4712", app_secret="app-secret-0123456789", verify_token="x"
    )
    encrypt, reverse, column = _migration("tenants_metaapp")
    _set_raw("tenants_metaapp", column, app.pk, TOKEN)  # as stored before the migration

    encrypt()
    encrypted = _raw("tenants_metaapp", column, app.pk)
    assert encrypted != TOKEN and decrypt(encrypted) == TOKEN
    encrypt()  # again: an encrypted value is left as it is
    assert _raw("tenants_metaapp", column, app.pk) == encrypted
    assert MetaApp.objects.get(pk=app.pk).verify_token.reveal() == TOKEN

    reverse()
    assert _raw("tenants_metaapp", column, app.pk) == TOKEN


def test_the_migration_encrypts_clear_account_tokens_in_the_tenant_schema(tenant_a, in_tenant):
    encrypt, reverse, column = _migration("waba_whatsappaccount")
    with in_tenant(tenant_a):
        with_token, without = AccountFactory(), AccountFactory(waba_id="2", webhook_verify_token=None)
        _set_raw("waba_whatsappaccount", column, with_token.pk, TOKEN)
        _set_raw("waba_whatsappaccount", column, without.pk, "")  # the old column's empty default

        encrypt()
        assert decrypt(_raw("waba_whatsappaccount", column, with_token.pk)) == TOKEN
        assert _raw("waba_whatsappaccount", column, without.pk) is None
        assert WhatsAppAccount.objects.get(pk=with_token.pk).webhook_verify_token.reveal() == TOKEN

        reverse()
        assert _raw("waba_whatsappaccount", column, with_token.pk) == TOKEN
        assert _raw("waba_whatsappaccount", column, without.pk) == ""
