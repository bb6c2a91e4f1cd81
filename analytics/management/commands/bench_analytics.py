"""Benchmark: roll-up time for a busy day and dashboard latency over a busy month, in a throwaway tenant."""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from analytics.rollups import usage_day_rollup
from messaging.models import Contact, Conversation, Message
from messaging.status_order import MessageStatus as S
from tenants.context import connection
from tenants.models import Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.services import api_key_create, tenant_create, tenant_delete
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount
from webhooks.journal import webhook_journal_prune
from webhooks.models import WebhookJournalEntry

STATUSES = [S.READ] * 60 + [S.DELIVERED] * 20 + [S.SENT] * 12 + [S.FAILED] * 8
FAILURE_CODES = [131026, 131047, 131049, 130429, 131000]
CATEGORIES = ["marketing", "utility", "service", "authentication"]


class Command(BaseCommand):
    help = "Seed --days of --per-day messages in a new tenant, roll them up, time the analytics API, drop it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=31)
        parser.add_argument("--per-day", type=int, default=10_000)
        parser.add_argument("--numbers", type=int, default=5)
        parser.add_argument("--requests", type=int, default=20)
        parser.add_argument(
            "--journal-rows",
            type=int,
            default=0,
            help="Also time the journal prune over this many old processed webhook journal rows "
            "(it prunes like the real job would: every processed row past the retention).",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(  # noqa: A002
        self,
        *args,
        days: int,
        per_day: int,
        numbers: int,
        requests: int,
        journal_rows: int,
        json: bool,
        **options,
    ) -> None:
        platform_migrate_if_needed(log=self.stderr.write)
        created = tenant_create(
            slug=f"bench-analytics-{int(time.time()) % 100000}", name="Analytics benchmark"
        )
        tenant = created.tenant
        try:
            figures = self._run(tenant, days, per_day, numbers, requests)
            if journal_rows:
                connection.set_schema_to_public()  # the test client left us in the tenant's schema
                self.stderr.write(f"Timing the journal prune over {journal_rows} rows...")
                figures.update(_journal_prune_timing(journal_rows))
            if json:
                self.stdout.write(_dumps(figures))
            else:
                self.stdout.write("Analytics benchmark (throwaway tenant, removed after):")
                for name, value in figures.items():
                    self.stdout.write(f"  {name:<34} {value}")
        finally:
            self.stderr.write("Removing the benchmark tenant...")
            tenant_delete(tenant=tenant, confirm=tenant.slug)

    def _run(self, tenant: Tenant, days: int, per_day: int, numbers: int, requests: int) -> dict:
        first_day = date(2026, 1, 1)
        with schema_context(tenant.schema_name):
            self.stderr.write(f"Seeding {days} days of {per_day} messages...")
            started = time.perf_counter()
            conversations, templates = _seed(first_day, days, per_day, numbers)
            seeded_s = time.perf_counter() - started
            self.stderr.write(f"Seeded in {seeded_s:.1f}s; rolling up {days} days...")
            rollup_times = []
            for offset in range(days):
                started = time.perf_counter()
                usage_day_rollup(day=first_day + timedelta(days=offset))
                rollup_times.append(time.perf_counter() - started)
        key = api_key_create(tenant=tenant, name="bench", created_by="bench_analytics").key
        client = Client(
            HTTP_HOST=tenant.domains.get(is_primary=True).domain, headers={"Authorization": f"Bearer {key}"}
        )
        last_day = first_day + timedelta(days=days - 1)
        url = f"/api/v1/analytics/dashboard?date_from={first_day}&date_to={last_day}"
        self.stderr.write(f"Timing {requests} dashboard requests over the month, then over a live today...")
        with override_settings(ALLOWED_HOSTS=["*"]):
            latencies = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get(url)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.content
            body = response.json()
            live = _live_today_timing(tenant, client, conversations, templates, per_day, requests)
        return {
            "messages": days * per_day,
            "phone_numbers": numbers,
            "seed_s": round(seeded_s, 2),
            "rollup_day_median_s": round(statistics.median(rollup_times), 3),
            "rollup_day_max_s": round(max(rollup_times), 3),
            "rollup_all_days_s": round(sum(rollup_times), 2),
            "dashboard_month_median_ms": round(statistics.median(latencies) * 1000, 1),
            "dashboard_month_max_ms": round(max(latencies) * 1000, 1),
            "dashboard_sent_total": body["totals"]["sent"],
            **live,
        }


def _live_today_timing(
    tenant: Tenant, client: Client, conversations: list, templates: list, per_day: int, requests: int
) -> dict:
    """The default dashboard (last 30 days) with --per-day messages today, not rolled up: today is
    computed from its messages at each request. Then today is rolled up: the figures must not move."""
    today = timezone.now().date()
    with schema_context(tenant.schema_name):
        _seed_messages(conversations, templates, today, 1, per_day, random.Random(9))
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/api/v1/analytics/dashboard")
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
    live = response.json()
    with schema_context(tenant.schema_name):
        usage_day_rollup(day=today)
    rolled_up = client.get("/api/v1/analytics/dashboard").json()
    return {
        "dashboard_live_today_median_ms": round(statistics.median(latencies) * 1000, 1),
        "dashboard_live_today_max_ms": round(max(latencies) * 1000, 1),
        "live_today_sent_total": live["totals"]["sent"],
        "live_equals_rolled_up": live == rolled_up,
    }


def _seed(first_day: date, days: int, per_day: int, numbers: int) -> tuple[list, list]:
    """An account with `numbers` numbers and five templates, and `days` of messages from `first_day`.

    Returns the conversations and templates, for `_seed_messages` to add more days.
    """
    account = WhatsAppAccount.objects.create(waba_id="bench-waba", status="active", access_token="EAA-bench")
    phones = [
        PhoneNumber.objects.create(account=account, phone_number_id=f"bench-phone-{n}")
        for n in range(numbers)
    ]
    templates = [
        MessageTemplate.objects.create(
            account=account, name=f"bench_{n}", language="en_US", category="UTILITY"
        )
        for n in range(5)
    ]
    contacts = Contact.objects.bulk_create(
        [Contact(wa_id=f"4915{n:08d}") for n in range(max(100, per_day // 10))]
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(contact=contact, phone_number=phones[i % numbers])
            for i, contact in enumerate(contacts)
        ]
    )
    _seed_messages(conversations, templates, first_day, days, per_day, random.Random(8))
    return conversations, templates


def _seed_messages(
    conversations: list, templates: list, first_day: date, days: int, per_day: int, rng: random.Random
) -> None:
    serial = Message.objects.count()
    for offset in range(days):
        start = datetime.combine(first_day + timedelta(days=offset), datetime.min.time(), tzinfo=UTC)
        batch = []
        for _ in range(per_day // 2):
            conversation = rng.choice(conversations)
            asked = start + timedelta(seconds=rng.randrange(86_000))
            serial += 2
            batch.append(
                Message(
                    conversation=conversation,
                    contact_id=conversation.contact_id,
                    phone_number_id=conversation.phone_number_id,
                    direction="in",
                    type="text",
                    status=S.RECEIVED,
                    timestamp=asked,
                    wamid=f"bench-{serial}",
                )
            )
            status = rng.choice(STATUSES)
            category = rng.choice(CATEGORIES)
            batch.append(
                Message(
                    conversation=conversation,
                    contact_id=conversation.contact_id,
                    phone_number_id=conversation.phone_number_id,
                    direction="out",
                    type="text",
                    status=status,
                    timestamp=asked + timedelta(seconds=rng.randrange(5, 3_600)),
                    wamid=f"bench-{serial + 1}",
                    error_code=rng.choice(FAILURE_CODES) if status == S.FAILED else None,
                    template=rng.choice(templates) if rng.random() < 0.2 else None,
                    pricing_category=category,
                    conversation_info={
                        "id": f"conv-{conversation.pk}-{offset}",
                        "origin": {"type": category},
                    },
                )
            )
        Message.objects.bulk_create(batch, batch_size=5_000)


def _journal_prune_timing(rows: int) -> dict:
    received = timezone.now() - timedelta(days=30)
    started = time.perf_counter()
    for offset in range(0, rows, 10_000):
        WebhookJournalEntry.objects.bulk_create(
            [
                WebhookJournalEntry(app_id="bench", body=b"{}", received_at=received, state="processed")
                for _ in range(min(10_000, rows - offset))
            ]
        )
    seeded_s = time.perf_counter() - started
    started = time.perf_counter()
    deleted = webhook_journal_prune()
    return {
        "journal_seed_s": round(seeded_s, 2),
        "journal_pruned_rows": deleted,
        "journal_prune_s": round(time.perf_counter() - started, 2),
    }


def _dumps(figures: dict) -> str:
    return json.dumps(figures)
