"""Migrating every tenant schema: find the schemas that are behind in a few queries, migrate only those.

`migrate_schemas --tenant` runs Django's `migrate` once per schema, about a second each even when
there is nothing to do. Here the migrations each schema has applied are read in batches, one
`UNION ALL` over `<schema>.django_migrations` per SCHEMA_BATCH schemas, and compared with the
migrations on disk; only the schemas that are behind are migrated, each through django-tenants'
`migrate_schemas --schema` (so `pre_migrate`/`post_migrate` run as usual), in a pool of `parallel`
processes with one database connection each.

The template schema (which new tenants are copied from, `tenants.schema_clone`) is migrated first
and alone: once it is current, a tenant created during the run starts current too. A template that
fails stops the run; a tenant schema that fails does not stop the others.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name

from tenants.context import connection
from tenants.models import Tenant

MigrationKey = tuple[str, str]

# Schemas read per UNION ALL statement: long enough to make 1,000 schemas a handful of queries,
# short enough for the statement to stay small (about 100 bytes per schema).
SCHEMA_BATCH = 250
DEFAULT_PARALLEL = 2
DEFAULT_LOCK_TIMEOUT = "5s"
# The connections migrating a schema carry this name in pg_stat_activity.
APPLICATION_NAME = "migrate_tenants"


@dataclass
class FleetMigration:
    """What a run of `tenant_schemas_migrate` found and did."""

    schemas: int = 0
    behind: list[str] = field(default_factory=list)
    migrated: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # schema -> the error, in one line

    @property
    def ok(self) -> bool:
        return not self.failed


def tenant_schema_names() -> list[str]:
    """The template schema first, then every tenant's schema in name order (public excluded)."""
    template = settings.TENANT_BASE_SCHEMA
    names = (
        Tenant.objects.exclude(schema_name__in=[get_public_schema_name(), template])
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    return [template, *names]


def _migrations_on_disk() -> tuple[set[MigrationKey], dict[MigrationKey, tuple[MigrationKey, ...]]]:
    """Every migration of the project's graph, and for each squashed one the migrations it replaces.

    A schema records every migration, a shared app's too (its operations do nothing there), so a
    current schema has recorded all of them.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = set(loader.graph.nodes)
    replaces = {
        key: tuple(loader.disk_migrations[key].replaces)
        for key in nodes
        if loader.disk_migrations[key].replaces
    }
    return nodes, replaces


def _schemas_with_migration_table(schemas: list[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = 'django_migrations' AND c.relkind = 'r' AND n.nspname = ANY(%s)",
            [schemas],
        )
        return {row[0] for row in cursor.fetchall()}


def schemas_applied_migrations(
    *, schemas: Iterable[str], batch_size: int = SCHEMA_BATCH
) -> dict[str, set[MigrationKey] | None]:
    """The migrations each schema has recorded; None for a schema with no `django_migrations` table
    (or no schema at all). One catalog query plus one query per `batch_size` schemas; any schema."""
    names = list(dict.fromkeys(schemas))
    applied: dict[str, set[MigrationKey] | None] = {name: None for name in names}
    with_table = _schemas_with_migration_table(names)
    present = [name for name in names if name in with_table]
    quote = connection.ops.quote_name
    for start in range(0, len(present), batch_size):
        batch = present[start : start + batch_size]
        sql = " UNION ALL ".join(
            f"SELECT %s, app, name FROM {quote(name)}.django_migrations" for name in batch
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, batch)
            rows = cursor.fetchall()
        for name in batch:
            applied[name] = set()
        for schema, app, migration in rows:
            applied[schema].add((app, migration))  # type: ignore[union-attr]
    return applied


def schemas_behind(*, schemas: Iterable[str], batch_size: int = SCHEMA_BATCH) -> dict[str, int]:
    """Each schema that has not applied every migration on disk, with how many it lacks."""
    nodes, replaces = _migrations_on_disk()
    behind: dict[str, int] = {}
    for schema, applied in schemas_applied_migrations(schemas=schemas, batch_size=batch_size).items():
        if applied is None:
            behind[schema] = len(nodes)
            continue
        missing = [
            key
            for key in nodes
            if key not in applied and not (key in replaces and all(old in applied for old in replaces[key]))
        ]
        if missing:
            behind[schema] = len(missing)
    return behind


def schema_migrate(schema: str, *, lock_timeout: str = DEFAULT_LOCK_TIMEOUT) -> str | None:
    """Apply the unapplied migrations in one tenant schema. Returns None, or the error in one line.

    Each statement waits at most `lock_timeout` for a lock ("0" waits for ever): a migration
    queued behind a long transaction would otherwise block every query on that table meanwhile.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, false), set_config('application_name', %s, false)",
                [lock_timeout, APPLICATION_NAME],
            )
        call_command(
            "migrate_schemas", schema_name=schema, executor="standard", interactive=False, verbosity=0
        )
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0]
        return f"{type(error).__name__}: {first_line}"
    finally:
        connection.set_schema_to_public()
    return None


_worker_lock_timeout = DEFAULT_LOCK_TIMEOUT


def _worker_start(lock_timeout: str) -> None:
    global _worker_lock_timeout
    _worker_lock_timeout = lock_timeout


def _worker_migrate(schema: str) -> tuple[str, str | None]:
    return schema, schema_migrate(schema, lock_timeout=_worker_lock_timeout)


def _migrate_each(
    schemas: list[str], *, parallel: int, lock_timeout: str
) -> Iterable[tuple[str, str | None]]:
    """(schema, error or None) as each schema finishes: in this process when `parallel` is 1,
    else in `parallel` forked processes (they inherit the settings; each opens one connection)."""
    if parallel <= 1 or len(schemas) <= 1:
        for schema in schemas:
            yield schema, schema_migrate(schema, lock_timeout=lock_timeout)
        return
    connections.close_all()  # the children must not share this process's socket
    context = multiprocessing.get_context("fork")
    with context.Pool(
        processes=min(parallel, len(schemas)), initializer=_worker_start, initargs=(lock_timeout,)
    ) as pool:
        yield from pool.imap_unordered(_worker_migrate, schemas)


def tenant_schemas_migrate(
    *,
    parallel: int = DEFAULT_PARALLEL,
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT,
    schemas: list[str] | None = None,
    log: Callable[[str], object] = lambda line: None,
) -> FleetMigration:
    """Bring the template schema, then every tenant schema (or `schemas`), up to the migrations on disk.

    Runs in the public schema after the shared migrations (`migrate_schemas --shared`). Idempotent:
    a schema already current costs nothing but its share of the batched read. A failing tenant
    schema is reported in the result and the others continue; a failing template stops the run
    before any tenant (the same migration would fail in each of them).
    """
    template = settings.TENANT_BASE_SCHEMA
    run = FleetMigration()
    if schemas is None or template in schemas:
        if template in schemas_behind(schemas=[template]):
            log(f"Migrating the template schema {template!r} first...")
            error = schema_migrate(template, lock_timeout=lock_timeout)
            if error:
                run.schemas, run.behind, run.failed = 1, [template], {template: error}
                return run
            run.migrated.append(template)
    names = [name for name in (tenant_schema_names() if schemas is None else schemas) if name != template]
    behind = schemas_behind(schemas=names)
    run.schemas = len(names) + (1 if schemas is None or template in schemas else 0)
    run.behind = [*run.migrated, *(name for name in names if name in behind)]
    todo = [name for name in names if name in behind]
    log(f"{len(names)} tenant schema(s) read: {len(todo)} behind, {len(names) - len(todo)} current.")
    if not todo:
        return run
    log(f"Migrating {len(todo)} schema(s), {max(1, min(parallel, len(todo)))} at a time...")
    step = max(1, len(todo) // 20)
    for done, (schema, error) in enumerate(
        _migrate_each(todo, parallel=parallel, lock_timeout=lock_timeout), 1
    ):
        if error:
            run.failed[schema] = error
            log(f"  FAILED {schema}: {error}")
        else:
            run.migrated.append(schema)
        if done % step == 0 or done == len(todo):
            log(f"  {done}/{len(todo)} done, {len(run.failed)} failed")
    return run
