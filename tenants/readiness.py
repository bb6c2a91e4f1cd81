"""Whether the database is ready for the platform, and the one way to make it so.

Ready means: the public schema is migrated and holds the public tenant, and the tenant template
schema (which new tenants are copied from) exists and is migrated. `platform_migrate` is what
`manage.py migrate_platform` runs; the benchmarks call `platform_migrate_if_needed` first, so they
also run on a fresh checkout whose database is still empty.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from tenants.context import connection
from tenants.models import Tenant
from tenants.schema_migrations import tenant_schemas_migrate
from tenants.selectors import customer_tenants
from tenants.services import public_tenant_ensure, template_schema_ensure


def _unapplied_migrations(schema: str) -> int:
    with schema_context(schema):
        executor = MigrationExecutor(connection)
        return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def database_unready_reason() -> str | None:
    """None when the database is ready, else what is missing, in words. Reads only; any schema."""
    public = get_public_schema_name()
    pending = _unapplied_migrations(public)
    if pending:
        return f"the public schema has {pending} unapplied migration(s)"
    with schema_context(public):
        if not Tenant.objects.filter(schema_name=public).exists():
            return "the public tenant does not exist"
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        return f"the tenant template schema {template!r} does not exist"
    pending = _unapplied_migrations(template)
    if pending:
        return f"the tenant template schema {template!r} has {pending} unapplied migration(s)"
    return None


def database_ready() -> bool:
    return database_unready_reason() is None


def platform_migrate(*, verbosity: int = 0, log: Callable[[str], object] = lambda line: None) -> None:
    """Migrate the public schema, ensure the public tenant and the template schema, then migrate
    the template and every tenant schema that is behind (`tenants.schema_migrations`). Idempotent."""
    with schema_context(get_public_schema_name()):
        log("Migrating the public schema...")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        public_tenant_ensure()
        log("Preparing the tenant template schema...")
        template_schema_ensure(verbosity=verbosity)
        log(f"Migrating the template schema and {customer_tenants().count()} tenant schema(s)...")
        run = tenant_schemas_migrate(log=log)
        if run.failed:
            failed = "; ".join(f"{schema}: {error}" for schema, error in sorted(run.failed.items()))
            raise RuntimeError(
                f"{len(run.failed)} schema(s) failed to migrate ({failed}). "
                "Fix the cause, then run `manage.py migrate_tenants`."
            )


def platform_migrate_if_needed(*, log: Callable[[str], object]) -> bool:
    """Run `platform_migrate` when the database is not ready, saying why through `log`.

    Returns whether it migrated. Management commands pass their stderr, so that a command's
    stdout (a benchmark's JSON) carries nothing but its own output.
    """
    reason = database_unready_reason()
    if reason is None:
        return False
    log(f"The database is not ready ({reason}): running `manage.py migrate_platform` first.")
    platform_migrate(log=log)
    log("Migrations done.")
    return True
