"""Benchmark: how long creating a tenant takes, and whether it grows with the number of tenants.

`--existing N` first brings the number of customer tenants up to N with filler tenants (rows and
schemas copied from the template, without users or keys: what makes the catalog grow), then times
`--count` creations through the real provisioning service. Everything it created is removed at
the end (the fillers too, unless --keep-existing, so that a later run can reuse them).
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tenants.models import Domain, Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.schema_clone import schema_clone
from tenants.selectors import customer_tenants
from tenants.services import tenant_create, tenant_delete, tenant_domain, tenant_schema_name

FILLER_PREFIX = "bench-filler-"
FILLER_BATCH = 25


class Command(BaseCommand):
    help = "Create --count tenants through the real provisioning service, time each, then remove them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=50, help="tenants to create and time")
        parser.add_argument(
            "--existing", type=int, default=0, help="first bring the customer tenants up to this many"
        )
        parser.add_argument(
            "--keep-existing", action="store_true", help="keep the filler tenants for the next run"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object of figures on stdout"
        )

    def handle(self, *args: Any, count: int, existing: int, keep_existing: bool, as_json: bool, **options: Any) -> None:
        if count < 1 or existing < 0:
            raise CommandError("--count must be at least 1 and --existing at least 0.")
        platform_migrate_if_needed(log=self.stderr.write)
        fillers, filler_s = self._fillers_ensure(existing)
        present = customer_tenants().count()
        run_id = int(time.time()) % 100000
        timings: list[float] = []
        created: list[Tenant] = []
        try:
            for index in range(count):
                started = time.perf_counter()
                result = tenant_create(slug=f"bench-{run_id}-{index}", name=f"Benchmark {index}")
                timings.append(time.perf_counter() - started)
                created.append(result.tenant)
                if (index + 1) % 10 == 0 or index + 1 == count:
                    self.stderr.write(
                        f"  timed {index + 1}/{count} creations (median so far {statistics.median(timings) * 1000:.0f} ms)"
                    )
        finally:
            self._remove(created, "benchmark")
            if not keep_existing:
                self._remove(fillers, "filler")
        figures = {
            "count": count,
            "existing_tenants": present,
            "fillers_created": len(fillers),
            "fillers_s": round(filler_s, 1),
            "first_ms": round(timings[0] * 1000, 1),
            "last_ms": round(timings[-1] * 1000, 1),
            "median_ms": round(statistics.median(timings) * 1000, 1),
            "first_half_median_ms": round(statistics.median(timings[: max(1, count // 2)]) * 1000, 1),
            "second_half_median_ms": round(statistics.median(timings[count // 2 :]) * 1000, 1),
            "max_ms": round(max(timings) * 1000, 1),
        }
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"Tenant creation ({count} timed, {present} customer tenants present before; all removed after):")
        for name, value in figures.items():
            self.stdout.write(f"  {name:<22} {value}")

    def _fillers_ensure(self, existing: int) -> tuple[list[Tenant], float]:
        """Filler tenants until there are `existing` customer tenants: a tenant row, its domain and
        a schema copied from the template, FILLER_BATCH per transaction."""
        missing = existing - customer_tenants().count()
        if missing <= 0:
            return [], 0.0
        self.stderr.write(f"Creating {missing} filler tenants to reach {existing}...")
        first = Tenant.objects.filter(slug__startswith=FILLER_PREFIX).count()
        fillers: list[Tenant] = []
        started = time.perf_counter()
        while len(fillers) < missing:
            batch = range(first + len(fillers), first + min(missing, len(fillers) + FILLER_BATCH))
            with transaction.atomic():
                for number in batch:
                    slug = f"{FILLER_PREFIX}{number}"
                    tenant = Tenant(slug=slug, name=f"Filler {number}", schema_name=tenant_schema_name(slug))
                    tenant.save()
                    schema_clone(source=settings.TENANT_BASE_SCHEMA, target=tenant.schema_name)
                    Domain.objects.create(domain=tenant_domain(slug), tenant=tenant, is_primary=True)
                    fillers.append(tenant)
            elapsed = time.perf_counter() - started
            left = (missing - len(fillers)) * elapsed / len(fillers)
            self.stderr.write(f"  {len(fillers)}/{missing} fillers in {elapsed:.0f}s (about {left:.0f}s left)")
        return fillers, time.perf_counter() - started

    def _remove(self, tenants: list[Tenant], kind: str) -> None:
        if not tenants:
            return
        self.stderr.write(f"Removing {len(tenants)} {kind} tenants...")
        for index, tenant in enumerate(tenants, start=1):
            tenant_delete(tenant=tenant, confirm=tenant.slug)
            if index % 100 == 0:
                self.stderr.write(f"  removed {index}/{len(tenants)}")
