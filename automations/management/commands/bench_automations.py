"""`manage.py bench_automations --schema t_alpha`: coffee orders through the inbound path, measured.

Each simulated customer orders a coffee (Hi, Place Order, Coffee, abc, 2, Checkout, Confirm): seven
inbound messages stored by `messaging.inbound.inbound_message_store`, which dispatches them to the
automation engine, which queues its replies through the send pipeline. Reports messages per
second, latency percentiles and database queries per message. `--batch N` stores each step of N
customers together as the webhook worker does (`inbound_messages_store` in a batch scope); the
latencies are then those of whole batches. Runs inside one transaction in
the named tenant's schema that is rolled back at the end: nothing it wrote remains. With no
tenant to run in (a fresh database), it creates a throwaway tenant and removes it after.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django_tenants.utils import schema_context

from automations.models import CatalogueItem, Order
from automations.seeds import builtins_install
from messaging.inbound import inbound_message_store, inbound_messages_store
from platform_core.batch_memo import batch_scope
from tenants.readiness import platform_migrate_if_needed
from tenants.selectors import customer_tenants
from tenants.services import tenant_create, tenant_delete
from waba.models import PhoneNumber, WhatsAppAccount
from waba.webhook_events import InboundMessage


class Command(BaseCommand):
    help = "Run simulated coffee orders through inbound storage, the automations and send queueing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", default=None, help="tenant schema (default: the first customer tenant)")
        parser.add_argument("--customers", type=int, default=100)
        parser.add_argument("--batch", type=int, default=0,
                            help="store each step of this many customers in one batch, as the webhook worker does")
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        platform_migrate_if_needed(log=self.stderr.write)
        schema = options["schema"] or customer_tenants().values_list("schema_name", flat=True).first()
        throwaway = None
        if options["schema"] and not customer_tenants().filter(schema_name=schema).exists():
            raise CommandError(f"No tenant has the schema {schema!r}.")
        if not schema:
            self.stderr.write("No tenant yet: creating a throwaway tenant for the run...")
            throwaway = tenant_create(slug=f"bench-automations-{uuid.uuid4().hex[:8]}", name="Automations benchmark")
            schema = throwaway.tenant.schema_name
        try:
            self.stderr.write(f"Running {options['customers']} coffee orders in {schema} (rolled back after)...")
            with schema_context(schema), transaction.atomic():
                figures = self._run(options["customers"], batch=options["batch"])
                transaction.set_rollback(True)
        finally:
            if throwaway is not None:
                tenant_delete(tenant=throwaway.tenant, confirm=throwaway.tenant.slug)
        figures = {"schema": schema, **{name: round(value, 1) for name, value in figures.items()}}
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write("Coffee orders through inbound storage and the automations:")
        labels = {"rate": "messages_per_s", "p50": "p50_ms", "p95": "p95_ms", "max": "max_ms",
                  "queries": "statements_per_message"}
        for name, value in figures.items():
            self.stdout.write(f"  {labels.get(name, name):<24} {value}")

    def _run(self, customers: int, *, batch: int = 0) -> dict[str, float]:
        run = uuid.uuid4().hex[:8]
        account = WhatsAppAccount.objects.create(display_name=f"bench {run}", waba_id=f"bench-{run}",
                                                 access_token=None, status=WhatsAppAccount.Status.ACTIVE)
        phone = PhoneNumber.objects.create(account=account, phone_number_id=f"bench-{run}",
                                           display_phone_number="15550000000")
        builtins_install(changed_by="bench")
        coffee = CatalogueItem.objects.get(name="Coffee").pk
        script = [
            ("text", {"body": "Hi"}),
            ("interactive", {"kind": "button_reply", "id": "place_order", "title": "Place Order"}),
            ("interactive", {"kind": "list_reply", "id": f"item:{coffee}", "title": "Coffee"}),
            ("text", {"body": "abc"}),
            ("text", {"body": "2"}),
            ("interactive", {"kind": "button_reply", "id": "checkout", "title": "Checkout"}),
            ("interactive", {"kind": "button_reply", "id": "confirm", "title": "Confirm"}),
        ]
        def event(customer: int, step: int) -> InboundMessage:
            kind, content = script[step]
            return InboundMessage(
                phone_number_id=phone.phone_number_id, display_phone_number="15550000000",
                waba_id=account.waba_id, wa_id=f"49151{customer:08d}", profile_name=f"Bench {customer}",
                wamid=f"wamid.bench-{run}-{customer}-{step}", timestamp=datetime.now(tz=UTC),
                type=kind, content=content, context=None, raw={},
            )

        latencies, statements = [], 0
        orders_before = Order.objects.count()
        groups = [range(first, min(first + (batch or 1), customers)) for first in range(0, customers, batch or 1)]
        for group in groups:
            for step in range(len(script)):
                counter = _StatementCounter()
                started = time.perf_counter()
                with connection.execute_wrapper(counter):
                    if batch:
                        with transaction.atomic(), batch_scope():
                            inbound_messages_store(events=[event(customer, step) for customer in group])
                    else:
                        inbound_message_store(event=event(group[0], step), phone_number=phone)
                latencies.append((time.perf_counter() - started) * 1000)
                statements += counter.count
        messages = customers * len(script)
        latencies.sort()
        return {
            "messages": messages,
            "orders": Order.objects.count() - orders_before,
            "rate": messages / (sum(latencies) / 1000),
            "p50": statistics.median(latencies),
            "p95": latencies[max(int(len(latencies) * 0.95) - 1, 0)],
            "max": latencies[-1],
            "queries": statements / messages,
        }


class _StatementCounter:
    """Counts the SQL statements sent (django-tenants' `SET search_path` included)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)
