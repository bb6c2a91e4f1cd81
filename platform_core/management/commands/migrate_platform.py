"""Migrate everything: the public schema, the tenant template schema and every tenant schema."""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.selectors import customer_tenants
from tenants.services import public_tenant_ensure, template_schema_ensure


class Command(BaseCommand):
    help = "Run all migrations (shared, template, every tenant) and make sure the public tenant exists."

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        started = time.monotonic()
        self.stdout.write("Migrating the public schema...")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=max(0, verbosity - 1))
        public_tenant_ensure()
        self.stdout.write("Preparing the tenant template schema...")
        template_schema_ensure(verbosity=max(0, verbosity - 1))
        count = customer_tenants().count()
        self.stdout.write(f"Migrating the template schema and {count} tenant schema(s)...")
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=max(0, verbosity - 1))
        self.stdout.write(self.style.SUCCESS(f"Migrations done in {time.monotonic() - started:.1f}s."))
