"""Benchmark: what an idle platform costs the database, with 10, 1,000 or 10,000 tenants.

For each size it brings the benchmark's tenants up to that number, then counts the SQL statements
the idle platform issues: the send worker, the webhook delivery worker and the webhook worker each
run for `--seconds`, and every schedule's fan-out runs once (its statements divided by its
interval give statements per second; the JSON also gives the tasks it queued); the hourly and
daily schedules that still visit every tenant are shown apart (`infrequent`). It also times the
platform console's account-health page and the platform API's account-health list.
`--legacy` measures the discovery as it was before the work-pending index too (every loop and
fan-out visiting every active tenant), up to `--legacy-max` tenants.

Idle tenants: signed up, no WhatsApp account, nothing to send or receive; their health summary
says so (no accounts), as the health checks leave it after their first visit. `--with-accounts`
of them (the same ones at every size, 10 by default, one unhealthy) have an account each, so the
work that follows accounts is the same at every size. The two account-health lists are timed
with every tenant listed (an account each, one in ten unhealthy), their worst case.

Cheap tenants: a Tenant row and an empty schema each, created in set-based statements; with
`--legacy`, each schema also gets the few tables the old per-tenant visits query (copied from the
template schema's definitions with CREATE TABLE ... LIKE), never the whole template. The
index-driven loops never enter a schema that has no work, so they need nothing more. Every
benchmark tenant (rows, schemas, summaries) is removed at the end unless --keep.

Statements are counted in this process: every statement through Django's cursors
(`connection.execute_wrapper`) plus each `SET search_path` a schema switch issues.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection as django_connection
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tenants.postgresql_backend.base import DatabaseWrapper
from django_tenants.utils import get_public_schema_name, schema_context

from alerts.tasks import incidents_sweep_fan_out, tenant_incidents_sweep
from analytics.tasks import (
    health_checks_fan_out,
    health_logs_prune_fan_out,
    tenant_health_checks_enqueue,
    usage_rollup_daily_fan_out,
    usage_rollup_hourly_fan_out,
)
from audit.tasks import audit_prune_fan_out
from automations.tasks import conversation_states_expire_fan_out, conversation_states_expire_task
from billing.tasks import messages_meter_fan_out, messages_meter_task
from broadcasts.tasks import campaigns_finish_fan_out, tenant_campaigns_finish
from integrations.delivery import deliveries_claim
from integrations.worker import (
    deliver_worker_run,
    deliveries_claim_everywhere,
    events_prune_fan_out,
    worker_name,
)
from messaging.media_tasks import media_due_keep, media_due_keep_fan_out, media_expire_fan_out
from sending.tasks import stuck_messages_reconcile_fan_out, tenant_stuck_messages_reconcile
from sending.worker import SendWorker
from tenants.jobs import tenants_fan_out
from tenants.models import AccountHealthEntry, AccountHealthSummary, ApiKey, Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.selectors import active_tenants
from tenants.services import api_key_create
from waba.tasks import live_accounts_sync_fan_out
from webhooks.tasks import event_logs_prune_fan_out, webhook_worker_run

PREFIX = "t_benchidle_"
SLUG_PREFIX = "bench-idle-"
# The tables the old per-tenant visits read (send sweep, reconcile, delivery claims).
LEGACY_TABLES = (
    "waba_whatsappaccount",
    "waba_phonenumber",
    "messaging_message",
    "messaging_statusevent",
    "integrations_endpoint",
    "integrations_delivery",
)
HEALTH_PAGE_STAFF = "bench-idle-staff"
API_KEY_NAME = "bench-idle"


class StatementCounter:
    """Statements this process sends on the current thread's connection, schema switches included."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)

    @contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        original = DatabaseWrapper._handle_search_path
        counter = self

        def handle_search_path(wrapper: DatabaseWrapper, cursor: Any = None) -> None:
            before = wrapper.search_path_set_schemas
            original(wrapper, cursor)
            if wrapper.search_path_set_schemas is not before and wrapper.search_path_set_schemas is not None:
                counter.count += 1

        DatabaseWrapper._handle_search_path = handle_search_path
        try:
            with django_connection.execute_wrapper(self):
                yield self
        finally:
            DatabaseWrapper._handle_search_path = original


def counted(action: Callable[[], object]) -> tuple[int, float]:
    counter = StatementCounter()
    started = time.perf_counter()
    with counter.counting():
        action()
    return counter.count, time.perf_counter() - started


def _count(queued: object) -> int:
    """How many tasks a fan-out queued: it returns their number or their ids."""
    if isinstance(queued, list | tuple):
        return len(queued)
    return queued if isinstance(queued, int) else 0


def _recording(fan_out: Callable[[], object], into: list[object]) -> Callable[[], None]:
    """`fan_out`, keeping what it returns in `into`."""

    def run() -> None:
        into.append(fan_out())

    return run


def rolled_back(action: Callable[[], object]) -> Callable[[], None]:
    """Run `action` in a transaction that is rolled back: fan-outs enqueue nothing for real."""

    def run() -> None:
        with transaction.atomic():
            action()
            transaction.set_rollback(True)

    return run


# The frequent schedules: (name, minutes, the fan-out now, the fan-out as it was).
def _legacy_reconcile() -> int:
    return len(tenants_fan_out(tenant_stuck_messages_reconcile))


def _legacy_campaigns() -> int:
    return len(tenants_fan_out(tenant_campaigns_finish))


def _legacy_media() -> int:
    return len(tenants_fan_out(media_due_keep))


def _legacy_states() -> int:
    return len(tenants_fan_out(conversation_states_expire_task))


def _legacy_alerts() -> int:
    return len(tenants_fan_out(tenant_incidents_sweep))


def _legacy_meter() -> int:
    return len(tenants_fan_out(messages_meter_task))


def _legacy_health() -> int:
    return len(tenants_fan_out(tenant_health_checks_enqueue))


SCHEDULES: list[tuple[str, int, Callable[[], object], Callable[[], object] | None]] = [
    ("campaigns-finish", 1, campaigns_finish_fan_out, _legacy_campaigns),
    ("stuck-messages-reconcile", 5, stuck_messages_reconcile_fan_out, _legacy_reconcile),
    ("media-keep-due", 2, media_due_keep_fan_out, _legacy_media),
    ("conversation-states-expire", 5, conversation_states_expire_fan_out, _legacy_states),
    ("alerts-sweep", settings.ALERTS_SWEEP_INTERVAL_MINUTES, incidents_sweep_fan_out, _legacy_alerts),
    ("billing-meter", 15, messages_meter_fan_out, _legacy_meter),
    (
        "account-health-checks",
        max(settings.HEALTH_CHECK_INTERVAL_MINUTES, 1),
        health_checks_fan_out,
        _legacy_health,
    ),
]


# The hourly and daily schedules that still visit every active tenant: (name, minutes, the fan-out).
# Measured and shown apart, not in the total of the frequent ones above.
INFREQUENT_SCHEDULES: list[tuple[str, int, Callable[[], object]]] = [
    ("usage-rollup-hourly", 60, usage_rollup_hourly_fan_out),
    ("waba-sync", 360, live_accounts_sync_fan_out),
    ("usage-rollup-daily", 1440, usage_rollup_daily_fan_out),
    ("health-logs-prune", 1440, health_logs_prune_fan_out),
    ("audit-prune", 1440, audit_prune_fan_out),
    ("media-retention", 1440, media_expire_fan_out),
    ("integrations-events-prune", 1440, events_prune_fan_out),
    ("webhook-event-log-prune", 1440, event_logs_prune_fan_out),
]


class Command(BaseCommand):
    help = "Count the statements per second an idle platform issues at several numbers of tenants."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenants", default="10,1000,10000", help="comma-separated numbers of tenants")
        parser.add_argument("--seconds", type=float, default=10.0, help="how long each loop runs per size")
        parser.add_argument("--legacy", action="store_true", help="also measure the discovery before the index")
        parser.add_argument("--legacy-max", type=int, default=1000, help="largest size measured with --legacy")
        parser.add_argument(
            "--with-accounts", type=int, default=10, help="benchmark tenants that have a WhatsApp account"
        )
        parser.add_argument("--keep", action="store_true", help="keep the benchmark's tenants")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object of figures on stdout"
        )

    def handle(
        self,
        *args: Any,
        tenants: str,
        seconds: float,
        legacy: bool,
        legacy_max: int,
        with_accounts: int,
        keep: bool,
        as_json: bool,
        **options: Any,
    ) -> None:
        try:
            sizes = sorted({int(size) for size in tenants.split(",") if size.strip()})
        except ValueError:
            raise CommandError("--tenants takes numbers separated by commas, e.g. 10,1000,10000") from None
        if not sizes or sizes[0] < 1 or seconds <= 0 or with_accounts < 0:
            raise CommandError("--tenants must be positive numbers, --seconds above 0, --with-accounts 0 or more.")
        self.with_accounts = with_accounts
        platform_migrate_if_needed(log=self.stderr.write)
        others = active_tenants().exclude(schema_name__startswith=PREFIX).count()
        if others:
            self.stderr.write(f"Note: {others} other active tenant(s) exist and are measured with the benchmark's.")
        results = []
        try:
            for size in sizes:
                with_tables = legacy and size <= legacy_max
                self._tenants_ensure(size, with_tables=with_tables)
                results.append(self._measure(size, seconds=seconds, legacy=with_tables))
            if as_json:
                self.stdout.write(json.dumps({"seconds": seconds, "results": results}, indent=2))
            else:
                self._table(results)
        finally:
            if not keep:
                self._cleanup()

    # --- tenants ---------------------------------------------------------------------------------

    def _tenants_ensure(self, size: int, *, with_tables: bool) -> None:
        existing = set(Tenant.objects.filter(schema_name__startswith=PREFIX).values_list("schema_name", flat=True))
        wanted = [f"{PREFIX}{n:05}" for n in range(size)]
        missing = [schema for schema in wanted if schema not in existing]
        started = time.perf_counter()
        now = timezone.now()
        # Exactly `size` of them active, with a health summary each (kept from a larger size: suspended).
        ours = Tenant.objects.filter(schema_name__startswith=PREFIX)
        ours.exclude(schema_name__in=wanted).update(status=Tenant.Status.SUSPENDED)
        ours.filter(schema_name__in=wanted).update(status=Tenant.Status.ACTIVE)
        AccountHealthSummary.objects.filter(schema_name__startswith=PREFIX).exclude(schema_name__in=wanted).delete()
        for offset in range(0, len(missing), 1000):
            batch = missing[offset : offset + 1000]
            with transaction.atomic(), django_connection.cursor() as cursor:
                cursor.execute("; ".join(f'CREATE SCHEMA IF NOT EXISTS "{schema}"' for schema in batch))
                Tenant.objects.bulk_create(
                    [
                        Tenant(schema_name=schema, slug=schema.replace("t_benchidle_", SLUG_PREFIX), name=schema)
                        for schema in batch
                    ]
                )
            self.stderr.write(f"  {len(existing) + offset + len(batch)} benchmark tenants")
        # Every tenant has been visited by the health checks once: each has its summary.
        AccountHealthSummary.objects.bulk_create(
            [
                AccountHealthSummary(schema_name=schema, accounts=0, worst_quality_rank=4, updated_at=now)
                for schema in wanted
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        self._accounts_listed(wanted[: self.with_accounts])
        if with_tables:
            self._legacy_tables_ensure(wanted)
        if missing or with_tables:
            self.stderr.write(f"{size} tenants ready in {time.perf_counter() - started:.1f} s")

    def _legacy_tables_ensure(self, schemas: list[str]) -> None:
        template = settings.TENANT_BASE_SCHEMA
        with django_connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_schema LIKE %s "
                "AND table_name = %s",
                [PREFIX + "%", LEGACY_TABLES[-1]],
            )
            ready = {row[0] for row in cursor.fetchall()}
        todo = [schema for schema in schemas if schema not in ready]
        for offset in range(0, len(todo), 100):
            with transaction.atomic(), django_connection.cursor() as cursor:
                cursor.execute(
                    "; ".join(
                        f'CREATE TABLE "{schema}".{table} (LIKE "{template}".{table} INCLUDING ALL)'
                        for schema in todo[offset : offset + 100]
                        for table in LEGACY_TABLES
                    )
                )
            self.stderr.write(f"  legacy tables in {min(offset + 100, len(todo))}/{len(todo)} schemas")

    def _cleanup(self) -> None:
        self.stderr.write("Removing the benchmark's tenants...")
        schemas = list(Tenant.objects.filter(schema_name__startswith=PREFIX).values_list("schema_name", flat=True))
        for offset in range(0, len(schemas), 50):  # dropping a schema locks each of its tables
            batch = schemas[offset : offset + 50]
            with transaction.atomic(), django_connection.cursor() as cursor:
                cursor.execute("; ".join(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' for schema in batch))
                AccountHealthSummary.objects.filter(schema_name__in=batch).delete()
                Tenant.objects.filter(schema_name__in=batch).delete()
        User.objects.filter(username=HEALTH_PAGE_STAFF).delete()
        ApiKey.objects.filter(tenant=None, name=API_KEY_NAME).delete()

    # --- measuring -------------------------------------------------------------------------------

    def _measure(self, size: int, *, seconds: float, legacy: bool) -> dict[str, Any]:
        self.stderr.write(f"Measuring {size} tenants ({seconds:g} s per loop)...")
        result: dict[str, Any] = {"tenants": size, "now": self._loops_now(seconds, start_up=legacy)}
        result["infrequent"] = self._infrequent_schedules()
        if legacy:
            self.stderr.write(f"Measuring {size} tenants the way it was before the index...")
            result["before"] = self._loops_before(seconds)
        listed = [f"{PREFIX}{n:05}" for n in range(size)]
        self._accounts_listed(listed)
        with django_connection.cursor() as cursor:  # as autovacuum leaves them after a bulk write
            cursor.execute(
                f"VACUUM ANALYZE {AccountHealthSummary._meta.db_table}, {AccountHealthEntry._meta.db_table}"
            )
        try:
            result["health_page_ms"] = self._health_page_ms()
            result["health_api_ms"] = self._health_api_ms()
        finally:
            self._accounts_listed(listed[: self.with_accounts], unlisted=listed[self.with_accounts :])
        return result

    def _accounts_listed(self, schemas: list[str], *, unlisted: list[str] | None = None) -> None:
        """Give each of `schemas` one account in its summary (one in ten unhealthy: its schema ends in
        7) and in the account entries; `unlisted` go back to no account."""
        now = timezone.now()
        tenants = dict(Tenant.objects.filter(schema_name__in=schemas).values_list("schema_name", "pk"))
        with transaction.atomic():
            AccountHealthSummary.objects.filter(schema_name__in=schemas).update(
                accounts=1, worst_quality="GREEN", worst_quality_rank=3, last_checked_at=now, updated_at=now
            )
            AccountHealthSummary.objects.filter(schema_name__in=schemas, schema_name__endswith="7").update(
                unhealthy=1
            )
            AccountHealthEntry.objects.bulk_create(
                [
                    AccountHealthEntry(
                        tenant_id=tenant_id,
                        account_id=1,
                        waba_id=f"9{tenant_id:014}",
                        display_name=schema,
                        status="unhealthy" if schema.endswith("7") else "active",
                        status_reason="Access token invalid" if schema.endswith("7") else "",
                        worst_quality="GREEN",
                        last_checked_at=now,
                        last_check_healthy=not schema.endswith("7"),
                        phone_numbers=[
                            {
                                "phone_number_id": f"8{tenant_id:014}",
                                "display_phone_number": "+1 555 0100",
                                "quality_rating": "GREEN",
                                "messaging_limit_tier": "TIER_1K",
                                "status": "CONNECTED",
                            }
                        ],
                        health_rank=0 if schema.endswith("7") else 3,
                    )
                    for schema, tenant_id in tenants.items()
                ],
                ignore_conflicts=True,
                batch_size=1000,
            )
            if unlisted:
                AccountHealthSummary.objects.filter(schema_name__in=unlisted).update(
                    accounts=0, unhealthy=0, worst_quality="", worst_quality_rank=4, last_checked_at=None
                )
                AccountHealthEntry.objects.filter(tenant__schema_name__in=unlisted).delete()

    def _loops_now(self, seconds: float, *, start_up: bool) -> dict[str, float | None]:
        """`start_up`: also count the send worker's one-time check of every tenant (it enters each
        schema, so only where the schemas have their tables)."""
        worker = SendWorker(threads=2, name="bench-idle")
        start_up_statements: int | None = None
        if start_up:
            start_up_statements, _ = counted(lambda: self._send_start_up(worker))
        worker._unindexed = []
        send, took = counted(lambda: worker.run(max_seconds=seconds, listen=False))
        deadline = time.monotonic() + seconds
        deliver, _ = counted(lambda: deliver_worker_run(should_stop=lambda: time.monotonic() >= deadline))
        deadline_hooks = time.monotonic() + seconds
        hooks, _ = counted(lambda: webhook_worker_run(should_stop=lambda: time.monotonic() >= deadline_hooks))
        figures: dict[str, float | None] = {
            "send_worker_per_s": send / took,
            "send_worker_start_up_statements": start_up_statements,
            "deliver_worker_per_s": deliver / seconds,
            "webhook_worker_per_s": hooks / seconds,
        }
        figures.update(self._schedules(legacy=False))
        figures["total_per_s"] = sum(value or 0.0 for key, value in figures.items() if key.endswith("_per_s"))
        return figures

    def _send_start_up(self, worker: SendWorker) -> None:
        """The worker's one-time check of every tenant for work the index does not know of."""
        worker._sweep()
        while worker._unindexed:
            worker._sweep()
        worker._cycle_due_tenants()

    def _loops_before(self, seconds: float) -> dict[str, float | None]:
        worker = SendWorker(threads=2, name="bench-idle-before")

        def send_sweeps() -> None:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                next_sweep = time.monotonic() + settings.SEND_SWEEP_INTERVAL_S
                for schema in active_tenants().values_list("schema_name", flat=True):
                    worker._reconcile(schema)
                    with schema_context(schema):
                        worker._cycle(schema)
                time.sleep(max(0.0, next_sweep - time.monotonic()))

        def delivery_passes() -> None:
            deadline = time.monotonic() + seconds
            name = worker_name()
            while time.monotonic() < deadline:
                self._claims_everywhere_before(name)
                time.sleep(1.0)

        try:
            send, send_took = counted(send_sweeps)
            deliver, deliver_took = counted(delivery_passes)
        finally:
            worker._shutdown()
        figures: dict[str, float | None] = {
            "send_worker_per_s": send / send_took,
            "deliver_worker_per_s": deliver / deliver_took,
            "webhook_worker_per_s": None,  # unchanged: it reads only the public journal
        }
        figures.update(self._schedules(legacy=True))
        figures["total_per_s"] = sum(value or 0.0 for key, value in figures.items() if key.endswith("_per_s"))
        return figures

    def _schedules(self, *, legacy: bool) -> dict[str, float | None]:
        figures: dict[str, float | None] = {}
        for name, minutes, now_fan_out, before_fan_out in SCHEDULES:
            fan_out = before_fan_out if legacy and before_fan_out is not None else now_fan_out
            queued: list[object] = []
            statements, _ = counted(rolled_back(_recording(fan_out, queued)))
            figures[f"schedule_{name}_per_s"] = statements / (minutes * 60)
            figures[f"schedule_{name}_tasks"] = float(_count(queued[0]))
        # The delivery drain (every minute): the same claims as the worker's, once.
        if legacy:
            statements, _ = counted(lambda: self._claims_everywhere_before(worker_name()))
        else:
            statements, _ = counted(
                lambda: deliveries_claim_everywhere(worker=worker_name(), limit=16, per_endpoint=4)
            )
        figures["schedule_integrations-deliver-drain_per_s"] = statements / 60
        return figures

    def _infrequent_schedules(self) -> dict[str, float]:
        figures: dict[str, float] = {}
        for name, minutes, fan_out in INFREQUENT_SCHEDULES:
            queued: list[object] = []
            statements, _ = counted(rolled_back(_recording(fan_out, queued)))
            figures[f"schedule_{name}_per_s"] = statements / (minutes * 60)
            figures[f"schedule_{name}_tasks"] = float(_count(queued[0]))
        figures["total_per_s"] = sum(value for key, value in figures.items() if key.endswith("_per_s"))
        return figures

    def _claims_everywhere_before(self, name: str) -> None:
        for schema in active_tenants().values_list("schema_name", flat=True):
            with schema_context(schema):
                deliveries_claim(worker=name, limit=16, per_endpoint=4)

    def _health_page_ms(self) -> float:
        staff, _ = User.objects.get_or_create(username=HEALTH_PAGE_STAFF, defaults={"is_staff": True})
        client = Client(HTTP_HOST=settings.PUBLIC_HOSTS[0])
        client.force_login(staff)
        timings = []
        with schema_context(get_public_schema_name()):
            for page in (1, 2, 1, 2, 1):
                started = time.perf_counter()
                response = client.get(f"/app/health/?page={page}")
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise CommandError(f"The health page answered {response.status_code}.")
        return sorted(timings)[len(timings) // 2]

    def _health_api_ms(self) -> float:
        ApiKey.objects.filter(tenant=None, name=API_KEY_NAME).delete()
        key = api_key_create(tenant=None, name=API_KEY_NAME).key
        client = Client(HTTP_HOST=settings.PUBLIC_HOSTS[0], headers={"Authorization": f"Bearer {key}"})
        timings = []
        with schema_context(get_public_schema_name()):
            for offset in (0, 100, 0, 100, 0):
                started = time.perf_counter()
                response = client.get(f"/api/platform/accounts/health?limit=100&offset={offset}")
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise CommandError(f"The platform API answered {response.status_code}: {response.content[:200]!r}")
        return sorted(timings)[len(timings) // 2]

    # --- output ----------------------------------------------------------------------------------

    def _table(self, results: list[dict[str, Any]]) -> None:
        keys = [key for key in results[0]["now"] if key.endswith("_per_s")]
        sizes = [str(result["tenants"]) for result in results]
        header = f"{'statements per second':<46}" + "".join(f"{size:>14}" for size in sizes)
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for key in keys:
            row = f"{key.removesuffix('_per_s'):<46}"
            for result in results:
                now = result["now"][key]
                before = result.get("before", {}).get(key)
                if key == "webhook_worker_per_s" and "before" in result:
                    before = now  # the same loop before and after
                cell = f"{now:.2f}" if before is None else f"{before:.1f}->{now:.2f}"
                row += f"{cell:>14}"
            self.stdout.write(row)
        self.stdout.write("hourly and daily schedules (not in the total above):")
        for key in [key for key in results[0]["infrequent"] if key.endswith("_per_s")]:
            self.stdout.write(
                f"{key.removesuffix('_per_s'):<46}"
                + "".join(f"{result['infrequent'][key]:>14.2f}" for result in results)
            )
        self.stdout.write(
            f"{'send worker start-up check (statements, once)':<46}"
            + "".join(f"{result['now']['send_worker_start_up_statements'] or '-':>14}" for result in results)
        )
        self.stdout.write(
            f"{'platform health page (ms, median of 5)':<46}"
            + "".join(f"{result['health_page_ms']:>14.1f}" for result in results)
        )
        self.stdout.write(
            f"{'platform API accounts/health (ms, median of 5)':<46}"
            + "".join(f"{result['health_api_ms']:>14.1f}" for result in results)
        )
        if any("before" in result for result in results):
            self.stdout.write("Cells with an arrow: before the work-pending index -> now.")
