"""Migrate the template schema and every tenant schema that is behind, N at a time.

Run it after the shared migrations (`manage.py migrate_schemas --shared`) and before starting the
new code. A no-op costs a few queries whatever the number of tenants. Progress goes to stderr;
the exit status is non-zero when a schema failed, and each failed schema is named.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.schema_migrations import DEFAULT_LOCK_TIMEOUT, DEFAULT_PARALLEL, tenant_schemas_migrate


class Command(BaseCommand):
    help = "Migrate the template schema, then every tenant schema that is behind, --parallel at a time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--parallel",
            type=int,
            default=DEFAULT_PARALLEL,
            help=f"schemas migrated at once, each by its own process and connection (default {DEFAULT_PARALLEL})",
        )
        parser.add_argument(
            "--lock-timeout",
            default=DEFAULT_LOCK_TIMEOUT,
            help=f"PostgreSQL lock_timeout for each statement (default {DEFAULT_LOCK_TIMEOUT}; 0 waits for ever)",
        )
        parser.add_argument(
            "--schema", action="append", dest="schemas", help="only this schema (repeatable); default: all"
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="print one JSON object of the outcome on stdout",
        )

    def handle(
        self,
        *args: Any,
        parallel: int,
        lock_timeout: str,
        schemas: list[str] | None,
        as_json: bool,
        **options: Any,
    ) -> None:
        if parallel < 1:
            raise CommandError("--parallel must be at least 1.")
        started = time.monotonic()
        run = tenant_schemas_migrate(
            parallel=parallel, lock_timeout=lock_timeout, schemas=schemas, log=self.stderr.write
        )
        seconds = time.monotonic() - started
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "schemas": run.schemas,
                        "behind": len(run.behind),
                        "migrated": len(run.migrated),
                        "failed": run.failed,
                        "seconds": round(seconds, 2),
                    }
                )
            )
        else:
            self.stdout.write(
                f"{run.schemas} schema(s), {len(run.behind)} behind, {len(run.migrated)} migrated, "
                f"{len(run.failed)} failed, in {seconds:.1f}s."
            )
        if run.failed:
            lines = [f"  {schema}: {error}" for schema, error in sorted(run.failed.items())]
            raise CommandError(
                f"{len(run.failed)} schema(s) failed to migrate (each stays at its last migration that succeeded):\n"
                + "\n".join(lines)
                + "\nFix the cause (a lock timeout only needs a retry), then run `manage.py migrate_tenants` "
                "again: it migrates only the schemas still behind. `--schema NAME` retries one."
            )
