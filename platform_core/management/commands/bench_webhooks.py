"""Benchmark the webhook path end to end: production server, signed batches, workers, the database.

Starts granian (WSGI, DEBUG off, the production settings) on a free loopback port and
`--workers` webhook worker processes, then posts signed webhook batches from several client
processes with keep-alive connections, each request carrying `--events-per-request` events for a
throw-away tenant: inbound text messages with unique wamids, status updates (sent, delivered,
read) of outbound messages created in bulk beforehand, both, or inbound messages asking for the
main menu of the built-in menus, which the bot answers with a queued reply (`--mix`). It reports
acknowledgement throughput and latency, the journal's backlog (its peak, and how long it took to
drain after the load), then waits until every event is stored and checks that none was lost or
counted twice. Everything it created (tenant, schema, routes, app, journal rows) is deleted at
the end.

`--rate` paces the clients (requests per second in all) instead of posting as fast as answers
come; `--status-ratio` sets how many status POSTs follow each inbound POST in the mixed load.
`--compare-bare` runs the same load a second time against `webhooks.bench_bare_wsgi` (only the
HMAC check and one INSERT into the same journal, served and processed the same way) and reports
the platform's acknowledgement throughput as a share of it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Sum
from django_tenants.utils import schema_context

from automations.models import AutomatedReply
from automations.seeds import builtins_install
from messaging.models import Contact, Conversation, Message, StatusEvent
from platform_core.db import embedded_database_url
from platform_core.heartbeats import WEBHOOK_WORKER
from platform_core.models import ProcessHeartbeat
from tenants.context import connection
from tenants.models import MetaApp, MetaRoute, Tenant
from tenants.readiness import platform_migrate_if_needed
from tenants.services import tenant_create, tenant_delete
from waba.meta import WEBHOOK_SIGNATURE_HEADER
from waba.models import PhoneNumber, WhatsAppAccount
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry
from webhooks.signature import compute_signature

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

BASE_DIR = Path(settings.BASE_DIR)
CONTACTS = 200  # distinct customers the messages come from
STATUSES = ("sent", "delivered", "read")  # each outbound message gets these, each in its own request
MIXES = ("inbound", "statuses", "mixed", "menu")
BARE_WSGI = "webhooks.bench_bare_wsgi:application"
BENCH_QUOTA = 100_000_000  # the workspace's and the account's message quotas during a run


@dataclass(frozen=True)
class Target:
    port: int
    app_id: str
    secret: str
    waba_id: str
    phone_number_id: str
    run_id: str
    mix: str = "inbound"
    events_per_request: int = 2
    outbound: int = 0  # outbound messages the statuses are for
    status_ratio: int = 1  # mixed: status POSTs per inbound POST
    interval_s: float = 0.0  # each connection's time between requests (0: as fast as answered)


def _is_statuses(target: Target, request: int) -> bool:
    """Whether global request number `request` carries statuses (else inbound messages)."""
    return target.mix == "statuses" or (target.mix == "mixed" and request % (target.status_ratio + 1) != 0)


def _status_requests(total: int, mix: str, ratio: int = 1) -> int:
    if mix == "mixed":
        return total - -(-total // (ratio + 1))  # all but the inbound ones: 0, ratio + 1, ...
    return total if mix == "statuses" else 0


def _status_request_index(target: Target, request: int) -> int:
    """How many status POSTs come before status POST number `request` of the run."""
    if target.mix == "statuses":
        return request
    return request - request // (target.status_ratio + 1) - 1


class Command(BaseCommand):
    help = "Post signed webhooks to the production server and measure acknowledgement and processing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=10_000, help="webhook POSTs in total")
        parser.add_argument("--events-per-request", type=int, default=2, help="events per POST")
        parser.add_argument(
            "--mix",
            choices=MIXES,
            default="inbound",
            help="what the POSTs carry: inbound text messages, status updates of outbound "
            "messages, both (--status-ratio), or inbound messages asking for the main menu, which "
            "the bot answers (the built-in menus are installed)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="process_webhooks --batch-size (default: the worker's own)",
        )
        parser.add_argument(
            "--status-ratio", type=int, default=1, help="mixed load: status POSTs per inbound POST (default 1)"
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=0.0,
            help="requests per second in all, paced evenly over the connections (default: as fast as answered)",
        )
        parser.add_argument(
            "--compare-bare",
            action="store_true",
            help="run the same load again against a bare WSGI app (HMAC + one journal INSERT) and compare",
        )
        parser.add_argument("--clients", type=int, default=4, help="client processes")
        parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per client")
        parser.add_argument("--web-workers", type=int, default=2, help="granian worker processes")
        parser.add_argument("--blocking-threads", type=int, default=4, help="granian threads per worker")
        parser.add_argument("--workers", type=int, default=2, help="process_webhooks worker processes")
        parser.add_argument(
            "--drain-timeout",
            type=float,
            default=600.0,
            help="seconds to wait for processing (what is left is reported as still_queued)",
        )
        parser.add_argument(
            "--wsgi",
            default="platform_core.wsgi:application",
            help="WSGI application granian serves (default: the platform's, with the webhook fast path)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        platform_migrate_if_needed(log=self.stderr.write)
        figures = self._bench(options)
        if options["compare_bare"]:
            self.stderr.write("Running the same load against the bare WSGI app (HMAC + one journal INSERT)...")
            bare = self._bench({**options, "wsgi": BARE_WSGI})
            figures = {
                "platform": figures,
                "bare": bare,
                "ack_share_of_bare": round(figures["requests_per_s"] / bare["requests_per_s"], 3),
            }
        self._report(figures, options)

    def _bench(self, options: dict[str, Any]) -> dict[str, Any]:
        run_id = secrets.token_hex(3)
        created = tenant_create(slug=f"bench-webhooks-{run_id}", name="Webhook benchmark")
        tenant = created.tenant
        app_id = f"9{int(time.time() * 1000) % 10**12:012d}"
        status_events = (
            _status_requests(options["requests"], options["mix"], options["status_ratio"])
            * options["events_per_request"]
        )
        connections = options["clients"] * options["connections"]
        target = Target(
            port=_free_port(),
            app_id=app_id,
            secret=secrets.token_hex(16),
            waba_id=f"8{app_id[1:]}",
            phone_number_id=f"7{app_id[1:]}",
            run_id=run_id,
            mix=options["mix"],
            events_per_request=options["events_per_request"],
            outbound=-(-status_events // len(STATUSES)),
            status_ratio=options["status_ratio"],
            interval_s=connections / options["rate"] if options["rate"] else 0.0,
        )
        processes: list[subprocess.Popen] = []
        try:
            self._prepare(tenant, target)
            env = {**_production_env(), "BENCH_APP_ID": target.app_id, "BENCH_APP_SECRET": target.secret}
            self.stderr.write(f"Starting granian and {options['workers']} webhook workers...")
            processes.append(_start_web(target.port, options, env))
            _wait_ready(target.port, processes[0])
            workers = [_start_worker(env, options["batch_size"]) for _ in range(options["workers"])]
            processes += workers
            _wait_workers_ready(workers)
            figures = self._run(tenant, target, options)
        finally:
            for process in processes:
                _stop(process)
            self._clean_up(tenant, created.tenant.slug, target)
        return figures

    # --- set-up and clean-up -------------------------------------------------------------------

    def _prepare(self, tenant: Tenant, target: Target) -> None:
        MetaApp.objects.create(
            app_id=target.app_id, app_secret=target.secret, verify_token=secrets.token_hex(8)
        )
        MetaRoute.objects.create(kind=MetaRoute.Kind.WABA, external_id=target.waba_id, tenant=tenant)
        MetaRoute.objects.create(
            kind=MetaRoute.Kind.PHONE_NUMBER, external_id=target.phone_number_id, tenant=tenant
        )
        with schema_context(tenant.schema_name):
            account = WhatsAppAccount.objects.create(  # the menu mix measures throughput, not quotas
                waba_id=target.waba_id, display_name="Benchmark", status=WhatsAppAccount.Status.ACTIVE,
                rate_limit_per_minute=BENCH_QUOTA, rate_limit_per_day=BENCH_QUOTA, rate_limit_per_month=BENCH_QUOTA,
            )
            phone = PhoneNumber.objects.create(
                account=account, phone_number_id=target.phone_number_id, display_phone_number="15550000000"
            )
            if target.mix == "menu":  # every message asks for the main menu, which the bot sends back
                builtins_install()
            if target.outbound:
                self.stderr.write(f"Creating {target.outbound} outbound messages for the statuses...")
                _outbound_messages_create(target, phone)

    def _clean_up(self, tenant: Tenant, slug: str, target: Target) -> None:
        """Every step runs even if an earlier one failed; a failure is reported, not hidden."""
        connection.set_schema_to_public()
        self.stderr.write("Removing the benchmark tenant, app and journal rows...")
        steps = [
            lambda: WebhookDeadLetter.objects.filter(app_id=target.app_id).delete(),
            lambda: WebhookJournalEntry.objects.filter(app_id=target.app_id).delete(),
            lambda: MetaApp.objects.filter(app_id=target.app_id).delete(),
            lambda: tenant_delete(tenant=tenant, confirm=slug),  # drops the schema; its routes cascade
        ]
        for step in steps:
            try:
                step()
            except Exception as error:  # keep cleaning; say what is left behind
                self.stderr.write(
                    f"Clean-up step failed ({error}); check tenant {slug} and app {target.app_id}."
                )

    # --- the run -------------------------------------------------------------------------------

    def _run(self, tenant: Tenant, target: Target, options: dict[str, Any]) -> dict[str, Any]:
        clients = options["clients"]
        total = options["requests"]
        per_client = [total // clients + (1 if index < total % clients else 0) for index in range(clients)]
        firsts = [sum(per_client[:index]) for index in range(clients)]
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        connection.close()  # the clients are forked: they must not inherit this connection
        started = time.perf_counter()
        children = [
            context.Process(
                target=_client, args=(target, index, first, count, options["connections"], clients, results)
            )
            for index, (first, count) in enumerate(zip(firsts, per_client, strict=True))
        ]
        self.stderr.write(
            f"Posting {total} signed webhooks ({options['mix']}) from {clients} client processes..."
        )
        for child in children:
            child.start()
        backlog = _BacklogWatch(target.app_id, started)
        outcomes: list[dict[str, Any]] = []
        while len(outcomes) < len(children):
            try:
                outcomes.append(results.get(timeout=0.25))
            except queue.Empty:
                if time.perf_counter() - started > 600:
                    raise CommandError("the clients did not finish in 600 s") from None
                backlog.sample()
        for child in children:
            child.join(timeout=30)
        load_s = time.perf_counter() - started
        latencies = sorted(latency for outcome in outcomes for latency in outcome["latencies"])
        failed = sum(outcome["failed"] for outcome in outcomes)
        accepted = len(latencies)
        events_sent = accepted * options["events_per_request"]

        self.stderr.write(
            f"Load done in {load_s:.1f}s; waiting for the workers to store {events_sent} events..."
        )
        processed_at_load_end = self._processed(tenant)
        processed, drained_at = self._wait_processed(tenant, events_sent, options["drain_timeout"], backlog)
        processing_s = drained_at - started
        drain_s = max(0.0, processing_s - load_s)
        with schema_context(tenant.schema_name):
            inbound = Message.objects.filter(direction=Message.Direction.INBOUND).count()
            counted = Conversation.objects.aggregate(total=Sum("message_count"))["total"] or 0
            statuses_waiting = StatusEvent.objects.filter(applied_at__isnull=True).count()
            menu_replies = AutomatedReply.objects.count()  # each queued one is counted in its conversation
            replies_queued = AutomatedReply.objects.filter(outbound_message__status="queued").count()
            replies_refused = dict(
                AutomatedReply.objects.exclude(error_code="").values_list("error_code").annotate(n=Count("id"))
            )
            outbound_not_read = (
                Message.objects.filter(direction=Message.Direction.OUTBOUND).exclude(status="read").count()
            )
        journal = WebhookJournalEntry.objects.filter(app_id=target.app_id)
        # An accepted request is one journal entry with one change, processed all or nothing: what is
        # neither stored nor still in an unfinished entry is lost.
        unfinished = journal.filter(
            state__in=[WebhookJournalEntry.State.PENDING, WebhookJournalEntry.State.PROCESSING]
        ).count()
        pending = unfinished * options["events_per_request"]
        return {
            "mix": options["mix"],
            "requests": total,
            "accepted": accepted,
            "failed_requests": failed,
            "requests_per_s": round(accepted / load_s, 1),
            "p50_ms": round(_percentile(latencies, 50) * 1000, 2),
            "p95_ms": round(_percentile(latencies, 95) * 1000, 2),
            "p99_ms": round(_percentile(latencies, 99) * 1000, 2),
            "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
            "load_s": round(load_s, 2),
            "events_sent": events_sent,
            "events_processed": processed,
            "processed_after_s": round(processing_s, 2),
            "drain_after_load_s": round(drain_s, 2),
            "events_per_s_processed": round(processed / processing_s, 1) if processing_s else None,
            "events_per_s_after_load": (
                round((processed - processed_at_load_end) / drain_s, 1) if drain_s else None
            ),
            "backlog_peak_entries": backlog.peak,
            "backlog_peak_at_s": round(backlog.peak_at, 2),
            "backlog_drained_after_s": round(backlog.drained_at, 2) if backlog.drained_at else None,
            "still_queued": pending,
            "lost": events_sent - processed - pending,
            "duplicated": counted - inbound - menu_replies,
            "statuses_waiting": statuses_waiting,
            "menu_replies_queued": replies_queued,
            "menu_replies_refused": replies_refused,
            "outbound_not_read": outbound_not_read,
            "journal_entries": journal.count(),
            "journal_failed": journal.filter(state=WebhookJournalEntry.State.FAILED).count(),
            "dead_letters": WebhookDeadLetter.objects.filter(app_id=target.app_id).count(),
            "web": f"granian wsgi {options['web_workers']}x{options['blocking_threads']} {options['wsgi']}",
            "webhook_workers": options["workers"],
            "worker_batch_size": options["batch_size"] or "default",
            "clients": f"{clients}x{options['connections']}",
        }

    def _processed(self, tenant: Tenant) -> int:
        """Events stored so far: inbound messages and status updates."""
        with schema_context(tenant.schema_name):
            return (
                Message.objects.filter(direction=Message.Direction.INBOUND).count()
                + StatusEvent.objects.count()
            )

    def _wait_processed(
        self, tenant: Tenant, expected: int, timeout_s: float, backlog: _BacklogWatch
    ) -> tuple[int, float]:
        deadline = time.perf_counter() + timeout_s
        last, last_change = -1, time.perf_counter()
        while True:
            stored = self._processed(tenant)
            backlog.sample()
            now = time.perf_counter()
            if stored >= expected:
                backlog.wait_drained(deadline)  # the last entries finish just after their events are stored
                return stored, now
            if now > deadline or (stored == last and now - last_change > 30):
                return stored, now
            if stored != last:
                if stored // 5_000 != last // 5_000:
                    self.stderr.write(f"  {stored}/{expected} events stored")
                last, last_change = stored, now
            time.sleep(0.1)

    def _report(self, figures: dict[str, Any], options: dict[str, Any]) -> None:
        runs = {"platform": figures["platform"], "bare": figures["bare"]} if "bare" in figures else {"": figures}
        if options["json"]:
            self.stdout.write(json.dumps(figures))
        else:
            self.stdout.write("Webhook benchmark (all data created for it has been removed):")
            names = list(next(iter(runs.values())))
            if len(runs) > 1:
                self.stdout.write(f"  {'':<24} {'platform':>14} {'bare':>14}")
            for name in names:
                self.stdout.write(f"  {name:<24} " + " ".join(f"{str(run[name]):>14}" for run in runs.values()))
            if "ack_share_of_bare" in figures:
                self.stdout.write(f"  {'ack_share_of_bare':<24} {figures['ack_share_of_bare']:>14}")
        for label, run in runs.items():
            where = f" ({label})" if label else ""
            if run["still_queued"]:
                self.stderr.write(f"{run['still_queued']} events were still queued at the drain timeout{where}.")
            if run["lost"] or run["duplicated"]:
                raise CommandError(f"{run['lost']} events lost, {run['duplicated']} counted twice{where}")


class _BacklogWatch:
    """The journal's unfinished entries of this run, sampled: the peak, and when it was last empty."""

    def __init__(self, app_id: str, started: float) -> None:
        self.unfinished = WebhookJournalEntry.objects.filter(
            app_id=app_id, state__in=[WebhookJournalEntry.State.PENDING, WebhookJournalEntry.State.PROCESSING]
        )
        self.started = started
        self.peak, self.peak_at, self.drained_at = 0, 0.0, 0.0
        self.last_sample = 0.0

    def sample(self) -> None:
        now = time.perf_counter()
        if now - self.last_sample < 0.25:
            return
        self.last_sample = now
        count = self.unfinished.count()
        if count > self.peak:
            self.peak, self.peak_at, self.drained_at = count, now - self.started, 0.0
        elif count == 0 and not self.drained_at:
            self.drained_at = now - self.started

    def wait_drained(self, deadline: float) -> None:
        while not self.drained_at and time.perf_counter() < deadline:
            time.sleep(0.05)
            self.last_sample = 0.0
            self.sample()


def _outbound_messages_create(target: Target, phone: PhoneNumber) -> None:
    """The outbound messages the statuses are for (wamids `_status_wamid`), in bulk, status `sending`."""
    contacts = Contact.objects.bulk_create(
        [Contact(wa_id=f"4916{number:09d}", profile_name=f"Bench {number}") for number in range(CONTACTS)]
    )
    conversations = Conversation.objects.bulk_create(
        [Conversation(contact=contact, phone_number=phone) for contact in contacts]
    )
    for offset in range(0, target.outbound, 5_000):
        Message.objects.bulk_create(
            [
                Message(
                    conversation=conversations[index % CONTACTS],
                    contact=contacts[index % CONTACTS],
                    phone_number=phone,
                    direction=Message.Direction.OUTBOUND,
                    wamid=_status_wamid(target, index),
                    type="text",
                    body=f"benchmark reply {index}",
                    status=Message.Status.SENDING,
                )
                for index in range(offset, min(offset + 5_000, target.outbound))
            ]
        )


def _status_wamid(target: Target, message: int) -> str:
    return f"wamid.bench-{target.run_id}-out-{message}"


# --- client processes ---------------------------------------------------------------------------


def _client(
    target: Target, index: int, first: int, count: int, connections: int, clients: int, results: Queue[Any]
) -> None:
    """Post requests `first` to `first + count - 1` signed over `connections` keep-alive connections
    (asyncio, raw HTTP/1.1: a light client, so that the load generator takes as little of the shared
    CPU as it can)."""
    import asyncio

    requests = [
        _request_bytes(target, *_signed_body(target, index, request))
        for request in range(first, first + count)
    ]
    latencies: list[float] = []
    failed = 0

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", target.port)

    async def run(share: list[bytes], offset: int) -> None:
        nonlocal failed
        reader, writer = await connect()
        # Paced: this connection's requests at fixed times, its start staggered among all connections.
        first_at = time.perf_counter() + target.interval_s * (offset * clients + index) / (connections * clients)
        for number, request in enumerate(share):
            if target.interval_s:
                await asyncio.sleep(max(0.0, first_at + number * target.interval_s - time.perf_counter()))
            started = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                ok = head.startswith(b"HTTP/1.1 200")
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
                writer.close()
                reader, writer = await connect()
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1
        writer.close()

    async def main() -> None:
        await asyncio.gather(*(run(requests[offset::connections], offset) for offset in range(connections)))

    asyncio.run(main())
    results.put({"latencies": latencies, "failed": failed})


def _request_bytes(target: Target, body: bytes, signature: str) -> bytes:
    head = (
        f"POST /webhooks/whatsapp/{target.app_id} HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{WEBHOOK_SIGNATURE_HEADER}: {signature}\r\n\r\n"
    )
    return head.encode() + body


def _signed_body(target: Target, client: int, request: int) -> tuple[bytes, str]:
    events = target.events_per_request
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": target.phone_number_id},
    }
    if _is_statuses(target, request):
        value["statuses"] = [_status(target, request, event) for event in range(events)]
    else:
        messages = [_inbound(target, client, request, event) for event in range(events)]
        value["contacts"] = [
            {"profile": {"name": f"Bench {m['from'][-3:]}"}, "wa_id": m["from"]} for m in messages
        ]
        value["messages"] = messages
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": target.waba_id, "changes": [{"field": "messages", "value": value}]}],
    }
    body = json.dumps(payload).encode()
    return body, compute_signature(body, target.secret)


def _inbound(target: Target, client: int, request: int, event: int) -> dict[str, Any]:
    number = (client * 7919 + request * target.events_per_request + event) % CONTACTS
    return {
        "from": f"4915{number:09d}",
        "id": f"wamid.bench-{target.run_id}-{request}-{event}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": "menu" if target.mix == "menu" else f"benchmark message {request}/{event}"},
    }


def _status(target: Target, request: int, event: int) -> dict[str, Any]:
    """Status number n of the run: every message's `sent` first, then every `delivered`, then `read`."""
    status_request = _status_request_index(target, request)
    n = status_request * target.events_per_request + event
    message, step = n % target.outbound, n // target.outbound
    status: dict[str, Any] = {
        "id": _status_wamid(target, message),
        "status": STATUSES[step],
        "timestamp": str(int(time.time()) + step),
        "recipient_id": f"4916{message % CONTACTS:09d}",
    }
    if STATUSES[step] == "sent":
        status["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": "utility",
            "type": "regular",
        }
    return status


# --- server processes ---------------------------------------------------------------------------


def _production_env() -> dict[str, str]:
    """The environment of a production process: DEBUG off, secrets and database passed explicitly."""

    url = settings.DATABASE_URL or embedded_database_url()
    parts = urlsplit(url)
    url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    return {
        **os.environ,
        "DEBUG": "0",
        "DATABASE_URL": url,
        "SECRET_KEY": settings.SECRET_KEY,
        "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
        "LOG_LEVEL": "WARNING",
        **{f"TENANT_RATE_LIMIT_PER_{period}": str(BENCH_QUOTA) for period in ("MINUTE", "DAY", "MONTH")},
    }


def _start_web(port: int, options: dict[str, Any], env: dict[str, str]) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(options["web_workers"]),
        "--blocking-threads",
        str(options["blocking_threads"]),
        "--no-ws",
        "--log-level",
        "warning",
        options["wsgi"],
    ]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True, stdout=subprocess.DEVNULL)


def _start_worker(env: dict[str, str], batch_size: int | None) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "process_webhooks"]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True)


def _wait_ready(port: int, web: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise CommandError(f"granian exited with code {web.returncode}")
        try:
            http = HTTPConnection("127.0.0.1", port, timeout=2)
            http.request("GET", "/webhooks/whatsapp/0", headers={"Host": "localhost"})
            if http.getresponse().status == 404:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise CommandError("granian did not answer in time")


def _wait_workers_ready(workers: list[subprocess.Popen], timeout_s: float = 60.0) -> None:
    """Until every worker wrote its first heartbeat (its loop runs): the load measures workers, not
    their start-up."""
    deadline = time.monotonic() + timeout_s
    beating = ProcessHeartbeat.objects.filter(
        process_type=WEBHOOK_WORKER,
        host=socket.gethostname()[:255],
        pid__in=[worker.pid for worker in workers],
    )
    while beating.count() < len(workers):
        if any(worker.poll() is not None for worker in workers):
            raise CommandError("a webhook worker exited at start")
        if time.monotonic() > deadline:
            raise CommandError("the webhook workers did not start in time")
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(percent) - 1]
