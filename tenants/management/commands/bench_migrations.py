"""Benchmark: `migrate_tenants` across many tenant schemas, with nothing to do and with one new column.

1. Brings the benchmark's tenants up to `--tenants` (a tenant row and a schema copied from the
   template, 25 per transaction; they are removed at the end unless --keep, and reused by the next run).
2. Times a no-op `migrate_tenants` over every tenant schema and counts its queries.
3. Times a real one-column migration over every schema, `--parallel` at a time, while a second
   connection samples `pg_stat_activity` for the most connections migrating at once.
   The migration exists only in this process and its forked workers: the `alerts` app's migrations
   are copied into a temporary package with one more migration (a `RunSQL` adding a nullable
   column to `alerts_incident`, with its reverse), and MIGRATION_MODULES points `alerts` at it.
4. Rolls it back in every schema (drops the column and the migration's record, 50 schemas per
   transaction), so the database ends as it started. `--cleanup` does only this and the removal of the
   benchmark tenants, after an interrupted run.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from tenants.context import connection
from tenants.models import Domain, Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.schema_clone import schema_clone
from tenants.schema_migrations import (
    APPLICATION_NAME,
    DEFAULT_PARALLEL,
    schemas_behind,
    tenant_schema_names,
    tenant_schemas_migrate,
)
from tenants.services import tenant_domain, tenant_schema_name

BENCH_PREFIX = "bench-migr-"
CREATE_BATCH = 25
DROP_BATCH = 10
ROLLBACK_BATCH = 50
PROBE_APP = "alerts"
PROBE_MODULE = "bench_alerts_migrations"
PROBE_MIGRATION = "9000_bench_probe_column"
PROBE_COLUMN = "bench_probe"

_PROBE_MIGRATION_SOURCE = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [{dependency!r}]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE {table} ADD COLUMN {column} integer NULL",
            reverse_sql="ALTER TABLE {table} DROP COLUMN {column}",
        )
    ]
"""


class Command(BaseCommand):
    help = "Time migrate_tenants over --tenants schemas: a no-op, then a one-column migration (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenants", type=int, default=1000, help="benchmark tenant schemas to have (default 1000)"
        )
        parser.add_argument(
            "--parallel", type=int, default=DEFAULT_PARALLEL, help="schemas migrated at once by the real run"
        )
        parser.add_argument("--keep", action="store_true", help="keep the benchmark tenants for the next run")
        parser.add_argument(
            "--cleanup",
            action="store_true",
            help="only remove what an interrupted run left: the probe column and the benchmark tenants",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object of figures on stdout"
        )

    def handle(
        self,
        *args: Any,
        tenants: int,
        parallel: int,
        keep: bool,
        cleanup: bool,
        as_json: bool,
        **options: Any,
    ) -> None:
        if tenants < 1 or parallel < 1:
            raise CommandError("--tenants and --parallel must be at least 1.")
        log = self.stderr.write
        platform_migrate_if_needed(log=log)
        table = apps.get_model(PROBE_APP, "Incident")._meta.db_table
        if cleanup:
            _probe_remove(tenant_schema_names(), table=table, log=log)
            self._remove(list(Tenant.objects.filter(slug__startswith=BENCH_PREFIX)))
            return
        figures: dict[str, Any] = {"tenants": tenants, "parallel": parallel}
        created: list[Tenant] = []
        try:
            started = time.perf_counter()
            created = self._bench_tenants_ensure(tenants)
            figures["created"] = len(created)
            figures["create_s"] = round(time.perf_counter() - started, 1)
            schemas = tenant_schema_names()
            figures["schemas"] = len(schemas)
            _probe_remove(schemas, table=table, log=log)  # what an interrupted run may have left

            log(f"No-op run over {len(schemas)} schemas...")
            with _counted_queries() as queries:
                started = time.perf_counter()
                noop = tenant_schemas_migrate(parallel=parallel, log=log)
                figures["noop_s"] = round(time.perf_counter() - started, 2)
            figures["noop_queries"] = queries[0]
            if noop.behind:
                raise CommandError(
                    f"{len(noop.behind)} schema(s) were behind before the benchmark: run migrate_tenants."
                )

            log(f"One-column migration over {len(schemas)} schemas, {parallel} at a time...")
            with _probe_migration(table), _ConnectionSampler() as sampler:
                started = time.perf_counter()
                real = tenant_schemas_migrate(parallel=parallel, log=log)
                figures["real_s"] = round(time.perf_counter() - started, 1)
                figures["real_behind"] = len(real.behind)
                figures["real_migrated"] = len(real.migrated)
                figures["real_failed"] = len(real.failed)
                figures["still_behind_after"] = len(schemas_behind(schemas=schemas))
            figures["max_connections"] = sampler.maximum
            figures["schemas_with_column"] = _schemas_with_probe_column(table)

            started = time.perf_counter()
            _probe_remove(schemas, table=table, log=log)
            figures["rollback_s"] = round(time.perf_counter() - started, 1)
        finally:
            if not keep:
                started = time.perf_counter()
                self._remove(created)
                figures["cleanup_s"] = round(time.perf_counter() - started, 1)
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"migrate_tenants over {figures['schemas']} schemas (--parallel {parallel}):")
        for name, value in figures.items():
            self.stdout.write(f"  {name:<20} {value}")

    def _bench_tenants_ensure(self, wanted: int) -> list[Tenant]:
        """The benchmark's tenants, created until there are `wanted`: a row, a domain and a schema copied
        from the template, CREATE_BATCH per transaction."""
        tenants = list(Tenant.objects.filter(slug__startswith=BENCH_PREFIX).order_by("id"))
        missing = wanted - len(tenants)
        if missing <= 0:
            return tenants
        self.stderr.write(
            f"Creating {missing} benchmark tenants ({len(tenants)} kept from a previous run)..."
        )
        numbers = iter(range(len(tenants) + wanted * 2))
        taken = {tenant.slug for tenant in tenants}
        started = time.perf_counter()
        made = 0
        while made < missing:
            with transaction.atomic():
                for _ in range(min(CREATE_BATCH, missing - made)):
                    slug = next(f"{BENCH_PREFIX}{n}" for n in numbers if f"{BENCH_PREFIX}{n}" not in taken)
                    tenant = Tenant(
                        slug=slug, name=f"Migration benchmark {slug}", schema_name=tenant_schema_name(slug)
                    )
                    tenant.save()
                    schema_clone(source=settings.TENANT_BASE_SCHEMA, target=tenant.schema_name)
                    Domain.objects.create(domain=tenant_domain(slug), tenant=tenant, is_primary=True)
                    tenants.append(tenant)
                    made += 1
            elapsed = time.perf_counter() - started
            self.stderr.write(
                f"  {made}/{missing} created in {elapsed:.0f}s (about {(missing - made) * elapsed / made:.0f}s left)"
            )
        return tenants

    def _remove(self, tenants: list[Tenant]) -> None:
        if not tenants:
            return
        self.stderr.write(f"Removing {len(tenants)} benchmark tenants...")
        for start in range(0, len(tenants), DROP_BATCH):
            with transaction.atomic():
                for tenant in tenants[start : start + DROP_BATCH]:
                    tenant.delete(force_drop=True)
            done = min(start + DROP_BATCH, len(tenants))
            if done % 100 == 0 or done == len(tenants):
                self.stderr.write(f"  removed {done}/{len(tenants)}")


@contextmanager
def _probe_migration(table: str) -> Iterator[None]:
    """The `alerts` app with one more migration, for this process and the workers it forks."""
    source = Path(apps.get_app_config(PROBE_APP).path) / "migrations"
    (leaf,) = MigrationLoader(None).graph.leaf_nodes(PROBE_APP)
    folder = Path(tempfile.mkdtemp(prefix="bench_migrations_"))
    package = folder / PROBE_MODULE
    package.mkdir()
    (package / "__init__.py").write_text("")
    for migration in source.glob("[0-9]*.py"):
        shutil.copy(migration, package / migration.name)
    (package / f"{PROBE_MIGRATION}.py").write_text(
        _PROBE_MIGRATION_SOURCE.format(dependency=leaf, table=table, column=PROBE_COLUMN)
    )
    sys.path.insert(0, str(folder))
    try:
        with override_settings(MIGRATION_MODULES={PROBE_APP: PROBE_MODULE}):
            yield
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.startswith(PROBE_MODULE)]:
            del sys.modules[name]
        shutil.rmtree(folder)


def _probe_remove(schemas: list[str], *, table: str, log: Callable[[str], object]) -> None:
    """Drop the probe column and its migration's record in every schema that has them."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND a.attname = %s AND NOT a.attisdropped AND n.nspname = ANY(%s)",
            [table, PROBE_COLUMN, schemas],
        )
        with_column = [row[0] for row in cursor.fetchall()]
    if not with_column:
        return
    log(f"Rolling the probe column back in {len(with_column)} schemas...")
    for start in range(0, len(with_column), ROLLBACK_BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            for schema in with_column[start : start + ROLLBACK_BATCH]:
                cursor.execute(f"ALTER TABLE {quote(schema)}.{quote(table)} DROP COLUMN {PROBE_COLUMN}")
                cursor.execute(
                    f"DELETE FROM {quote(schema)}.django_migrations WHERE app = %s AND name = %s",
                    [PROBE_APP, PROBE_MIGRATION],
                )


def _schemas_with_probe_column(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE c.relname = %s AND a.attname = %s AND NOT a.attisdropped",
            [table, PROBE_COLUMN],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@contextmanager
def _counted_queries() -> Iterator[list[int]]:
    """Counts the statements this process sends (the forked workers' are not seen)."""
    counter = [0]

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counter


class _ConnectionSampler(threading.Thread):
    """Samples, from a connection of its own, how many connections are migrating schemas at once."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        # Django's own parameters (the embedded server is reached through a socket directory in OPTIONS).
        params = connection.get_connection_params()
        self._conninfo = {
            key: params[key] for key in ("dbname", "user", "password", "host", "port") if params.get(key)
        }
        self._finished = threading.Event()
        self.maximum = 0

    def run(self) -> None:
        with psycopg.connect(**self._conninfo, autocommit=True) as sampler:
            while not self._finished.is_set():
                row = sampler.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = %s AND backend_type = 'client backend'",  # not parallel workers
                    [APPLICATION_NAME],
                ).fetchone()
                self.maximum = max(self.maximum, int(row[0]) if row else 0)
                self._finished.wait(0.05)

    def __enter__(self) -> _ConnectionSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finished.set()
        self.join()
