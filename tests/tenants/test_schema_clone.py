"""A new tenant's schema is a faithful copy of the migrated template schema."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection


def _catalog(schema: str) -> dict[str, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type, is_nullable, is_identity FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY 1, 2",
            [schema],
        )
        columns = cursor.fetchall()
        cursor.execute(
            # Partial-index predicates re-render in an equivalent but different spelling: compare up to WHERE.
            "SELECT tablename, split_part(replace(indexdef, %s, 'X'), ' WHERE ', 1), indexdef LIKE '%%WHERE%%' "
            "FROM pg_indexes WHERE schemaname = %s ORDER BY 1, 2",
            [schema + ".", schema],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, con.contype, con.conname, confrel_ns.nspname FROM pg_constraint con "
            "JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = con.connamespace "
            "LEFT JOIN pg_class confrel ON confrel.oid = con.confrelid "
            "LEFT JOIN pg_namespace confrel_ns ON confrel_ns.oid = confrel.relnamespace "
            "WHERE ns.nspname = %s ORDER BY 1, 2, 3",
            [schema],
        )
        constraints = cursor.fetchall()
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def test_clone_has_the_templates_tables_indexes_and_constraints(tenant_a):
    template = _catalog(settings.TENANT_BASE_SCHEMA)
    clone = _catalog(tenant_a.schema_name)

    assert clone["columns"] == template["columns"]
    assert clone["indexes"] == template["indexes"]  # same names, same definitions
    # Foreign keys point inside the tenant's own schema, never back at the template.
    assert [row[:3] for row in clone["constraints"]] == [row[:3] for row in template["constraints"]]
    referenced = {row[3] for row in clone["constraints"] if row[1] == "f"}
    assert referenced and referenced <= {tenant_a.schema_name, "public"}


def test_clone_carries_migration_history_and_working_sequences(tenant_a, in_tenant):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{settings.TENANT_BASE_SCHEMA}".django_migrations')
        template_migrations = cursor.fetchone()[0]
        cursor.execute(f'SELECT count(*) FROM "{tenant_a.schema_name}".django_migrations')
        assert cursor.fetchone()[0] == template_migrations > 0
    with in_tenant(tenant_a):
        highest = Permission.objects.order_by("-id").first()
        created = Permission.objects.create(name="x", codename="x", content_type=highest.content_type)
        assert created.id > highest.id
