"""`manage.py migrate_tenants`: which schemas are behind (read in a few queries), the template first,
only those behind migrated, a failing schema named while the others go on."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenants.schema_clone import schema_clone
from tenants.schema_migrations import schemas_applied_migrations, schemas_behind, tenant_schemas_migrate

pytestmark = pytest.mark.django_db

TEMPLATE = settings.TENANT_BASE_SCHEMA
# A tenant app whose newest migration changes tables: undone in a schema, that schema is behind.
APP = "billing"
# Its migration that adds a column: forgotten (its record deleted, its column kept), re-applying it fails.
ADDS_A_COLUMN = ("billing", "0002_meteredmessage_credit_drawn")


def _leaf(app: str) -> tuple[str, str]:
    (leaf,) = MigrationLoader(None).graph.leaf_nodes(app)
    return leaf


def _undo_newest_migration(schema: str, app: str = APP) -> None:
    """Really unapply `app`'s newest migration in `schema` (and whatever depends on it)."""
    loader = MigrationLoader(None)
    leaf = _leaf(app)
    (parent,) = [key for key in loader.graph.node_map[leaf].parents if key[0] == app]
    with schema_context(schema):
        MigrationExecutor(connection).migrate([parent])


def _forget(schema: str, key: tuple[str, str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', list(key))
        assert cursor.rowcount == 1


def _columns(schema: str, table_prefix: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name LIKE %s ORDER BY 1, 2",
            [schema, f"{table_prefix}%"],
        )
        return cursor.fetchall()


def test_a_current_fleet_is_left_alone_and_reading_it_does_not_grow_with_the_schemas(tenant_a, tenant_b):
    for number in range(6):
        schema_clone(source=TEMPLATE, target=f"t_fleet_{number}")
    few = [TEMPLATE, tenant_a.schema_name, tenant_b.schema_name]
    many = [*few, *(f"t_fleet_{number}" for number in range(6))]

    with CaptureQueriesContext(connection) as reading_few:
        assert schemas_behind(schemas=few) == {}
    with CaptureQueriesContext(connection) as reading_many:
        run = tenant_schemas_migrate(schemas=many, parallel=1)

    assert (run.schemas, run.behind, run.migrated, run.failed) == (9, [], [], {})
    assert len(reading_few.captured_queries) == 2  # the catalog, then one UNION ALL
    assert len(reading_many.captured_queries) == 4  # the same for the template, then for the tenants


def test_the_read_is_batched(tenant_a, tenant_b):
    schemas = [TEMPLATE, tenant_a.schema_name, tenant_b.schema_name]

    with CaptureQueriesContext(connection) as reading:
        applied = schemas_applied_migrations(schemas=schemas, batch_size=2)

    assert len(reading.captured_queries) == 3  # the catalog, then two batches
    assert applied[tenant_a.schema_name] == applied[TEMPLATE]
    assert _leaf(APP) in applied[tenant_b.schema_name]


def test_a_schema_behind_is_named_with_how_many_migrations_it_lacks(tenant_a, tenant_b):
    _forget(tenant_b.schema_name, ADDS_A_COLUMN)

    assert schemas_behind(schemas=[TEMPLATE, tenant_a.schema_name, tenant_b.schema_name]) == {
        tenant_b.schema_name: 1
    }


def test_a_missing_schema_counts_as_entirely_behind():
    behind = schemas_behind(schemas=["t_no_such_schema"])

    assert behind == {"t_no_such_schema": len(MigrationLoader(None).graph.nodes)}


def test_only_the_schema_behind_is_migrated_and_ends_like_the_template(tenant_a, tenant_b):
    _undo_newest_migration(tenant_b.schema_name)
    assert _columns(tenant_b.schema_name, APP) != _columns(TEMPLATE, APP)
    said: list[str] = []

    run = tenant_schemas_migrate(parallel=1, log=said.append)

    assert run.behind == [tenant_b.schema_name]
    assert run.migrated == [tenant_b.schema_name]
    assert run.failed == {}
    assert _columns(tenant_b.schema_name, APP) == _columns(TEMPLATE, APP)
    assert schemas_behind(schemas=[tenant_a.schema_name, tenant_b.schema_name]) == {}
    assert "1/1 done, 0 failed" in said[-1]


def test_the_template_is_migrated_before_any_tenant(tenant_a):
    _undo_newest_migration(tenant_a.schema_name)
    _undo_newest_migration(TEMPLATE)
    said: list[str] = []

    run = tenant_schemas_migrate(parallel=1, log=said.append)

    assert run.migrated == [TEMPLATE, tenant_a.schema_name]
    assert said[0] == f"Migrating the template schema {TEMPLATE!r} first..."
    assert schemas_behind(schemas=[TEMPLATE, tenant_a.schema_name]) == {}


def test_a_failing_schema_is_named_and_the_others_still_migrate(tenant_a, tenant_b):
    _forget(tenant_a.schema_name, ADDS_A_COLUMN)  # its column is still there: applying it again fails
    _undo_newest_migration(tenant_b.schema_name)
    said: list[str] = []

    run = tenant_schemas_migrate(parallel=1, log=said.append)

    assert run.migrated == [tenant_b.schema_name]
    assert list(run.failed) == [tenant_a.schema_name]
    assert "already exists" in run.failed[tenant_a.schema_name]
    assert f"  FAILED {tenant_a.schema_name}: {run.failed[tenant_a.schema_name]}" in said
    assert schemas_behind(schemas=[tenant_a.schema_name, tenant_b.schema_name]) == {tenant_a.schema_name: 1}


def test_a_failing_template_stops_the_run_before_any_tenant(tenant_b):
    _forget(TEMPLATE, ADDS_A_COLUMN)
    _undo_newest_migration(tenant_b.schema_name)

    run = tenant_schemas_migrate(parallel=1)

    assert list(run.failed) == [TEMPLATE]
    assert run.migrated == []
    assert tenant_b.schema_name in schemas_behind(schemas=[tenant_b.schema_name])


def test_the_command_exits_non_zero_naming_the_failed_schema_and_what_to_do(tenant_a, tenant_b):
    _forget(tenant_a.schema_name, ADDS_A_COLUMN)
    _undo_newest_migration(tenant_b.schema_name)
    stdout, stderr = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("migrate_tenants", parallel=1, stdout=stdout, stderr=stderr)

    message = str(refused.value)
    assert message.startswith("1 schema(s) failed to migrate")
    assert f"  {tenant_a.schema_name}: " in message
    assert "run `manage.py migrate_tenants` again" in message
    assert "2 behind, 1 migrated, 1 failed" in stdout.getvalue()
    assert "tenant schema(s) read: 2 behind" in stderr.getvalue()


def test_the_command_on_a_current_fleet_says_so():
    stdout = io.StringIO()

    call_command("migrate_tenants", "--json", stdout=stdout, stderr=io.StringIO())

    assert '"behind": 0, "migrated": 0, "failed": {}' in stdout.getvalue()
