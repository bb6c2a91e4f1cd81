"""The readiness check the benchmarks run first: what it reports missing, and that it leaves a ready database alone."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from tenants.models import Tenant
from tenants.readiness import database_ready, database_unready_reason, platform_migrate_if_needed

pytestmark = pytest.mark.django_db


def _forget_last_migration(schema: str, app: str) -> None:
    """Delete the record of `app`'s newest applied migration in `schema`, as if it had not run."""
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{schema}".django_migrations WHERE id = '
            f'(SELECT max(id) FROM "{schema}".django_migrations WHERE app = %s)',
            [app],
        )
        assert cursor.rowcount == 1


def test_a_migrated_database_is_ready():
    assert database_unready_reason() is None
    assert database_ready()


def test_an_unapplied_public_migration_is_reported():
    _forget_last_migration("public", "tenants")

    assert database_unready_reason() == "the public schema has 1 unapplied migration(s)"
    assert not database_ready()


def test_a_missing_public_tenant_is_reported():
    Tenant.objects.filter(schema_name="public").update(schema_name="not_public")

    assert database_unready_reason() == "the public tenant does not exist"


def test_a_missing_template_schema_is_reported():
    with override_settings(TENANT_BASE_SCHEMA="no_such_template"):
        assert database_unready_reason() == "the tenant template schema 'no_such_template' does not exist"


def test_an_unapplied_template_migration_is_reported():
    _forget_last_migration(settings.TENANT_BASE_SCHEMA, "messaging")

    assert database_unready_reason() == (
        f"the tenant template schema {settings.TENANT_BASE_SCHEMA!r} has 1 unapplied migration(s)"
    )


def test_a_ready_database_is_left_alone():
    said: list[str] = []

    assert platform_migrate_if_needed(log=said.append) is False
    assert said == []
