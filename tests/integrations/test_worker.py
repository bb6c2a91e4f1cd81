"""The worker loop with its thread pool: a slow endpoint holds only its own share of the threads,
so another endpoint's event goes out while the slow one is still answering.

The loop's threads use connections of their own, so the rows are committed (and removed after).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_tenants.utils import schema_context

from integrations.models import Delivery, Endpoint, Event
from integrations.services import endpoint_create, endpoint_test_send
from integrations.worker import deliver_worker_run
from tenants.models import WorkPending
from tests.webhooks.conftest import run_committed

SLOW_S = 2.0


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """Answers /slow after SLOW_S seconds and /fast at once; records (path, arrival time)."""
    arrivals: list[tuple[str, float]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            arrivals.append((self.path, time.monotonic()))
            if self.path == "/slow":
                time.sleep(SLOW_S)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", arrivals
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def committed_endpoints(tenant_a, server, allow_private) -> Iterator[dict[str, int]]:
    base, _ = server

    def create() -> dict[str, int]:
        with schema_context(tenant_a.schema_name):
            slow, _ = endpoint_create(url=f"{base}/slow", event_types=["order.created"])
            fast, _ = endpoint_create(url=f"{base}/fast", event_types=["order.created"])
            for _ in range(4):
                endpoint_test_send(endpoint=slow)
            endpoint_test_send(endpoint=fast)
            return {"slow": slow.pk, "fast": fast.pk}

    def remove() -> None:
        with schema_context(tenant_a.schema_name):
            Event.objects.all().delete()
            Endpoint.objects.all().delete()
        WorkPending.objects.filter(schema_name=tenant_a.schema_name).delete()

    yield run_committed(create)
    run_committed(remove)


def test_a_slow_endpoint_does_not_hold_up_another(tenant_a, server, committed_endpoints):
    _, arrivals = server
    started = time.monotonic()

    def run() -> list[str]:
        def all_done() -> bool:
            with schema_context(tenant_a.schema_name):
                done = not Delivery.objects.exclude(state=Delivery.State.SUCCEEDED).exists()
            return done or time.monotonic() - started > 30

        deliver_worker_run(should_stop=all_done, threads=4, per_endpoint=2, idle_sleep_s=0.05)
        with schema_context(tenant_a.schema_name):
            return list(Delivery.objects.values_list("state", flat=True))

    states = run_committed(run)

    assert states == [Delivery.State.SUCCEEDED] * 5
    fast = [at for path, at in arrivals if path == "/fast"]
    slow = sorted(at for path, at in arrivals if path == "/slow")
    assert len(fast) == 1 and len(slow) == 4
    # Two slow requests at a time (per_endpoint=2): the other two wait for a free slot...
    assert slow[2] - slow[0] >= SLOW_S * 0.9
    # ...while the fast endpoint is served without waiting for any slow answer.
    assert fast[0] - started < SLOW_S
