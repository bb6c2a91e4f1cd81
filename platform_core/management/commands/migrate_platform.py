"""Migrate everything: the public schema, the tenant template schema and every tenant schema."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from tenants.readiness import platform_migrate


class Command(BaseCommand):
    help = "Run all migrations (shared, template, every tenant) and make sure the public tenant exists."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        platform_migrate(verbosity=max(0, options["verbosity"] - 1), log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Migrations done in {time.monotonic() - started:.1f}s."))
