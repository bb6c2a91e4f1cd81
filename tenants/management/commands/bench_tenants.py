"""Benchmark: how long creating a tenant takes, and whether it grows with the number of tenants."""

from __future__ import annotations

import json
import statistics
import time

from django.core.management.base import BaseCommand, CommandParser

from tenants.selectors import customer_tenants
from tenants.services import tenant_create, tenant_delete


class Command(BaseCommand):
    help = "Create --count tenants through the real provisioning service, time each, then remove them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=50)
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object of figures."
        )

    def handle(self, *args, count: int, as_json: bool, **options) -> None:
        existing = customer_tenants().count()
        run_id = int(time.time()) % 100000
        timings: list[float] = []
        created = []
        try:
            for index in range(count):
                started = time.perf_counter()
                result = tenant_create(slug=f"bench-{run_id}-{index}", name=f"Benchmark {index}")
                timings.append(time.perf_counter() - started)
                created.append(result.tenant)
                if not as_json and (index + 1) % 10 == 0:
                    self.stderr.write(f"  created {index + 1}/{count} tenants...")
        finally:
            for tenant in created:
                tenant_delete(tenant=tenant, confirm=tenant.slug)
        figures = {
            "count": count,
            "existing_tenants": existing,
            "first_s": round(timings[0], 4),
            "last_s": round(timings[-1], 4),
            "median_s": round(statistics.median(timings), 4),
            "first_half_median_s": round(statistics.median(timings[: max(1, count // 2)]), 4),
            "second_half_median_s": round(statistics.median(timings[count // 2 :]), 4),
        }
        if as_json:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(
            f"Tenant creation ({count} tenants, {existing} already present; all removed after):"
        )
        for name, value in figures.items():
            self.stdout.write(f"  {name:<22} {value}")
