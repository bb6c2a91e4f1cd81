"""`manage.py bench_send`: template messages through the real send pipeline, measured end to end.

Creates a benchmark tenant with one account, --numbers phone numbers (each at --throughput
messages per second) and an approved template; starts a Graph API simulator (status webhooks off:
the webhook benchmark measures that path; Meta's throughput limit on: a send past a number's rate
in a second is answered 130429) and --workers `send_worker` processes; queues --messages template
messages per number through the broadcast service (validation, quotas, outbox) and waits until
every one has left. Figures come from the database (drain) and from the simulator's request log:
per number, what it sent, its rate over its sending phase and as a share of its configured rate,
the most it sent in any one-second window (never above its rate) and the 130429 answers it got.
Everything it created is removed at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
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
from django.db import connection
from django_tenants.utils import schema_context

from broadcasts.schemas import BroadcastIn, BroadcastRecipientIn, BroadcastTemplateIn
from broadcasts.services import broadcast_create
from messaging.models import Message
from messaging.status_order import ACCEPTED, IN_OUTBOX
from platform_core.counters import SENDS, counter_totals
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
        parser.add_argument("--messages", type=int, default=20_000, help="template messages per number")
        parser.add_argument("--numbers", type=int, default=1, help="phone numbers, each at --throughput")
        parser.add_argument("--throughput", type=int, default=1000, help="each number's messages per second")
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
            numbers=options["numbers"],
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
        self.stdout.write(
            f"Send pipeline: {figures['messages']} template messages from {figures['numbers']} number(s) "
            f"at {figures['configured_per_number']}/s each, {figures['workers']} workers"
        )
        for name, value in figures.items():
            if name != "per_number":
                self.stdout.write(f"  {name:<28} {value}")
        columns = (
            "phone_number_id", "sent", "rate_per_s", "pct_of_configured", "max_1s_window", "refused_130429",
            "handed_back", "reslotted",
        )
        self.stdout.write("  " + "  ".join(f"{c:>17}" for c in columns))
        for row in figures["per_number"]:
            self.stdout.write("  " + "  ".join(f"{row[c]!s:>17}" for c in columns))


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
        numbers: int = 1,
        threads: int | None,
        timeout: float,
        simulator_url: str | None,
        log: Any,
        queue_first: bool = False,
    ) -> None:
        self.queue_first = queue_first
        self.messages_per_number = messages
        self.numbers = numbers
        self.messages = messages * numbers
        self.throughput = throughput
        self.workers = workers
        self.threads = threads
        self.timeout = timeout
        self.simulator_url = simulator_url
        self.log = log
        self.run_id = uuid.uuid4().hex[:8]
        base = int(time.time() * 1000) % 10**10 * 10
        self.phone_number_ids = [f"99{base + index:011d}" for index in range(numbers)]
        self.processes: list[subprocess.Popen] = []
        self.process_names: dict[int, str] = {}
        self.logdir = Path(tempfile.mkdtemp(prefix="bench_send_"))
        self._backend_cpu_first: dict[int, float] | None = None

    def run(self) -> dict[str, Any]:
        tenant = None
        try:
            self.log("Starting the Graph API simulator and a benchmark tenant...")
            sim = self._simulator_start()
            tenant = tenant_create(slug=f"bench-send-{self.run_id}", name="Send benchmark").tenant
            with schema_context(tenant.schema_name):
                phones, template = self._account_create()
            self._simulator_seed(sim, phones, template)
            if not self.queue_first:
                self.log(f"Starting {self.workers} send workers...")
                self._workers_start(sim)
                cpu_before = self._cpu_by_role()
            started = time.monotonic()
            self.log(f"Queueing {self.messages} messages...")
            with schema_context(tenant.schema_name):
                self._enqueue(phones, template)
                enqueued = time.monotonic() - started
                self.log(f"queued {self.messages} messages in {enqueued:.1f}s; sending...")
                if self.queue_first:
                    self._workers_start(sim)
                    cpu_before = self._cpu_by_role()
                    started = time.monotonic()
                counts = self._wait_for_drain(started)
            drain_s = time.monotonic() - started
            cpu = {role: used - cpu_before[role] for role, used in self._cpu_by_role().items()}
            self._workers_stop()  # each writes its last counts as it stops
            figures = self._figures(sim, counts, drain_s, enqueued)
            load = os.getloadavg()
            return {
                **{k: v for k, v in figures.items() if k != "per_number"},
                "worker_cpu_ms_per_message": round(1000 * cpu["workers"] / max(1, figures["sent"]), 3),
                "simulator_cpu_ms_per_message": round(1000 * cpu["simulator"] / max(1, figures["sent"]), 3),
                "postgres_cpu_ms_per_message": round(1000 * cpu["postgres"] / max(1, figures["sent"]), 3),
                "load_average_1_5_15": [round(x, 2) for x in load],
                "per_number": figures["per_number"],
            }
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
        config = {"status_webhooks": False, "enforce_throughput": True}
        httpx.post(f"{url}/_sim/config", json=config, timeout=5).raise_for_status()
        return url

    def _account_create(self) -> tuple[list[PhoneNumber], MessageTemplate]:
        account = WhatsAppAccount.objects.create(
            display_name="Benchmark",
            waba_id=f"98{self.phone_number_ids[0][2:]}",
            app_id="970000000000001",
            access_token=Secret(f"EAAbench-{self.run_id}"),
            status=WhatsAppAccount.Status.ACTIVE,
            rate_limit_per_minute=10**9,
            rate_limit_per_day=10**9,
            rate_limit_per_month=10**9,
        )
        phones = [
            PhoneNumber.objects.create(
                account=account,
                phone_number_id=phone_number_id,
                e164_number=f"+120255501{index:02d}",
                display_phone_number=f"+1 202-555-01{index:02d}",
                throughput_mps=self.throughput,
                status="CONNECTED",
                is_registered=True,
            )
            for index, phone_number_id in enumerate(self.phone_number_ids)
        ]
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
        return phones, template

    def _simulator_seed(self, url: str, phones: list[PhoneNumber], template: MessageTemplate) -> None:
        account = phones[0].account
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
                        for phone in phones
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

    def _workers_stop(self) -> None:
        workers = [p for p in self.processes if self.process_names[p.pid] != "simulator" and p.poll() is None]
        for process in workers:
            os.killpg(process.pid, signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def _spawn(self, command: list[str], name: str, env: dict[str, str] | None = None) -> None:
        log = open(self.logdir / f"{name}.log", "w")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, "LOG_LEVEL": "INFO", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        self.process_names[process.pid] = name

    def _cpu_by_role(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by the simulator we started, by the workers, and
        by the PostgreSQL backends serving the workers (when the server runs on this machine)."""
        used = {"simulator": 0.0, "workers": 0.0, "postgres": 0.0}
        for process in self.processes:
            role = "simulator" if self.process_names[process.pid] == "simulator" else "workers"
            used[role] += _cpu_s(process.pid)
        # Backends come and go: counted each from the first look (0 at it; a backend that closed
        # in between is left out, one opened since counts in full).
        backends = {pid: _cpu_s(pid) for pid in self._worker_backends()}
        if self._backend_cpu_first is None:
            self._backend_cpu_first = backends
        used["postgres"] = sum(cpu - self._backend_cpu_first.get(pid, 0.0) for pid, cpu in backends.items())
        return used

    def _worker_backends(self) -> list[int]:
        """PostgreSQL backend pids of the workers' connections: every other client of this
        database (the benchmark needs a database of its own for the figure to mean anything)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
            return [pid for (pid,) in cursor.fetchall()]

    # --- the run --------------------------------------------------------------------------------------

    def _enqueue(self, phones: list[PhoneNumber], template: MessageTemplate) -> None:
        """Through the broadcast service: one request per BROADCAST_MAX_RECIPIENTS recipients,
        the numbers taking turns so that they all start sending at once."""
        chunk = settings.BROADCAST_MAX_RECIPIENTS
        for start in range(0, self.messages_per_number, chunk):
            for phone in phones:
                recipients = [
                    BroadcastRecipientIn(to=f"+49151{i:08d}", body_parameters=[f"Customer {i}", f"A-{i}"])
                    for i in range(start, min(start + chunk, self.messages_per_number))
                ]
                request = BroadcastIn(
                    phone_number_id=phone.phone_number_id,
                    name=f"bench {phone.phone_number_id} {start}",
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
        refused = httpx.get(f"{url}/_sim/stats", timeout=30).json()["messages"]
        handed_back = _sends_by_number(self.phone_number_ids, outcome="handed_back")
        reslotted = _sends_by_number(self.phone_number_ids, outcome="reslotted")
        per_number = []
        all_walls: list[float] = []
        duplicated = graph_requests = 0
        for phone_number_id in self.phone_number_ids:
            entries = httpx.get(
                f"{url}/_sim/requests",
                params={"path_contains": f"/{phone_number_id}/messages", "method": "POST"},
                timeout=120,
            ).json()["requests"]
            accepted = [e for e in entries if e["status"] == 200]
            per_message = Counter(e["body"]["biz_opaque_callback_data"] for e in accepted)
            duplicated += sum(count - 1 for count in per_message.values() if count > 1)
            graph_requests += len(entries)
            walls = sorted(e["received_wall"] for e in accepted)
            all_walls += walls
            rate = len(walls) / max(1e-9, walls[-1] - walls[0]) if len(walls) > 1 else 0.0
            per_number.append(
                {
                    "phone_number_id": phone_number_id,
                    "sent": len(walls),
                    "rate_per_s": round(rate, 1),
                    "pct_of_configured": round(100 * rate / self.throughput, 1),
                    "max_1s_window": _sliding_peak(walls, 1.0),
                    "refused_130429": refused.get(phone_number_id, {}).get("rejected", 0),
                    "handed_back": handed_back.get(phone_number_id, 0),
                    "reslotted": reslotted.get(phone_number_id, 0),
                }
            )
        all_walls.sort()
        sent = sum(counts.get(s, 0) for s in ACCEPTED)
        failed = counts.get(Message.Status.FAILED, 0)
        send_phase = all_walls[-1] - all_walls[0] if len(all_walls) > 1 else 0.0
        return {
            "messages": self.messages,
            "numbers": self.numbers,
            "workers": self.workers,
            "configured_per_number": self.throughput,
            "messages_per_s": round(sent / drain_s, 1),
            "send_phase_per_s": round(len(all_walls) / send_phase, 1) if send_phase else 0,
            "min_pct_of_configured": min(row["pct_of_configured"] for row in per_number),
            "max_1s_window_over_rate": max(row["max_1s_window"] for row in per_number) > self.throughput,
            "drain_s": round(drain_s, 2),
            "enqueue_s": round(enqueue_s, 2),
            "sent": sent,
            "failed": failed,
            "lost": self.messages - sent - failed,
            "duplicated": duplicated,
            "graph_requests": graph_requests,
            "graph_errors": graph_requests - len(all_walls),
            "per_number": per_number,
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
            for phone_number_id in self.phone_number_ids:
                limiter.reset(prefix=f"tp:{phone_number_id}")
                limiter.reset(prefix=f"pair:{phone_number_id}:")
            limiter.reset(prefix=f"q:{tenant.schema_name}:")


def _status_counts() -> dict[str, int]:
    from django.db.models import Count

    rows = Message.objects.order_by().values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}


def _sends_by_number(phone_number_ids: list[str], *, outcome: str) -> dict[str, int]:
    """The workers' send counters of one outcome per number (written by each worker when it stops):
    `handed_back`, claimed jobs given back to the queue unsent because their slot had passed, or
    `reslotted`, ones that took a new slot instead."""
    totals: dict[str, int] = {}
    for (name, labels_text), value in counter_totals().items():
        labels = json.loads(labels_text)
        if name == SENDS and labels.get("outcome") == outcome and labels["phone_number_id"] in phone_number_ids:
            totals[labels["phone_number_id"]] = int(value)
    return totals


def _cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a running process (Linux /proc); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sliding_peak(times: list[float], window: float) -> int:
    peak, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak
