"""`manage.py bench_contacts_import --rows 100000 [--json]`: CSV import throughput and memory.

In a benchmark tenant (created or reused), uploads a generated CSV file of --rows rows (a name, a
national number read with the default country, a tier, tags and two attributes; about 1% repeated
numbers, 0.5% invalid numbers and, from the second run on, numbers already known, which are
updated), then runs the import in this process as the worker would. Reports rows per second of
the run, the upload time, and the memory: the Python heap's peak during the run (tracemalloc,
which slows the run; --no-trace skips it) and the growth of the process's peak RSS.
"""

from __future__ import annotations

import json
import random
import resource
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import schema_context

from contacts import imports
from contacts.models import AttributeDefinition, ImportJob
from messaging.models import Contact
from tenants.context import connection
from tenants.models import Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.services import tenant_create, tenant_delete

SLUG = "bench-contacts"


def _csv_pieces(rows: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    tiers = ["gold", "silver", "bronze", ""]
    buffer = ["name,phone,tier,tags,city,orders\n"]
    for index in range(rows):
        if rng.random() < 0.005:
            phone = "12"  # not a phone number: reported in the error report
        elif rng.random() < 0.01 and index:
            phone = f"0151 {rng.randrange(index) % 10_000_000:08d}"  # a number seen earlier in the file
        else:
            phone = f"0151 {index % 100_000_000:08d}"
        buffer.append(f'"Customer {index}",{phone},{tiers[index % 4]},"vip;import",Berlin,{index % 50}\n')
        if len(buffer) >= 2000:
            yield "".join(buffer).encode()
            buffer = []
    yield "".join(buffer).encode()


class Command(BaseCommand):
    help = "Import a generated CSV of contacts and report rows per second and peak memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument(
            "--no-trace", action="store_true", help="skip tracemalloc (faster, no heap figure)"
        )
        parser.add_argument("--fresh", action="store_true", help="drop the benchmark tenant first")
        parser.add_argument("--drop", action="store_true", help="drop the benchmark tenant at the end")
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        platform_migrate_if_needed(log=self.stderr.write)
        log = self.stderr.write
        tenant = Tenant.objects.filter(slug=SLUG).first()
        if tenant is not None and options["fresh"]:
            tenant_delete(tenant=tenant, confirm=SLUG)
            tenant = None
        if tenant is None:
            log("Creating the benchmark tenant...")
            tenant = tenant_create(slug=SLUG, name="Contacts import benchmark").tenant
        try:
            with schema_context(tenant.schema_name):
                figures = self._run(options["rows"], trace=not options["no_trace"], log=log)
        finally:
            connection.set_schema_to_public()
            if options["drop"]:
                tenant_delete(tenant=tenant, confirm=SLUG)
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(
            f"Contacts import: {figures['rows']} rows ({figures['file_mb']} MB) in {figures['run_s']} s = "
            f"{figures['rows_per_s']} rows/s (upload {figures['upload_s']} s)\n"
            f"  created {figures['created']}, updated {figures['updated']}, rows with errors {figures['errors']}\n"
            f"  peak Python heap during the run: {figures['peak_heap_mb']} MB (tracemalloc); "
            f"process peak RSS grew by {figures['peak_rss_growth_mb']} MB to {figures['peak_rss_mb']} MB"
        )

    def _run(self, rows: int, *, trace: bool, log: Any) -> dict[str, Any]:
        for key, label, kind in (("city", "City", "text"), ("orders", "Orders", "number")):
            AttributeDefinition.objects.get_or_create(key=key, defaults={"label": label, "type": kind})
        known_before = Contact.objects.count()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        log(f"Uploading {rows} rows ({known_before} contacts known)...")
        started = time.perf_counter()
        job = imports.import_upload(
            chunks=_csv_pieces(rows, seed=rows), filename="bench.csv", created_by="bench"
        )
        upload_s = time.perf_counter() - started
        job.mapping = {
            "0": "profile_name",
            "1": "phone",
            "2": "tier",
            "3": "tags",
            "4": "attr:city",
            "5": "attr:orders",
        }
        job.default_country, job.status = "DE", ImportJob.Status.QUEUED
        job.save()
        log("Running the import...")
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        job = imports.import_run(job=job)
        run_s = time.perf_counter() - started
        peak_heap = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        if job.status != ImportJob.Status.DONE:
            raise RuntimeError(f"The import ended {job.status}: {job.failure}")
        return {
            "rows": job.rows_total,
            "file_mb": round(job.size / 1_048_576, 1),
            "upload_s": round(upload_s, 2),
            "run_s": round(run_s, 2),
            "rows_per_s": round(job.rows_total / run_s),
            "created": job.created_count,
            "updated": job.updated_count,
            "errors": job.error_count,
            "traced": trace,
            "peak_heap_mb": round(peak_heap / 1_048_576, 1) if peak_heap is not None else None,
            "peak_rss_mb": round(rss_after / 1024, 1),
            "peak_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        }
