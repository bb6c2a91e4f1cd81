"""`manage.py bench_campaigns --recipients 100000 [--keep] [--json]`: how long a large campaign takes.

In a benchmark tenant (created for the run and dropped after it, unless --keep) with one number and
an approved template, writes --recipients contacts with a `city` attribute, then times, through the same
services as the API: the pre-check, creating the campaign (every recipient validated, its
parameters filled from the contact, every message queued at its slot), reading its figures (what
the progress page and the API show, median of 5), pausing and resuming it. Nothing is sent: the
campaign is scheduled an hour ahead and cancelled at the end.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tenants.utils import schema_context

from broadcasts.campaigns import campaign_create, campaign_pause, campaign_precheck, campaign_resume
from broadcasts.figures import campaign_figures
from broadcasts.schemas import CampaignIn
from broadcasts.services import broadcast_cancel
from messaging.models import Contact
from platform_core.crypto import Secret
from sending.outbox import rows_copy
from tenants.context import connection
from tenants.models import Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.services import tenant_create, tenant_delete
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount

SLUG = "bench-campaigns"
PHONE_NUMBER_ID = "699000000000001"


class Command(BaseCommand):
    help = "Create a campaign to many contacts and report how long checking, queueing and reading it take."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--recipients", type=int, default=100_000)
        parser.add_argument("--keep", action="store_true", help="keep the benchmark tenant (and its rows) at the end")
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        platform_migrate_if_needed(log=self.stderr.write)
        log = self.stderr.write
        earlier = Tenant.objects.filter(slug=SLUG).first()
        if earlier is not None:
            log("Dropping the benchmark tenant an earlier run kept...")
            tenant_delete(tenant=earlier, confirm=SLUG)
        log("Creating the benchmark tenant...")
        tenant = tenant_create(slug=SLUG, name="Campaign benchmark").tenant
        try:
            with schema_context(tenant.schema_name):
                figures = self._run(options["recipients"], log=log)
        finally:
            connection.set_schema_to_public()
            if not options["keep"]:
                log("Dropping the benchmark tenant...")
                tenant_delete(tenant=tenant, confirm=SLUG)
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        rows = [
            ("pre-check", figures["precheck_s"]),
            ("create (validate + queue)", figures["create_s"]),
            ("figures (median of 5)", figures["figures_s"]),
            ("pause", figures["pause_s"]),
            ("resume", figures["resume_s"]),
        ]
        self.stdout.write(
            f"Campaign to {figures['recipients']:,} contacts ({figures['queued']:,} messages queued)"
        )
        for label, seconds in rows:
            self.stdout.write(f"  {label:<28} {seconds:>8.3f} s")
        self.stdout.write(f"  queued per second            {figures['queued_per_s']:>8,}")

    def _run(self, recipients: int, *, log: Any) -> dict[str, Any]:
        phone, template = self._account()
        run = f"run{int(time.time())}"
        log(f"Writing {recipients:,} contacts tagged {run}...")
        self._contacts(recipients, run)
        request = CampaignIn.model_validate(
            {
                "name": f"Benchmark {run}",
                "phone_number_id": phone.phone_number_id,
                "audience": {"tags": [run]},
                "send_at": (timezone.now() + timedelta(hours=1)).isoformat(),
                "variants": [
                    {
                        "template": {"name": template.name, "language": template.language},
                        "body": [
                            {"field": "name", "fallback": "there"},
                            {"attribute": "city", "fallback": "town"},
                        ],
                    }
                ],
            }
        )
        log("Pre-check...")
        started = time.perf_counter()
        campaign_precheck(request=request)
        precheck_s = time.perf_counter() - started
        log("Creating the campaign...")
        started = time.perf_counter()
        broadcast = campaign_create(request=request, created_by="bench")
        create_s = time.perf_counter() - started
        log("Reading its figures...")
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            figures = campaign_figures(broadcast=broadcast)
            timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        campaign_pause(broadcast=broadcast)
        pause_s = time.perf_counter() - started
        started = time.perf_counter()
        campaign_resume(broadcast=broadcast)
        resume_s = time.perf_counter() - started
        broadcast_cancel(broadcast=broadcast, reason="benchmark")
        queued = figures.totals.queued
        return {
            "recipients": recipients,
            "queued": queued,
            "precheck_s": round(precheck_s, 3),
            "create_s": round(create_s, 3),
            "queued_per_s": round(queued / create_s),
            "figures_s": round(statistics.median(timings), 3),
            "pause_s": round(pause_s, 3),
            "resume_s": round(resume_s, 3),
        }

    def _account(self) -> tuple[PhoneNumber, MessageTemplate]:
        phone = PhoneNumber.objects.filter(phone_number_id=PHONE_NUMBER_ID).select_related("account").first()
        if phone is None:
            account = WhatsAppAccount.objects.create(
                display_name="Benchmark",
                waba_id="989000000000001",
                app_id="970000000000001",
                access_token=Secret("EAAbench-campaigns"),
                status=WhatsAppAccount.Status.ACTIVE,
                rate_limit_per_minute=10**9,
                rate_limit_per_day=10**9,
                rate_limit_per_month=10**9,
            )
            phone = PhoneNumber.objects.create(
                account=account,
                phone_number_id=PHONE_NUMBER_ID,
                e164_number="+12025550101",
                display_phone_number="+1 202-555-0101",
                messaging_limit_tier="TIER_UNLIMITED",
                quality_rating="GREEN",
                status="CONNECTED",
                is_registered=True,
            )
        template, _ = MessageTemplate.objects.get_or_create(
            account=phone.account,
            name="bench_winter_sale",
            language="en_US",
            defaults={
                "category": "MARKETING",
                "status": "APPROVED",
                "components": [{"type": "BODY", "text": "Hello {{1}}, our {{2}} store has a winter sale."}],
                "variable_count": 2,
                "parameter_counts": {"body": 2},
            },
        )
        return phone, template

    def _contacts(self, count: int, run: str) -> None:
        start = Contact.objects.count()
        for offset in range(0, count, 10_000):
            rows_copy(
                model=Contact,
                objects=[
                    Contact(
                        wa_id=f"4917{start + index:09d}",
                        profile_name=f"Customer {start + index}",
                        tags=[run],
                        attributes={"city": "Berlin"} if index % 3 else {},
                    )
                    for index in range(offset, min(offset + 10_000, count))
                ],
            )
