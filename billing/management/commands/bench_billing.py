"""Benchmark metering and period close: `manage.py bench_billing --events 1000000 --tenants 100 [--json]`.

Creates throw-away tenants on one plan, stores `events` delivered and priced outbound messages
spread over them (as the status webhooks leave them), then times metering every tenant (first run,
then an idempotent second run that must meter nothing) and closing every tenant's period. The
tenants, their statements and the plan are dropped afterwards.
"""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.metering import messages_meter
from billing.models import MeteredMessage
from billing.plans.models import Plan, PlanVersion, Statement, StatementLine, Subscription
from billing.plans.periods import period_bounds
from billing.plans.services import plan_create, plan_version_create, subscription_create
from billing.statements import statement_close
from messaging.models import Contact, Conversation, Message
from platform_core.crypto import Secret
from tenants.context import connection
from tenants.models import Tenant
from tenants.services import tenant_create, tenant_delete
from waba.models import PhoneNumber, WhatsAppAccount

# Recipients in several markets, so the rate card is looked up for each.
RECIPIENT_PREFIXES = ("1415555", "4915112", "5511987", "9198765", "6281234", "4477001", "999")
PRICINGS: tuple[dict[str, Any], ...] = (
    {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"},
    {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"},
    {"billable": True, "pricing_model": "PMP", "category": "authentication", "type": "regular"},
    {"billable": False, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"},
    {"billable": False, "pricing_model": "PMP", "category": "marketing", "type": "free_entry_point"},
)
INSERT_BATCH = 5000


class Command(BaseCommand):
    help = "Benchmark metering throughput and period close time over many tenants."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=100_000, help="delivered, priced messages in all")
        parser.add_argument("--tenants", type=int, default=10)
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["json"]

        def log(text: str) -> None:
            if not quiet:
                self.stderr.write(text)

        figures = BillingBenchmark(events=options["events"], tenants=options["tenants"], log=log).run()
        if quiet:
            self.stdout.write(json.dumps(figures))
        else:
            for name, value in figures.items():
                self.stdout.write(f"{name}: {value}")


class BillingBenchmark:
    def __init__(self, *, events: int, tenants: int, log: Any) -> None:
        self.events = events
        self.tenant_count = max(1, tenants)
        self.log = log
        self.run_id = uuid.uuid4().hex[:6]

    def run(self) -> dict[str, Any]:
        tenants: list[Tenant] = []
        plan = None
        try:
            started = time.monotonic()
            plan = plan_create(code=f"bench-{self.run_id}", name="Billing benchmark")
            version = plan_version_create(
                plan=plan,
                terms={
                    "monthly_fee": Decimal("10"),
                    "included_messages": {"marketing": 10},
                    "overage_rates": {"marketing": "0.01"},
                    "overage_policy": PlanVersion.OveragePolicy.BILL,
                    "markup_percent": Decimal("15"),
                },
            )
            for index in range(self.tenant_count):
                tenant = tenant_create(
                    slug=f"bench-bill-{self.run_id}-{index}", name="Billing benchmark"
                ).tenant
                tenants.append(tenant)
                subscription_create(tenant=tenant, plan_version=version)
            self.log(
                f"{len(tenants)} tenants in {time.monotonic() - started:.1f}s; storing {self.events} messages..."
            )
            started = time.monotonic()
            per_tenant = [
                self.events // len(tenants) + (1 if i < self.events % len(tenants) else 0)
                for i in range(len(tenants))
            ]
            for tenant, count in zip(tenants, per_tenant, strict=True):
                with schema_context(tenant.schema_name):
                    self._messages_store(count)
            seeded_s = time.monotonic() - started
            self.log(f"stored in {seeded_s:.1f}s; metering...")

            started = time.monotonic()
            metered = 0
            for tenant in tenants:
                with schema_context(tenant.schema_name):
                    metered += messages_meter()
            meter_s = time.monotonic() - started
            started = time.monotonic()
            again = 0
            for tenant in tenants:
                with schema_context(tenant.schema_name):
                    again += messages_meter()
            meter_again_s = time.monotonic() - started
            self.log(f"metered {metered} in {meter_s:.1f}s; closing periods...")

            start, end = period_bounds(anchor_day=1, at=timezone.now())
            started = time.monotonic()
            statements = [statement_close(tenant=t, period_start=start, period_end=end) for t in tenants]
            close_s = time.monotonic() - started
            started = time.monotonic()
            repeated = [statement_close(tenant=t, period_start=start, period_end=end) for t in tenants]
            close_again_s = time.monotonic() - started
            with schema_context(tenants[0].schema_name):
                rows_in_first = MeteredMessage.objects.count()
            return {
                "events": self.events,
                "tenants": len(tenants),
                "seed_s": round(seeded_s, 2),
                "metered": metered,
                "meter_s": round(meter_s, 3),
                "meter_per_s": round(metered / meter_s) if meter_s else None,
                "meter_again_metered": again,
                "meter_again_s": round(meter_again_s, 3),
                "close_s": round(close_s, 3),
                "close_per_tenant_ms": round(close_s * 1000 / len(tenants), 1),
                "close_again_s": round(close_again_s, 3),
                "close_again_same": [s.pk for s in statements] == [s.pk for s in repeated],
                "metered_rows_first_tenant": rows_in_first,
                "statement_lines": StatementLine.objects.filter(statement__in=statements).count(),
            }
        finally:
            self._clean_up(tenants, plan)

    def _messages_store(self, count: int) -> None:
        account = WhatsAppAccount.objects.create(
            display_name="Bench",
            waba_id=f"77{self.run_id}",
            app_id="610000000000001",
            access_token=Secret("EAAbench"),
            status=WhatsAppAccount.Status.ACTIVE,
        )
        phone = PhoneNumber.objects.create(
            account=account,
            phone_number_id=f"78{int(time.time() * 1000) % 10**10:010d}",
            display_phone_number="15550001111",
            e164_number="+15550001111",
        )
        contacts = Contact.objects.bulk_create(
            Contact(wa_id=f"{prefix}{index:05d}") for prefix in RECIPIENT_PREFIXES for index in range(20)
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(contact=contact, phone_number=phone) for contact in contacts
        )
        now = timezone.now()
        schema = connection.schema_name
        for offset in range(0, count, INSERT_BATCH):
            Message.objects.bulk_create(
                [
                    Message(
                        conversation=conversations[i % len(conversations)],
                        contact=contacts[i % len(contacts)],
                        phone_number=phone,
                        direction=Message.Direction.OUTBOUND,
                        wamid=f"wamid.bench.{schema}.{i}",
                        type="template",
                        status=Message.Status.DELIVERED,
                        timestamp=now,
                        sent_at=now,
                        delivered_at=now,
                        pricing=PRICINGS[i % len(PRICINGS)],
                        pricing_category=str(PRICINGS[i % len(PRICINGS)]["category"]),
                    )
                    for i in range(offset, min(count, offset + INSERT_BATCH))
                ],
                batch_size=INSERT_BATCH,
            )

    def _clean_up(self, tenants: list[Tenant], plan: Plan | None) -> None:
        with connection.cursor() as cursor:
            # Inside a caller's transaction (the tests), deferred foreign-key checks would block DROP SCHEMA.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for tenant in tenants:
            for statement in Statement.objects.filter(tenant=tenant):
                StatementLine.objects.filter(statement=statement).delete()
                Statement.objects.filter(pk=statement.pk).delete()
            Subscription.objects.filter(tenant=tenant).delete()
            tenant_delete(tenant=tenant, confirm=tenant.slug)
        if plan is not None:
            PlanVersion.objects.filter(plan=plan).delete()
            plan.delete()
