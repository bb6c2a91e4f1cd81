"""The delivery worker: `manage.py integrations_deliver` runs `deliver_worker_run`; the django-q2
schedule runs `deliver_drain`, the same work bounded in time, as a safety net.

Each pass visits the schemas the work-pending index says have due deliveries (tenants.work_pending)
and claims what is due there, up to the free threads of the pool; an idle platform costs one
query per pass whatever its number of tenants. Attempts run in the pool, so a slow endpoint holds at most its
`per_endpoint` threads while the others keep being served; the loop never waits for them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django_tenants.utils import schema_context

from integrations.delivery import REQUEST_TIMEOUT_S, deliveries_claim, deliveries_next_due, delivery_attempt
from integrations.services import events_prune
from tenants.context import connection
from tenants.jobs import tenant_task, tenants_fan_out
from tenants.work_pending import WorkKind, work_due, work_settle

logger = logging.getLogger(__name__)

THREADS = 16
PER_ENDPOINT = 4
IDLE_SLEEP_S = 1.0
DRAIN_BUDGET_S = 45  # under the schedules' task timeout (tenants.jobs.JOB_TIMEOUT_S)


def events_prune_fan_out() -> int:
    """The schedule's entry point: each active tenant prunes its own delivered events."""
    return len(tenants_fan_out(tenant_events_prune))


@tenant_task
def tenant_events_prune() -> int:
    return events_prune(older_than=timedelta(days=settings.INTEGRATIONS_EVENT_RETENTION_DAYS))


def worker_name() -> str:
    return f"integrations:{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def deliveries_claim_everywhere(
    *, worker: str, limit: int, per_endpoint: int, now: datetime | None = None
) -> list[tuple[str, int]]:
    """(schema, delivery id) of up to `limit` due deliveries, across the active tenants the
    work-pending index names. A tenant that gave fewer than asked is settled in the index: its row
    waits for its next retry or lease end, or goes when nothing is left."""
    claimed: list[tuple[str, int]] = []
    for pending in work_due(kind=WorkKind.DELIVERIES, now=now):
        if len(claimed) >= limit:
            break
        wanted = limit - len(claimed)
        with schema_context(pending.schema_name):
            ids = deliveries_claim(worker=worker, limit=wanted, per_endpoint=per_endpoint, now=now)
            if len(ids) < wanted:
                work_settle(kind=WorkKind.DELIVERIES, version=pending.version, due_at=deliveries_next_due())
        claimed += [(pending.schema_name, pk) for pk in ids]
    return claimed


def delivery_attempt_in(schema: str, delivery_id: int, worker: str, now: datetime | None = None) -> None:
    """One attempt in its tenant's schema; an unexpected error leaves the lease to expire (retried)."""
    try:
        with schema_context(schema):
            delivery_attempt(delivery_id=delivery_id, worker=worker, now=now)
    except Exception:
        logger.exception(
            "Delivery %s in %s failed unexpectedly; it is retried when its lease expires.",
            delivery_id,
            schema,
        )
    finally:
        if threading.current_thread() is not threading.main_thread():
            close_old_connections()


def deliveries_run_once(
    *,
    worker: str | None = None,
    limit: int = 100,
    per_endpoint: int = PER_ENDPOINT,
    now: datetime | None = None,
) -> int:
    """Claim what is due and attempt it here, one after another (tests, the command's --once)."""
    worker = worker or worker_name()
    claimed = deliveries_claim_everywhere(worker=worker, limit=limit, per_endpoint=per_endpoint, now=now)
    for schema, pk in claimed:
        delivery_attempt_in(schema, pk, worker, now)
    connection.set_schema_to_public()
    return len(claimed)


def deliver_worker_run(
    *,
    should_stop: Callable[[], bool],
    threads: int = THREADS,
    per_endpoint: int = PER_ENDPOINT,
    idle_sleep_s: float = IDLE_SLEEP_S,
) -> int:
    """Claim and attempt deliveries until `should_stop()`. Returns how many were attempted."""
    worker = worker_name()
    in_flight: set[Future] = set()
    attempted = 0
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="integrations-deliver") as pool:
        while not should_stop():
            in_flight = {future for future in in_flight if not future.done()}
            free = threads - len(in_flight)
            claimed: list[tuple[str, int]] = []
            if free > 0:
                try:
                    claimed = deliveries_claim_everywhere(
                        worker=worker, limit=free, per_endpoint=per_endpoint
                    )
                except Exception:
                    logger.exception("Claiming webhook deliveries failed; trying again shortly.")
                    connection.close()
                connection.set_schema_to_public()
            for schema, pk in claimed:
                in_flight.add(pool.submit(delivery_attempt_in, schema, pk, worker))
            attempted += len(claimed)
            if not claimed:
                time.sleep(idle_sleep_s)
        _pool_connections_close(pool, threads)
    return attempted


def _pool_connections_close(pool: ThreadPoolExecutor, threads: int) -> None:
    """Close each pool thread's database connection: one task per thread, held by a barrier so
    that every thread takes exactly one."""
    barrier = threading.Barrier(threads)

    def close() -> None:
        connections.close_all()
        try:
            barrier.wait(timeout=REQUEST_TIMEOUT_S * 2)
        except threading.BrokenBarrierError:
            pass

    for _ in range(threads):
        pool.submit(close)


def deliver_drain(budget_s: float = DRAIN_BUDGET_S) -> int:
    """django-q2 task (public schema): deliver what is due for up to `budget_s` seconds."""
    deadline = time.monotonic() + budget_s
    attempted = 0
    while time.monotonic() < deadline:
        done = deliveries_run_once(limit=THREADS)
        if not done:
            break
        attempted += done
    return attempted
