"""`manage.py bench_send`: template messages through the real send pipeline, measured end to end.

Creates a benchmark tenant with one account, one phone number (at --throughput messages per
second) and an approved template; starts a Graph API simulator (status webhooks off: the webhook
benchmark measures that path) and --workers `send_worker` processes; queues --messages template
messages through the broadcast service (validation, quotas, outbox) and waits until every one
has left. Figures come from the database (drain) and from the simulator's request log (rate per
number, duplicates). Everything it created is removed at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from broadcasts.schemas import BroadcastIn, BroadcastRecipientIn, BroadcastTemplateIn
from broadcasts.services import broadcast_create
from messaging.models import Message
from messaging.status_order import ACCEPTED, IN_OUTBOX
from platform_core.crypto import Secret
from sending.limiter import rate_limiter
from tenants.readiness import platform_migrate_if_needed
from tenants.services import tenant_create, tenant_delete
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount

BASE_DIR = Path(settings.BASE_DIR)
TEMPLATE_BODY = "Hello {{1}}, your order {{2}} is on its way."


class Command(BaseCommand):
    help = "Send template messages through the real pipeline to the simulator and report the rates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=20_000)
        parser.add_argument("--throughput", type=int, default=1000, help="the number's messages per second")
        parser.add_argument("--workers", type=int, default=2, help="send_worker processes")
        parser.add_argument("--threads", type=int, default=None, help="Graph threads per worker")
        parser.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
        parser.add_argument("--simulator-url", default=None, help="use this simulator instead of starting one")
        parser.add_argument(
            "--queue-first",
            action="store_true",
            help="queue every message before starting the workers (measures the send path alone)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object of figures on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        platform_migrate_if_needed(log=self.stderr.write)
        bench = SendBenchmark(
            messages=options["messages"],
            throughput=options["throughput"],
            workers=options["workers"],
            threads=options["threads"],
            timeout=options["timeout"],
            simulator_url=options["simulator_url"],
            queue_first=options["queue_first"],
            log=self.stderr.write,
        )
        figures = bench.run()
        if options["json"]:
            self.stdout.write(json.dumps(figures))
            return
        self.stdout.write(f"Send pipeline: {figures['messages']} template messages, {figures['workers']} workers")
        for name, value in figures.items():
            self.stdout.write(f"  {name:<28} {value}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SendBenchmark:
    def __init__(
        self,
        *,
        messages: int,
        throughput: int,
        workers: int,
        threads: int | None,
        timeout: float,
        simulator_url: str | None,
        log: Any,
        queue_first: bool = False,
    ) -> None:
        self.queue_first = queue_first
        self.messages = messages
        self.throughput = throughput
        self.workers = workers
        self.threads = threads
        self.timeout = timeout
        self.simulator_url = simulator_url
        self.log = log
        self.run_id = uuid.uuid4().hex[:8]
        self.phone_number_id = f"99{int(time.time() * 1000) % 10**11:011d}"
        self.processes: list[subprocess.Popen] = []
        self.logdir = Path(tempfile.mkdtemp(prefix="bench_send_"))

    def run(self) -> dict[str, Any]:
        tenant = None
        try:
            self.log("Starting the Graph API simulator and a benchmark tenant...")
            sim = self._simulator_start()
            tenant = tenant_create(slug=f"bench-send-{self.run_id}", name="Send benchmark").tenant
            with schema_context(tenant.schema_name):
                phone, template = self._account_create()
            self._simulator_seed(sim, phone, template)
            if not self.queue_first:
                self.log(f"Starting {self.workers} send workers...")
                self._workers_start(sim)
            started = time.monotonic()
            self.log(f"Queueing {self.messages} messages...")
            with schema_context(tenant.schema_name):
                self._enqueue(phone, template)
                enqueued = time.monotonic() - started
                self.log(f"queued {self.messages} messages in {enqueued:.1f}s; sending...")
                if self.queue_first:
                    self._workers_start(sim)
                    started = time.monotonic()
                counts = self._wait_for_drain(started)
            drain_s = time.monotonic() - started
            return self._figures(sim, counts, drain_s, enqueued)
        finally:
            self._cleanup(tenant)

    # --- set-up ---------------------------------------------------------------------------------------

    def _simulator_start(self) -> str:
        url = self.simulator_url
        if url is None:
            port = _free_port()
            self._spawn([sys.executable, "-m", "graph_simulator", "--port", str(port)], "simulator")
            url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/_sim/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise CommandError(f"The simulator at {url} did not come up.") from None
                time.sleep(0.1)
        httpx.post(f"{url}/_sim/config", json={"status_webhooks": False}, timeout=5).raise_for_status()
        return url

    def _account_create(self) -> tuple[PhoneNumber, MessageTemplate]:
        account = WhatsAppAccount.objects.create(
            display_name="Benchmark",
            waba_id=f"98{self.phone_number_id[2:]}",
            app_id="970000000000001",
            access_token=Secret(f"EAAbench-{self.run_id}"),
            status=WhatsAppAccount.Status.ACTIVE,
            rate_limit_per_minute=10**9,
            rate_limit_per_day=10**9,
            rate_limit_per_month=10**9,
        )
        phone = PhoneNumber.objects.create(
            account=account,
            phone_number_id=self.phone_number_id,
            e164_number="+12025550100",
            display_phone_number="+1 202-555-0100",
            throughput_mps=self.throughput,
            status="CONNECTED",
            is_registered=True,
        )
        template = MessageTemplate.objects.create(
            account=account,
            name="bench_order_update",
            language="en_US",
            category="UTILITY",
            status="APPROVED",
            components=[{"type": "BODY", "text": TEMPLATE_BODY}],
            variable_count=2,
            parameter_counts={"body": 2},
        )
        return phone, template

    def _simulator_seed(self, url: str, phone: PhoneNumber, template: MessageTemplate) -> None:
        account = phone.account
        seed = {
            "wabas": [
                {
                    "id": account.waba_id,
                    "phone_numbers": [
                        {
                            "id": phone.phone_number_id,
                            "display_phone_number": phone.display_phone_number,
                            "throughput": {"level": "HIGH" if self.throughput > 80 else "STANDARD"},
                        }
                    ],
                }
            ],
            "tokens": [{"token": f"EAAbench-{self.run_id}", "waba_ids": [account.waba_id]}],
            "templates": [
                {
                    "waba_id": account.waba_id,
                    "name": template.name,
                    "language": template.language,
                    "category": template.category,
                    "components": template.components,
                }
            ],
        }
        httpx.post(f"{url}/_sim/seed", json=seed, timeout=10).raise_for_status()

    def _workers_start(self, url: str) -> None:
        env = {"GRAPH_API_BASE_URL": url}
        for index in range(self.workers):
            command = [sys.executable, "manage.py", "send_worker", "--name", f"bench-w{index}"]
            if self.threads:
                command += ["--threads", str(self.threads)]
            self._spawn(command, f"worker{index}", env)
        deadline = time.monotonic() + 30
        while not all("started" in (self.logdir / f"worker{i}.log").read_text() for i in range(self.workers)):
            if time.monotonic() > deadline:
                raise CommandError(f"The workers did not start; see the logs in {self.logdir}.")
            time.sleep(0.1)

    def _spawn(self, command: list[str], name: str, env: dict[str, str] | None = None) -> None:
        log = open(self.logdir / f"{name}.log", "w")  # noqa: SIM115 - lives as long as the process
        self.processes.append(
            subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env={**os.environ, "LOG_LEVEL": "INFO", **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    # --- the run --------------------------------------------------------------------------------------

    def _enqueue(self, phone: PhoneNumber, template: MessageTemplate) -> None:
        """Through the broadcast service: one request per BROADCAST_MAX_RECIPIENTS recipients."""
        chunk = settings.BROADCAST_MAX_RECIPIENTS
        for start in range(0, self.messages, chunk):
            recipients = [
                BroadcastRecipientIn(to=f"+49151{i:08d}", body_parameters=[f"Customer {i}", f"A-{i}"])
                for i in range(start, min(start + chunk, self.messages))
            ]
            request = BroadcastIn(
                phone_number_id=phone.phone_number_id,
                name=f"bench {start}",
                template=BroadcastTemplateIn(name=template.name, language=template.language),
                recipients=recipients,
            )
            broadcast_create(request=request)

    def _wait_for_drain(self, started: float) -> dict[str, int]:
        """Poll the outbox (its partial index makes this cheap) until nothing is left to send."""
        last_report = 0.0
        while True:
            pending = Message.objects.filter(status__in=IN_OUTBOX).count()
            elapsed = time.monotonic() - started
            if pending == 0:
                break
            if elapsed > self.timeout:
                self.log(f"gave up after {self.timeout:.0f}s with {pending} messages pending")
                break
            if elapsed - last_report >= 5:
                self.log(f"  {elapsed:5.1f}s: {pending} pending")
                last_report = elapsed
            time.sleep(0.2)
        return _status_counts()

    def _figures(self, url: str, counts: dict[str, int], drain_s: float, enqueue_s: float) -> dict[str, Any]:
        entries = httpx.get(
            f"{url}/_sim/requests",
            params={"path_contains": f"/{self.phone_number_id}/messages", "method": "POST"},
            timeout=120,
        ).json()["requests"]
        accepted = [e for e in entries if e["status"] == 200]
        per_message = Counter(e["body"]["biz_opaque_callback_data"] for e in accepted)
        walls = sorted(e["received_wall"] for e in accepted)
        per_second = Counter(int(t) for t in walls)
        full_seconds = [per_second[s] for s in sorted(per_second)[1:-1]]
        sent = sum(counts.get(s, 0) for s in ACCEPTED)
        failed = counts.get(Message.Status.FAILED, 0)
        return {
            "messages": self.messages,
            "workers": self.workers,
            "configured_per_number": self.throughput,
            "messages_per_s": round(sent / drain_s, 1),
            "send_phase_per_s": round(len(walls) / max(1e-9, walls[-1] - walls[0]), 1) if len(walls) > 1 else 0,
            "peak_per_number": max(per_second.values(), default=0),
            "peak_per_number_sliding_1s": _sliding_peak(walls, 1.0),
            "sustained_per_number_median": statistics.median(full_seconds) if full_seconds else None,
            "drain_s": round(drain_s, 2),
            "enqueue_s": round(enqueue_s, 2),
            "sent": sent,
            "failed": failed,
            "lost": self.messages - sent - failed,
            "duplicated": sum(count - 1 for count in per_message.values() if count > 1),
            "graph_requests": len(entries),
            "graph_errors": len(entries) - len(accepted),
        }

    # --- clean-up -------------------------------------------------------------------------------------

    def _cleanup(self, tenant: Any) -> None:
        self.log("Stopping the processes and removing the benchmark tenant...")
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if tenant is not None:
            tenant_delete(tenant=tenant, confirm=tenant.slug)
            limiter = rate_limiter()
            limiter.reset(prefix=f"tp:{self.phone_number_id}")
            limiter.reset(prefix=f"pair:{self.phone_number_id}:")
            limiter.reset(prefix=f"q:{tenant.schema_name}:")


def _status_counts() -> dict[str, int]:
    from django.db.models import Count

    rows = Message.objects.order_by().values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}


def _sliding_peak(times: list[float], window: float) -> int:
    peak, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak
